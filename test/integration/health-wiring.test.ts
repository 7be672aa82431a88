/**
 * The health monitor's wiring: start() needs no unwritten preparation step (it makes its own Sampler
 * unless the caller passes readings), and CPU shares between scans are per process and pid-reuse safe.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { CpuShares } from '../../src/health/cpu-shares.js';
import type { ProcessSample } from '../../src/native.js';
import { cpuSeconds } from '../../src/readers/processes.js';

let monitor: HealthMonitor | undefined;
afterEach(() => {
  monitor?.stop();
  monitor = undefined;
});

async function until(pred: () => boolean, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error('until: condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('HealthMonitor.start()', () => {
  it('starts its own background Sampler straight after construction, and stop() ends it', async () => {
    monitor = new HealthMonitor({ gpu: null });
    monitor.start(20);
    const sampler = monitor.backgroundSampler;
    expect(sampler).toBeDefined();
    await until(() => (monitor!.recentWindow(60_000)?.count ?? 0) >= 3);
    expect(monitor.recentWindow(60_000)!.signals.cpu_busy).toBeDefined();
    monitor.stop();
    expect(monitor.backgroundSampler).toBeUndefined();
    expect(monitor.recentWindow(60_000)).toBeNull();
  });
});

describe('CpuShares', () => {
  const proc = (pid: number, starttime: number, cpuTicks: number) =>
    ({ pid, starttime, utime: cpuTicks, stime: 0 }) as unknown as ProcessSample;
  it('reports CPU seconds per wall second since the previous table, and starts over for a reused pid', () => {
    const shares = new CpuShares();
    expect(shares.update([proc(10, 1, 0), proc(11, 1, 0)], 1_000).size).toBe(0);
    const s = shares.update([proc(10, 1, 200), proc(11, 2, 500)], 3_000);
    // pid 10: 200 ticks over 2 wall seconds; pid 11 is another process now (its starttime changed).
    expect(s.get(10)).toBeCloseTo(cpuSeconds(proc(10, 1, 200)) / 2, 9);
    expect(s.has(11)).toBe(false);
    expect(shares.update([proc(11, 2, 600)], 4_000).get(11)).toBeCloseTo(cpuSeconds(proc(11, 2, 100)) / 1, 9);
  });
});
