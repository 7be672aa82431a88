import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

describe('node checks configuration', () => {
  it('has defaults that judge nothing an operator did not ask for, except counters and leaks', () => {
    const c = parseConfig({});
    expect(c.nodeChecks).toMatchObject({
      infiniband: { expected: [] },
      mounts: [],
      services: [],
      unauthorizedUsers: { enabled: false },
      maxZombies: 100,
      maxFdFraction: 0.8,
    });
    expect(c.nodeChecks.infiniband.maxErrorsPerHour).toMatchObject({ link_downed: 0, symbol_error: 10 });
    expect(c.gpu).toMatchObject({
      expectedModels: [],
      persistenceMode: false,
      nvlinkMaxErrorsPerHour: { recovery: 0, crcFlit: 100, crcData: 10 },
    });
    expect(c.gpu.expectedCount).toBeUndefined();
    expect(c.checks).toEqual([]);
  });

  it.each([
    [{ nodeChecks: { maxFdFraction: 80 } }, /nodeChecks\.maxFdFraction: got 80; .*did you mean 0\.8\?/],
    [{ nodeChecks: { mounts: [{ path: 'scratch' }] } }, /nodeChecks\.mounts\.0\.path/],
    [
      { nodeChecks: { infiniband: { expected: [{ device: 'mlx5_0', port: 0 }] } } },
      /nodeChecks\.infiniband\.expected\.0\.port/,
    ],
    [{ nodeChecks: { sysfsroot: '/tmp' } }, /nodeChecks\.sysfsroot: unknown key; did you mean "sysfsRoot"\?/],
    [{ checks: [{ name: 'x' }] }, /exactly one of command or dcgmDiag/],
    [{ checks: [{ name: 'has space', command: ['true'] }] }, /checks\.0\.name/],
    [{ checks: [{ name: 'x', command: ['true'], timeoutSec: 0 }] }, /checks\.0\.timeoutSec/],
    [{ gpu: { expectedCount: -1 } }, /gpu\.expectedCount/],
    [{ nodeChecks: { services: [{ name: 'x', pattern: 'sleep (' }] } }, /pattern is a JavaScript regular expression/],
  ])('rejects %j clearly', (raw, pattern) => {
    expect(() => parseConfig(raw)).toThrow(pattern);
  });
});
