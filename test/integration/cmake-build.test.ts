import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NativeBinding } from '../../src/native.js';

const root = path.resolve(__dirname, '../..');
const require = createRequire(import.meta.url);

// The second build (cmake-js) compiles the same source list with the same flags; building it here
// keeps it from rotting while everyone uses node-gyp.
describe('cmake-js build', () => {
  it('builds the same addon into a separate directory, and it samples the host', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'ovn-cmake-'));
    try {
      execFileSync(path.join(root, 'node_modules/.bin/cmake-js'), ['compile', '--out', out], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 300_000,
      });
      const binding = require(path.join(out, 'Release/overnight_native.node')) as NativeBinding;
      const packed = new binding.HostReader().samplePacked(binding.hostOptionBits.memory, 0);
      const numbers = packed instanceof Float64Array ? packed : packed.numbers;
      expect(numbers).toBeInstanceOf(Float64Array);
      expect(numbers[3]).toBeGreaterThan(0); // after timeMs, monotonicMs and the memory flag: MemTotal
      const built = require(path.join(root, 'build/Release/overnight_native.node')) as NativeBinding;
      expect(binding.hostLayout).toEqual(built.hostLayout);
      expect(typeof binding.ProcessTable).toBe('function');
      expect(Object.keys(binding).sort()).toEqual(Object.keys(built).sort());
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
