import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/isolated.js';

// The sampler's C++ core (and the readers it uses) built with -fsanitize=address, no Node involved:
// 10,000 start/stop cycles must leak nothing and touch no freed memory.
describe('native sampler under AddressSanitizer', () => {
  it('starts and stops 10,000 times without a leak', () => {
    const cfg = JSON.parse(
      execFileSync('node', ['-p', "JSON.stringify(require('./native/build-config.json'))"], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as { sources: string[] };
    const sources = cfg.sources
      .filter((s) => !s.includes('/napi/') && !s.endsWith('addon.cc'))
      .map((s) => path.join(root, s));
    const bin = path.join(mkdtempSync(path.join(tmpdir(), 'ovn-asan-')), 'sampler_leak');
    execFileSync(
      'c++',
      [
        '-std=c++17',
        '-O1',
        '-g',
        '-fsanitize=address',
        '-fno-omit-frame-pointer',
        '-o',
        bin,
        path.join(root, 'test/native/sampler_leak.cc'),
        ...sources,
        '-ldl',
        '-lpthread',
      ],
      { stdio: 'inherit', timeout: 240_000 },
    );
    const out = execFileSync(bin, ['10000'], {
      encoding: 'utf8',
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:halt_on_error=1', OVERNIGHT_NVML_LIBRARY: '/none' },
      timeout: 240_000,
    });
    expect(out).toMatch(/runs=10000 samples=\d+/);
  }, 300_000);
});
