#!/usr/bin/env node
// Checks (or with --fix, applies) clang-format on the C++ sources, as `npm run lint` / `npm run format`.
// clang-format comes from Debian's package of that name (.ci/run installs it); where it is missing
// outside CI this says so and passes, so a contributor without it can still lint the TypeScript.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const fix = process.argv.includes('--fix');
const roots = ['native', 'test/native', 'test/fixtures/fake-nvml'];
const files = roots.flatMap((r) => walk(r)).filter((f) => /\.(cc|h|c)$/.test(f));

function walk(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'build') out = out.concat(walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const probe = spawnSync('clang-format', ['--version'], { encoding: 'utf8' });
if (probe.error) {
  const msg = 'clang-format is not installed (apt-get install clang-format): C++ formatting not checked';
  if (process.env.CI) {
    console.error(msg);
    process.exit(1);
  }
  console.error(`warning: ${msg}`);
  process.exit(0);
}
try {
  execFileSync('clang-format', [fix ? '-i' : '--dry-run', ...(fix ? [] : ['--Werror']), ...files], {
    stdio: 'inherit',
  });
} catch {
  console.error(`clang-format: ${files.length} C++ files checked; run \`npm run format\` to fix the ones above`);
  process.exit(1);
}
