/**
 * The monitor's full checks have their own cadence (monitor.fullCheckSec while healthy, 2 s while not,
 * at once on a wake-up) and quick checks run in between. Real monitor cycles on a real context; the
 * clock is a manual one so that the cadence is counted in simulated seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createOvernightContext } from '../../src/context.js';
import { OvernightMonitor } from '../../src/monitor/overnight-monitor.js';
import { ManualClock } from '../../src/util/clock.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ovn-cadence-'));
const clock = new ManualClock(Date.parse('2026-11-27T01:00:00Z'));
const ctx = await createOvernightContext({
  config: parseConfig({
    stateDir: path.join(dir, 'state'),
    kernelLog: { enabled: false },
    monitor: { recover: 'off', fullCheckSec: 30 },
    // Nothing on this (possibly loaded) test machine may make the node unhealthy: the healthy cadence is under test.
    thresholds: { memory: 1, cpu: 1, disk: 1, memoryPressure: 100, cpuPressure: 100 },
  }),
  clock,
  identity: { scopeRoot: process.pid, selfPid: process.pid },
});
afterAll(async () => {
  ctx.gpu?.close();
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('full-check cadence', () => {
  it('healthy: one full check per fullCheckSec, quick checks between; a wake-up is full at once', async () => {
    const kinds: string[] = [];
    const check = ctx.health.checkSystemHealth.bind(ctx.health);
    ctx.health.checkSystemHealth = (type, ...rest) => {
      kinds.push(type ?? 'quick');
      return check(type, ...rest);
    };
    const monitor = new OvernightMonitor(ctx, { events: false, intervalMs: 1000 });
    const statuses: string[] = [];
    // 61 cycles one simulated second apart: full at 0 s (start), 30 s and 60 s.
    statuses.push((await monitor.runOnce('start')).status);
    for (let s = 1; s <= 60; s++) {
      clock.advance(1000);
      statuses.push((await monitor.runOnce('interval')).status);
    }
    expect(statuses.every((s) => s === 'healthy')).toBe(true);
    expect(kinds.filter((k) => k === 'full')).toHaveLength(3);
    expect(kinds.map((k, i) => (k === 'full' ? i : -1)).filter((i) => i >= 0)).toEqual([0, 30, 60]);
    // A wake-up (an Xid, a PSI trigger, an exit) is a full check whatever the cadence.
    clock.advance(1000);
    await monitor.runOnce('xid:79');
    expect(kinds.at(-1)).toBe('full');
    clock.advance(1000);
    await monitor.runOnce('interval');
    expect(kinds.at(-1)).toBe('quick');
  }, 120_000);
});
