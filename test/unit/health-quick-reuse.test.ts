/**
 * A quick check while the background sampler runs reuses the host reading for at most one sampler
 * tick (never more than 1 s) and says how old it is; a full check, and any check without the
 * background sampler, reads the host afresh. Driven through the host-reader seam, counting reads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { HealthMonitor, type BackgroundReadings } from '../../src/health/health-monitor.js';
import type { HostSample, NativeHostReader } from '../../src/native.js';
import { monotonicNowMs } from '../../src/util/clock.js';

function countingReader(): NativeHostReader & { reads: number; used: number } {
  const r = {
    reads: 0,
    used: 16e9,
    sample: () => {
      r.reads++;
      return {
        timeMs: Date.now(),
        monotonicMs: monotonicNowMs(),
        memory: { total: 64e9, available: 64e9 - r.used, used: r.used, swapTotal: 0, swapFree: 0 },
        cpu: null,
        load: { load1: 1, load5: 1, load15: 1, runnable: 1, threads: 100, lastPid: 1 },
        uptime: null,
        psi: null,
        cgroup: null,
        filesystems: [],
        unavailable: {},
      } as unknown as HostSample;
    },
    samplePacked: () => {
      throw new Error('not used');
    },
    resetCpuBaseline: () => undefined,
  };
  return r;
}

/** Background readings with nothing new: the thresholds see no samples, so only the host reading speaks. */
const quietReadings: BackgroundReadings = {
  read: () => ({
    count: 0,
    channels: [],
    timestamps: new Float64Array(0),
    values: new Float64Array(0),
    lost: 0,
    column: () => new Float64Array(0),
  }),
  window: () => ({ count: 0, signals: {} }),
};

let monitor: HealthMonitor | undefined;
afterEach(() => {
  monitor?.stop();
  monitor = undefined;
});

describe('quick checks reuse the host reading for one sampler tick', () => {
  it('reads the host at most once per tick, reports the age, and reads afresh after the tick', async () => {
    const hostReader = countingReader();
    monitor = new HealthMonitor({ config: parseConfig({}), gpu: null, hostReader, sampler: quietReadings });
    const tickMs = 300;
    monitor.start(tickMs);
    const t0 = monotonicNowMs();
    const reports = [];
    for (let i = 0; i < 50; i++) reports.push(await monitor.checkSystemHealth('quick'));
    const elapsed = monotonicNowMs() - t0;
    // One read per tick that the 50 calls spanned (plus the first), however loaded the machine is.
    expect(hostReader.reads).toBeLessThanOrEqual(1 + Math.ceil(elapsed / tickMs));
    expect(hostReader.reads).toBeLessThan(50);
    for (const r of reports) {
      expect(r.sample_age_ms).toBeGreaterThanOrEqual(0);
      expect(r.sample_age_ms).toBeLessThanOrEqual(tickMs);
    }
    // Past the tick, the next quick check reads again and sees what changed.
    hostReader.used = 60e9;
    const before = hostReader.reads;
    const until = monotonicNowMs() + tickMs + 50;
    while (monotonicNowMs() < until) await new Promise((r) => setTimeout(r, 20));
    const fresh = await monitor.checkSystemHealth('quick');
    expect(hostReader.reads).toBe(before + 1);
    expect(fresh.sample_age_ms).toBe(0);
    expect(fresh.metrics.memory_status.host?.used_bytes).toBe(60e9);
  });

  it('a full check always reads afresh, and a quick check right after it reuses that reading', async () => {
    const hostReader = countingReader();
    monitor = new HealthMonitor({ config: parseConfig({}), gpu: null, hostReader, sampler: quietReadings });
    monitor.start(1000);
    await monitor.checkSystemHealth('quick');
    hostReader.used = 50e9;
    const full = await monitor.checkSystemHealth('full');
    expect(full.sample_age_ms).toBe(0);
    expect(full.metrics.memory_status.host?.used_bytes).toBe(50e9);
    const reads = hostReader.reads;
    const quick = await monitor.checkSystemHealth('quick');
    // Reused unless the full check itself outlasted the 1 s cap (it scans processes; slow on a loaded node).
    expect(hostReader.reads).toBe(quick.sample_age_ms > 0 ? reads : reads + 1);
    expect(quick.sample_age_ms).toBeLessThanOrEqual(1000);
    expect(quick.metrics.memory_status.host?.used_bytes).toBe(50e9);
  });

  it('the reuse is capped at 1 s however slow the sampler is', async () => {
    const hostReader = countingReader();
    monitor = new HealthMonitor({ config: parseConfig({}), gpu: null, hostReader, sampler: quietReadings });
    monitor.start(60_000);
    await monitor.checkSystemHealth('quick');
    const reads = hostReader.reads;
    const until = monotonicNowMs() + 1100;
    while (monotonicNowMs() < until) await new Promise((r) => setTimeout(r, 50));
    const r = await monitor.checkSystemHealth('quick');
    expect(hostReader.reads).toBe(reads + 1);
    expect(r.sample_age_ms).toBe(0);
  });

  it('without the background sampler every check reads the host', async () => {
    const hostReader = countingReader();
    monitor = new HealthMonitor({ config: parseConfig({}), gpu: null, hostReader });
    for (let i = 0; i < 5; i++) await monitor.checkSystemHealth('quick');
    expect(hostReader.reads).toBe(5);
  });

  const name =
    'asks the store (recovery journal, stalled tasks) at most ' +
    'once per tick for quick checks, every time for full ones';
  it(name, async () => {
    const asked = { journal: 0, tasks: 0 };
    monitor = new HealthMonitor({
      config: parseConfig({}),
      gpu: null,
      hostReader: countingReader(),
      sampler: quietReadings,
      recoveries: {
        lastRecovery: () => (asked.journal++, null),
        recentCounts: () => ({ recovered: 0, failed: 0, escalated: 0 }),
      },
      tasks: { stalledTasks: () => (asked.tasks++, []) },
    });
    const tickMs = 300;
    monitor.start(tickMs);
    const t0 = monotonicNowMs();
    for (let i = 0; i < 30; i++) await monitor.checkSystemHealth('quick');
    const bound = 1 + Math.ceil((monotonicNowMs() - t0) / tickMs);
    expect(asked.journal).toBeLessThanOrEqual(bound);
    expect(asked.tasks).toBeLessThanOrEqual(bound);
    expect(asked.journal).toBeLessThan(30);
    const before = { ...asked };
    await monitor.checkSystemHealth('full');
    await monitor.checkSystemHealth('full');
    expect(asked.journal).toBe(before.journal + 2);
    expect(asked.tasks).toBe(before.tasks + 2);
  });
});
