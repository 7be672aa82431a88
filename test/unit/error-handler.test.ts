import { describe, expect, it } from 'vitest';
import { classifyError } from '../../src/monitor/error-handler.js';

describe('OvernightErrorHandler classification', () => {
  it.each([
    [new Error('CUDA error: out of memory'), 'gpu_reset'],
    [Object.assign(new Error('cannot allocate memory'), { code: 'ENOMEM' }), 'memory_leak'],
    [new Error('NVML: Xid 79, GPU has fallen off the bus'), 'gpu_reset'],
    [new Error('build timed out after 3600 s'), 'process_hang'],
    [new Error('syntax error'), 'unknown'],
    ['deadlock detected', 'process_hang'],
  ])('%s -> %s', (err, op) => {
    expect(classifyError(err)).toBe(op);
  });
});
