// Builds the fake libnvidia-ml.so.1 the way the tests do (test/helpers/fake-nvml.ts, 'full' variant, same flags and
// output path), so a benchmark on a machine without a driver needs no earlier `npm test`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { benchDir } from './measure.js';

const dir = path.join(benchDir, '../test/fixtures/fake-nvml');

/** The full variant's path, compiled when missing or older than its sources. */
export function buildFakeNvml() {
  const sources = ['fake_nvml.c', 'json.c', 'json.h'].map((f) => path.join(dir, f));
  const lib = path.join(dir, 'build/full/libnvidia-ml.so.1');
  const newest = Math.max(...sources.map((s) => statSync(s).mtimeMs));
  if (existsSync(lib) && statSync(lib).mtimeMs > newest) return lib;
  mkdirSync(path.dirname(lib), { recursive: true });
  const args = [
    '-O2',
    '-shared',
    '-fPIC',
    '-fvisibility=hidden',
    '-Wall',
    '-o',
    lib,
    sources[0],
    sources[1],
    '-lpthread',
  ];
  execFileSync(process.env.CC ?? 'cc', args, { stdio: 'inherit' });
  return lib;
}
