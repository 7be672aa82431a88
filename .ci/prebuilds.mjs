#!/usr/bin/env node
// Prebuilt binaries for the npm package, made only in a clean step and checked before every pack.
//   build   remove prebuilds/, run prebuildify, write prebuilds/MANIFEST.json
//   stamp   write the manifest for what prebuilds/ holds now (after a prebuildify run elsewhere)
//   check   (prepack) refuse to pack a prebuilds/ that this step did not make from these native
//           sources, or that needs a newer glibc than Node 20 itself (2.28): a binary built on a
//           developer's machine loads there and nowhere else.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dir = path.join(root, 'prebuilds');
const manifestPath = path.join(dir, 'MANIFEST.json');
const maxGlibc = process.env.OVERNIGHT_PREBUILD_MAX_GLIBC ?? '2.28';

const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
/** The git tree of the native sources: the binaries are only valid for exactly these. */
function nativeSources() {
  const dirty = git('status', '--porcelain', '--', 'native', 'binding.gyp', 'CMakeLists.txt');
  if (dirty) throw new Error(`native sources have uncommitted changes:\n${dirty}`);
  return ['native', 'binding.gyp', 'CMakeLists.txt'].map((p) => `${p}:${git('rev-parse', `HEAD:${p}`)}`).join(' ');
}

function files(d = dir, rel = '') {
  return readdirSync(d)
    .sort()
    .flatMap((n) => {
      const full = path.join(d, n);
      const r = rel ? `${rel}/${n}` : n;
      return statSync(full).isDirectory() ? files(full, r) : r === 'MANIFEST.json' ? [] : [r];
    });
}

const version = (v) => v.split('.').map(Number);
const newer = (a, b) => {
  const [x, y] = [version(a), version(b)];
  return x[0] !== y[0] ? x[0] > y[0] : x[1] > y[1];
};
/** The newest GLIBC_x.y symbol version a binary needs (the names are in its dynamic string table). */
function glibcNeeded(file) {
  let best = null;
  for (const m of readFileSync(file)
    .toString('latin1')
    .matchAll(/GLIBC_(\d+\.\d+)/g))
    if (!best || newer(m[1], best)) best = m[1];
  return best;
}

function describe() {
  return Object.fromEntries(
    files().map((f) => {
      const full = path.join(dir, f);
      return [
        f,
        {
          sha256: createHash('sha256').update(readFileSync(full)).digest('hex'),
          glibc: f.endsWith('.node') ? glibcNeeded(full) : null,
        },
      ];
    }),
  );
}

function stamp() {
  const manifest = { native: nativeSources(), files: describe() };
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  console.error(`prebuilds: ${Object.keys(manifest.files).length} file(s) stamped for ${manifest.native}`);
}

function check() {
  if (!existsSync(dir)) {
    console.error('prebuilds: none; consumers will compile the addon (node-gyp and a C++17 compiler)');
    return;
  }
  const fail = (why) => {
    console.error(
      `prebuilds: refusing to pack prebuilds/: ${why}. Remove prebuilds/ or run \`npm run build:prebuilds\` (on ` +
        `the oldest glibc you support).`,
    );
    process.exit(1);
  };
  if (!existsSync(manifestPath)) fail('it has no MANIFEST.json, so `npm run build:prebuilds` did not make it');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  let native;
  try {
    native = nativeSources();
  } catch (err) {
    fail(err.message);
  }
  if (manifest.native !== native) fail(`it was built from other native sources (${manifest.native}; now ${native})`);
  const now = describe();
  const want = Object.keys(manifest.files).sort().join(', ');
  const have = Object.keys(now).sort().join(', ');
  if (want !== have) fail(`its files (${have}) are not the ones built (${want})`);
  for (const [f, d] of Object.entries(now)) {
    if (d.sha256 !== manifest.files[f].sha256) fail(`${f} changed after it was built`);
    if (d.glibc && newer(d.glibc, maxGlibc))
      fail(`${f} needs GLIBC_${d.glibc}, newer than ${maxGlibc} (OVERNIGHT_PREBUILD_MAX_GLIBC)`);
  }
  console.error(`prebuilds: ${have} (checked)`);
}

const cmd = process.argv[2];
if (cmd === 'build') {
  rmSync(dir, { recursive: true, force: true });
  execFileSync(path.join(root, 'node_modules/.bin/prebuildify'), ['--napi', '--strip', '--tag-libc'], {
    cwd: root,
    stdio: 'inherit',
  });
  stamp();
} else if (cmd === 'stamp') stamp();
else if (cmd === 'check') check();
else {
  console.error('usage: node .ci/prebuilds.mjs build|stamp|check');
  process.exit(2);
}
