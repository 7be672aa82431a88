/**
 * What an npm consumer gets: a real `npm pack` of a clean copy of this tree (prebuilds made only by
 * the prebuilds step, checked by prepack), twice, byte-identical; then `npm install` of the tarball
 * into an empty directory, an import of the library and a run of the CLI. The copy's prebuild is the
 * addon already built here (what prebuildify would produce) so the test does not compile it again;
 * better-sqlite3 gets its binary the way a consumer's prebuild-install does (a prebuilt tarball,
 * here from a local directory instead of GitHub, which CI cannot reach).
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/isolated.js';

function sh(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        cwd,
        env: { ...process.env, npm_config_update_notifier: 'false', ...env },
        timeout: 240_000,
        maxBuffer: 64 << 20,
      },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

async function ok(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const r = await sh(cmd, args, cwd, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.code}:\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

describe('npm pack + install into an empty directory', () => {
  it('packs deterministically what a consumer needs, refuses stray prebuilds; installs, imports, runs', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'ovn-pack-'));
    // 1. A clean copy: the files git knows (tracked and not ignored), nothing built, its own commit.
    const copy = path.join(tmp, 'src');
    const list = (await ok('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root))
      .split('\0')
      .filter((f) => f && existsSync(path.join(root, f)));
    for (const f of list) {
      mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
      copyFileSync(path.join(root, f), path.join(copy, f));
    }
    symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
    const git = (...a: string[]) => ok('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...a], copy);
    await git('init', '-q');
    await git('add', '-A');
    await git('commit', '-qm', 'copy');

    // 2. prebuilds/ as prebuildify leaves it, but not yet stamped by the prebuilds step: pack refuses.
    const addon = readdirSync(path.join(root, 'build/Release')).find((f) => f.endsWith('.node'))!;
    mkdirSync(path.join(copy, 'prebuilds/linux-x64'), { recursive: true });
    copyFileSync(path.join(root, 'build/Release', addon), path.join(copy, 'prebuilds/linux-x64/node.napi.glibc.node'));
    const stray = await sh('npm', ['pack', '--json', '--pack-destination', tmp], copy);
    expect(stray.code).not.toBe(0);
    expect(stray.stderr).toContain('refusing to pack prebuilds/: it has no MANIFEST.json');
    await ok(process.execPath, ['.ci/prebuilds.mjs', 'stamp'], copy);
    // This machine's build needs a newer glibc than Node 20 does: refused unless the floor is raised.
    const manifest = JSON.parse(readFileSync(path.join(copy, 'prebuilds/MANIFEST.json'), 'utf8')) as {
      files: Record<string, { glibc: string | null }>;
    };
    const glibc = manifest.files['linux-x64/node.napi.glibc.node'].glibc!;
    expect(glibc).toMatch(/^2\.\d+$/);
    const floor = await sh(process.execPath, ['.ci/prebuilds.mjs', 'check'], copy, {
      OVERNIGHT_PREBUILD_MAX_GLIBC: '2.17',
    });
    expect(floor.code).toBe(1);
    expect(floor.stderr).toContain(`needs GLIBC_${glibc}, newer than 2.17`);

    // 3. Pack twice: the same bytes.
    const env = { OVERNIGHT_PREBUILD_MAX_GLIBC: glibc };
    const pack = async () =>
      (
        JSON.parse(await ok('npm', ['pack', '--json', '--pack-destination', tmp], copy, env)) as {
          filename: string;
          integrity: string;
          files: { path: string }[];
        }[]
      )[0];
    const first = await pack();
    const firstBytes = readFileSync(path.join(tmp, first.filename));
    const second = await pack();
    expect(second.integrity).toBe(first.integrity);
    expect(readFileSync(path.join(tmp, second.filename)).equals(firstBytes)).toBe(true);
    const files = new Set(first.files.map((f) => f.path));
    for (const f of [
      'LICENSE',
      'README.md',
      'package.json',
      'bin/overnight.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      // generated by scripts/build-validators.mjs in prepare, after prepack removed dist/
      'dist/mcp/tools/health-check-output.validate.js',
      // and by scripts/bundle-health.mjs: `overnight health` runs from it
      'dist/health-oneshot.bundle.js',
      'prebuilds/linux-x64/node.napi.glibc.node',
      'prebuilds/MANIFEST.json',
      'binding.gyp',
      'CMakeLists.txt',
      'examples/systemd/overnight-monitor.service',
      'examples/kubernetes/overnight-plugin-monitor.json',
    ]) {
      expect(files, f).toContain(f);
    }
    for (const f of files)
      expect(f, 'nothing of the tests, CI or local builds').not.toMatch(/^(test|\.ci|build|node_modules|benchmarks)\//);
    // Source maps point into src/, which ships with them.
    for (const f of [...files].filter((x) => x.endsWith('.js.map'))) {
      const map = JSON.parse(readFileSync(path.join(copy, f), 'utf8')) as { sources: string[] };
      for (const s of map.sources)
        expect(files, `${f} -> ${s}`).toContain(path.posix.normalize(path.posix.join(path.posix.dirname(f), s)));
    }

    // 4. A consumer: an empty directory. better-sqlite3's prebuild-install finds its binary in a local
    //    directory (named as on its GitHub releases) through the consumer's .prebuild-installrc.
    const consumer = path.join(tmp, 'consumer');
    const local = path.join(tmp, 'sqlite-prebuilds');
    mkdirSync(consumer);
    mkdirSync(path.join(local, 'stage/build/Release'), { recursive: true });
    const sqlite = JSON.parse(readFileSync(path.join(root, 'node_modules/better-sqlite3/package.json'), 'utf8')) as {
      version: string;
    };
    cpSync(
      path.join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
      path.join(local, 'stage/build/Release/better_sqlite3.node'),
    );
    await ok(
      'tar',
      [
        '-czf',
        path.join(local, `better-sqlite3-v${sqlite.version}-node-v${process.versions.modules}-linux-x64.tar.gz`),
        '-C',
        path.join(local, 'stage'),
        'build',
      ],
      tmp,
    );
    writeFileSync(path.join(consumer, '.prebuild-installrc'), `local-prebuilds=${local}\n`);
    writeFileSync(
      path.join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
    );
    await ok(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(tmp, first.filename)],
      consumer,
    );
    const installed = path.join(consumer, 'node_modules/overnight-ops');
    // The addon came from the tarball's prebuild: nothing was compiled.
    expect(existsSync(path.join(installed, 'build'))).toBe(false);
    // `overnight health` runs the bundle only when it is not older than the modules (src/cli/health-loader.ts):
    // npm gives every file of the tarball one time.
    expect(statSync(path.join(installed, 'dist/health-oneshot.bundle.js')).mtimeMs).toBeGreaterThanOrEqual(
      statSync(path.join(installed, 'dist/cli/health-loader.js')).mtimeMs,
    );

    // 5. Import the library, and run the CLI through npm's bin link.
    const lib = await ok(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { sampleHost } from 'overnight-ops'; const s = sampleHost(); " +
          'process.stdout.write(JSON.stringify({ total: s.memory.total, load: s.load !== null }));',
      ],
      consumer,
    );
    const sample = JSON.parse(lib) as { total: number; load: boolean };
    expect(sample.total).toBeGreaterThan(0);
    expect(sample.load).toBe(true);
    const bin = path.join(consumer, 'node_modules/.bin/overnight');
    expect((await ok(bin, ['--version'], consumer)).trim()).toBe(
      (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version,
    );
    const state = path.join(tmp, 'state');
    const token = (await ok(bin, ['token'], consumer)).trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const health = await sh(bin, ['health', '--npd', '--timeout', '60'], consumer, {
      OVERNIGHT_STATE_DIR: state,
      OVERNIGHT_NVML_LIBRARY: '/none',
      OVERNIGHT_TOKEN: token,
    });
    expect(health.stdout).toMatch(health.code === 0 ? /^OK / : /^\S/);
    expect([0, 1]).toContain(health.code);
  }, 300_000);
});
