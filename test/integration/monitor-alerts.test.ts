/**
 * Alert de-duplication keys each fault on its own subject: the monitor's alert about a failed GPU
 * is sent once, not again when an unrelated breach (another GPU's memory) comes or goes, while a
 * new critical subject gets its own alert; and a wake during a cycle is not lost. Real monitor
 * cycles over the fake NVML.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { FakeNvmlConfig, fakeGpus, useFakeNvml } from '../helpers/fake-nvml.js';

const fake = new FakeNvmlConfig({ devices: fakeGpus(2) });
useFakeNvml('full', fake);
const { createOvernightContext } = await import('../../src/context.js');
const { OvernightMonitor } = await import('../../src/monitor/overnight-monitor.js');

const GiB = 2 ** 30;
const ctx = await createOvernightContext({
  config: parseConfig({
    stateDir: mkdtempSync(path.join(tmpdir(), 'ovn-alerts-')),
    // A single reading decides, so each cycle's GPU memory breach comes and goes with the fake's numbers.
    hysteresis: { sustainMs: 0, sustainSamples: 1 },
    monitor: { recover: 'off' },
    escalation: { dedupSec: 3600 },
  }),
  identity: { scopeRoot: process.pid, selfPid: process.pid },
});
afterAll(async () => {
  ctx.gpu?.close();
  await ctx.close();
});

describe('alert de-duplication', () => {
  it('keys each critical fault on its own subject, not on the whole breach set', async () => {
    const [g0, g1] = fakeGpus(2) as [ReturnType<typeof fakeGpus>[number], ReturnType<typeof fakeGpus>[number]];
    const monitor = new OvernightMonitor(ctx, { events: false });
    const criticalAlerts = async () =>
      (await monitor.runOnce('test')).alerts.filter((a) => a.key.startsWith('critical:'));

    // Cycle 1: GPU 1 has failed (row remapping failure), GPU 0's memory is over the threshold.
    fake.write({
      devices: [
        { ...g0, memUsed: 78 * GiB },
        { ...g1, remapFailure: 1 },
      ],
    });
    const c1 = await monitor.runOnce('test');
    expect(c1.status).toBe('critical');
    expect(c1.breached).toContain('gpu.0.memory');
    const gpu1Key = c1.alerts.find((a) => a.key.startsWith('critical:gpu:'))!;
    expect(gpu1Key).toEqual({ key: 'critical:gpu:GPU-fake-1', sent: true });

    // Cycle 2: the unrelated GPU 0 memory breach clears; GPU 1 is still failed: no second alert.
    fake.write({ devices: [g0, { ...g1, remapFailure: 1 }] });
    const c2 = await monitor.runOnce('test');
    expect(c2.breached).not.toContain('gpu.0.memory');
    expect(c2.alerts.filter((a) => a.key.startsWith('critical:'))).toEqual([
      { key: 'critical:gpu:GPU-fake-1', sent: false },
    ]);

    // Cycle 3: GPU 0 fails too: its own alert is sent, GPU 1's still is not.
    fake.write({
      devices: [
        { ...g0, remapFailure: 1 },
        { ...g1, remapFailure: 1 },
      ],
    });
    expect(await criticalAlerts()).toEqual([
      { key: 'critical:gpu:GPU-fake-0', sent: true },
      { key: 'critical:gpu:GPU-fake-1', sent: false },
    ]);
  });
});

describe('waking the monitor', () => {
  it('a wake that arrives while a cycle runs is not lost: the next cycle runs at once with its trigger', async () => {
    fake.write({ devices: fakeGpus(2) });
    const sleeps: number[] = [];
    const triggers: string[] = [];
    const monitor = new OvernightMonitor(ctx, {
      events: false,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      onCycle: (c) => {
        triggers.push(c.trigger);
        // An event during the first cycle (as an Xid or an exit arrives while a check runs).
        if (triggers.length === 1) monitor.wake('xid:48');
      },
    });
    await monitor.run(undefined, 3);
    expect(triggers).toEqual(['start', 'xid:48', 'interval']);
    expect(sleeps).toHaveLength(1);
  });
});
