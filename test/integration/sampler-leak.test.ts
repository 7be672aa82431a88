import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/isolated.js';

const run = (cmd: string, args: string[], timeout: number) =>
  promisify(execFile)(cmd, args, { timeout, maxBuffer: 16 << 20 });

// The sampler's C++ core (and the readers it uses) built with -fsanitize=address, no Node involved:
// 10,000 start/stop cycles must leak nothing and touch no freed memory.
describe('native sampler under AddressSanitizer', () => {
  it('starts and stops 10,000 times without a leak', async () => {
    const cfg = JSON.parse(
      execFileSync('node', ['-p', "JSON.stringify(require('./native/build-config.json'))"], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as { sources: string[] };
    const sources = cfg.sources
      .filter((s) => !s.includes('/napi/') && !s.endsWith('addon.cc'))
      .map((s) => path.join(root, s));
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-asan-'));
    const bin = path.join(dir, 'sampler_leak');
    const flags = ['-std=c++17', '-O1', '-g', '-fsanitize=address', '-fno-omit-frame-pointer'];
    // One compiler per source, as many at once as there are cores: a single serial c++ call took over
    // 150 s on a loaded 2-core machine. The limits are generous bounds, not expectations.
    const units = [path.join(root, 'test/native/sampler_leak.cc'), ...sources];
    const objects = units.map((src, i) => path.join(dir, `${i}.o`));
    const queue = units.map((src, i) => () => run('c++', [...flags, '-c', '-o', objects[i], src], 480_000));
    await Promise.all(
      Array.from({ length: Math.max(1, availableParallelism()) }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) await job();
      }),
    );
    await run('c++', [...flags, '-o', bin, ...objects, '-ldl', '-lpthread'], 240_000);
    const out = execFileSync(bin, ['10000'], {
      encoding: 'utf8',
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:halt_on_error=1', OVERNIGHT_NVML_LIBRARY: '/none' },
      timeout: 480_000,
    });
    expect(out).toMatch(/runs=10000 samples=\d+/);
  }, 900_000);
});
