/** The CLI's own manners: version, bare help, unquoted defaults, an empty audit log, tokens. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/isolated.js';
import { CLI, writeConfig } from '../helpers/mcp.js';

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none', ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

describe('overnight CLI basics', () => {
  it('--version prints the package version; bare `overnight` prints the help on stdout and exits 0', async () => {
    const v = await cli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(
      (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version,
    );
    const bare = await cli([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/^Usage: overnight \[options\] \[command\]/);
    for (const c of ['sample', 'serve', 'audit', 'progress', 'resources', 'record', 'monitor', 'health', 'token'])
      expect(bare.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const unknown = await cli(['helth']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command 'helth'/);
  });

  it('a usage error exits 2 ("cannot tell", not health\'s "not healthy"), and 78 for the daemons', async () => {
    for (const args of [['health', '--nhc', '--bogus'], ['helth'], ['audit', 'extra']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/error: /);
    }
    for (const args of [
      ['monitor', '--interval'],
      ['--json', 'monitor'],
      ['monitor', 'monitor'],
      ['serve', '--bogus'],
    ])
      expect((await cli(args)).code, args.join(' ')).toBe(78);
    expect((await cli(['health', '--help'])).code).toBe(0);
  });

  it('report --out that cannot be written names the flag and the path, exit 78', async () => {
    const { file } = writeConfig();
    const r = await cli(['report', '--config', file, '--out', '/proc/nope/x.html']);
    expect(r.code).toBe(78);
    expect(r.stderr.trim()).toBe('overnight: --out: cannot write "/proc/nope/x.html": ENOENT');
  });

  it('the top-level help (built without loading subcommands) says what each subcommand file says', async () => {
    // The built CLI, typed as its source.
    const { SUBCOMMANDS, buildProgram } = (await import(
      path.join(root, 'dist/cli/main.js')
    )) as typeof import('../../src/cli/main.js');
    const full = await buildProgram();
    for (const s of SUBCOMMANDS) {
      expect(full.commands.find((c) => c.name() === s.name)?.description(), s.name).toBe(s.description);
    }
  });

  it('shows defaults unquoted, in subcommand help and through `help <command>`', async () => {
    const h = await cli(['health', '--help']);
    expect(h.stdout).toContain('(default: full)');
    expect(h.stdout).not.toContain('"full"');
    const a = await cli(['help', 'audit']);
    expect(a.stdout).toContain('(default: 50)');
    expect(a.stdout).not.toContain('"50"');
  });

  it('an empty audit log says so (JSON stays valid on stdout)', async () => {
    const { file } = writeConfig();
    const r = await cli(['audit', '--config', file]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.stderr).toMatch(/^overnight: no audit entries in .*state/);
  });

  it('refuses placeholder and weak tokens (file and env); `overnight token` makes one that is accepted', async () => {
    for (const token of [
      'set me (or OVERNIGHT_TOKEN), at least 16 characters',
      'REPLACE with the output of `overnight token`',
      'short',
      'aaaaaaaaaaaaaaaaaaaa',
      '<your-token-here-please>',
    ]) {
      const { file } = writeConfig({ server: { token } });
      const r = await cli(['audit', '--config', file]);
      expect(r.code, token).toBe(1);
      // Described (length, character classes), never echoed: not even its first word.
      expect(r.stderr).toMatch(
        /server\.token: got a secret string \(not shown\) of \d+ characters.*run `overnight token`/,
      );
      expect(r.stderr).not.toContain(token.slice(0, 5));
    }
    const { file } = writeConfig();
    const env = await cli(['audit', '--config', file], { OVERNIGHT_TOKEN: 'changeme-changeme-changeme' });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('OVERNIGHT_TOKEN: this is a placeholder');
    const t1 = (await cli(['token'])).stdout.trim();
    const t2 = (await cli(['token'])).stdout.trim();
    expect(t1).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(t2).not.toBe(t1);
    const good = writeConfig({ server: { token: t1 } });
    expect((await cli(['audit', '--config', good.file])).code).toBe(0);
  });

  it('echoes a bad flag value bounded (60 characters and the length), never whole', async () => {
    const { file } = writeConfig();
    const long = `${'x'.repeat(299)}Z`;
    const cut = `"${'x'.repeat(60)}…" (300 characters)`;
    const runs = [
      { args: ['health', '--check', long], flag: '--check', code: 2 },
      { args: ['health', '--timeout', long], flag: '--timeout', code: 2 },
      { args: ['events', '--since', long], flag: '--since', code: 1 },
    ];
    for (const { args, flag, code } of runs) {
      const r = await cli([...args, '--config', file]);
      expect(r.code).toBe(code);
      expect(r.stderr).toContain(`overnight: ${flag}: got ${cut}; expected`);
      expect(r.stderr + r.stdout).not.toContain('Z');
    }
  }, 60_000);

  it('every other flag, argument and lease id is echoed bounded too (they were echoed whole)', async () => {
    const { file } = writeConfig();
    const long = `${'x'.repeat(299)}Z`;
    const cut = `"${'x'.repeat(60)}…" (300 characters)`;
    const runs = [
      { args: ['audit', '--limit', long, '--config', file], says: `--limit: got ${cut}; expected` },
      { args: ['record', '--interval-ms', long, '--', 'true'], says: `--interval-ms: got ${cut}; expected` },
      { args: ['sample', '--interval-ms', long], says: `--interval-ms: got ${cut}; expected` },
      { args: ['sample', '--pid', long], says: `--pid: got ${cut}; expected` },
      // A daemon's bad flag is EX_CONFIG (78), so systemd stops restarting it.
      { args: ['serve', '--http', long, '--config', file], says: `--http: got ${cut}; expected`, code: 78 },
      { args: ['progress', 'restore', 't1', long, '--config', file], says: `checkpoint: got ${cut}; expected` },
      { args: ['resources', 'release', long, '--config', file], says: `no lease ${'x'.repeat(60)}… (300 characters)` },
    ];
    for (const { args, says, code } of runs) {
      const r = await cli(args);
      expect(r.code, args[0]).toBe(code ?? 1);
      expect(r.stderr + r.stdout, args[0]).toContain(says);
      expect(r.stderr + r.stdout, args[0]).not.toContain('Z');
    }
  }, 120_000);

  it('health --drain without --nhc is refused, not silently ignored', async () => {
    const { file } = writeConfig();
    const r = await cli(['health', '--drain', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('overnight: --drain: only with --nhc');
  }, 30_000);

  it('events --kind refuses an unknown kind, listing the known ones (it returned [] and exit 0)', async () => {
    const { file } = writeConfig();
    const r = await cli(['events', '--kind', 'xid,nope', '--json', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^overnight: --kind: unknown "nope"; expected comma-separated kinds from: .*\boom_kill\b/);
    expect(r.stderr).toMatch(/\bxid\b/);
    const ok = await cli(['events', '--kind', 'xid', '--json', '--config', file]);
    expect(ok.code).toBe(0);
    expect(Array.isArray(JSON.parse(ok.stdout))).toBe(true);
  }, 60_000);
});
