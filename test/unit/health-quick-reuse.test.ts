/**
 * A quick check while the background sampler runs reuses the host reading for at most one sampler
 * tick (never more than 1 s) and says how old it is; a full check, and any check without the
 * background sampler, reads the host afresh. Driven through the host-reader seam, counting reads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { HealthMonitor, type BackgroundReadings } from '../../src/health/health-monitor.js';
import type { HostSample, NativeHostReader } from '../../src/native.js';
import type { SampleBatch } from '../../src/sampler/sampler.js';
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

/**
 * Background readings that count their reads and hand out what a test queued: memory readings
 * (used fraction of 100 GiB) at the monotonic time they were queued.
 */
function queuedReadings(): BackgroundReadings & { reads: number; push: (usedFraction: number) => number } {
  const GiB = 2 ** 30;
  let queue: { t: number; used: number }[] = [];
  const r = {
    reads: 0,
    push: (used: number) => {
      const t = monotonicNowMs();
      queue.push({ t, used });
      return t;
    },
    read: (): SampleBatch => {
      r.reads++;
      const q = queue;
      queue = [];
      const channels = ['mem_used_bytes', 'mem_available_bytes'];
      const values = Float64Array.from(q.flatMap((x) => [x.used * 100 * GiB, (1 - x.used) * 100 * GiB]));
      return {
        count: q.length,
        channels,
        timestamps: Float64Array.from(q.map((x) => x.t)),
        values,
        lost: 0,
        column: (n: string) => Float64Array.from(q.map((_, i) => values[i * 2 + channels.indexOf(n)])),
      };
    },
    window: () => ({ count: 0, signals: {} }),
  };
  return r;
}

const waitUntil = async (monoMs: number) => {
  while (monotonicNowMs() < monoMs) await new Promise((r) => setTimeout(r, 10));
};

describe("quick checks leave the background readings to the monitor's timer for one tick", () => {
  const config = () => parseConfig({ thresholds: { memory: 0.8 }, hysteresis: { sustainMs: 0, sustainSamples: 1 } });

  it('reads them at most once per tick, and judges a new reading within one tick of its arrival', async () => {
    const readings = queuedReadings();
    monitor = new HealthMonitor({ config: config(), gpu: null, hostReader: countingReader(), sampler: readings });
    const tickMs = 300;
    monitor.start(tickMs);
    const t0 = monotonicNowMs();
    for (let i = 0; i < 50; i++) await monitor.checkSystemHealth('quick');
    const ticks = Math.ceil((monotonicNowMs() - t0) / tickMs);
    // The timer's reads and the checks' own (only when nothing read for a tick): never one per check.
    expect(readings.reads).toBeLessThanOrEqual(2 * (1 + ticks));
    expect(readings.reads).toBeLessThan(50);

    // A reading over the limit: a tick after it arrived, whoever read last, the next quick check has judged it.
    const at = readings.push(0.95);
    await waitUntil(at + tickMs + 5);
    const r = await monitor.checkSystemHealth('quick');
    const breach = r.breached.find((b) => b.metric === 'memory');
    expect(breach?.observed).toBeCloseTo(0.95, 5);
    // And back under it: cleared within a tick again.
    const back = readings.push(0.3);
    await waitUntil(back + tickMs + 5);
    expect((await monitor.checkSystemHealth('quick')).breached.find((b) => b.metric === 'memory')).toBeUndefined();
  });

  it('a quick check with limits of its own reads the new readings every time, judged under its limits', async () => {
    const readings = queuedReadings();
    monitor = new HealthMonitor({ config: config(), gpu: null, hostReader: countingReader(), sampler: readings });
    monitor.start(60_000);
    await monitor.checkSystemHealth('quick');
    const before = readings.reads;
    for (let i = 0; i < 5; i++) await monitor.checkSystemHealth('quick', { memory: 0.5 });
    expect(readings.reads).toBeGreaterThanOrEqual(before + 5);
    readings.push(0.6);
    const r = await monitor.checkSystemHealth('quick', { memory: 0.5 });
    expect(r.breached.find((b) => b.metric === 'memory')?.observed).toBeCloseTo(0.6, 5);
  });
});

describe("quick checks reuse the watch's suspects for one tick", () => {
  const name =
    'asks the watch at most once per tick for quick checks, every time for full ones; a tick later, quick sees';
  it(`${name} a new suspect`, async () => {
    const asked = { leaks: 0, hangs: 0 };
    let leaks: {
      pid: number;
      comm: string;
      rss_bytes: number;
      slope_bytes_per_min: number;
      r2: number;
      seconds_to_exhaustion: number | null;
    }[] = [];
    monitor = new HealthMonitor({
      config: parseConfig({}),
      gpu: null,
      hostReader: countingReader(),
      sampler: quietReadings,
      suspects: { leakSuspects: () => (asked.leaks++, leaks), hangSuspects: () => (asked.hangs++, []) },
    });
    const tickMs = 300;
    monitor.start(tickMs);
    const t0 = monotonicNowMs();
    for (let i = 0; i < 30; i++) expect((await monitor.checkSystemHealth('quick')).status).toBe('healthy');
    const bound = 1 + Math.ceil((monotonicNowMs() - t0) / tickMs);
    expect(asked.leaks).toBeLessThanOrEqual(bound);
    expect(asked.hangs).toBeLessThanOrEqual(bound);
    expect(asked.leaks).toBeLessThan(30);

    leaks = [
      { pid: 4242, comm: 'leaky', rss_bytes: 8e9, slope_bytes_per_min: 1e8, r2: 0.99, seconds_to_exhaustion: 600 },
    ];
    const changed = monotonicNowMs();
    await waitUntil(changed + tickMs + 5);
    // A suspect makes the node degraded: a quick check a tick later says so.
    expect((await monitor.checkSystemHealth('quick')).status).toBe('degraded');
    const before = asked.leaks;
    const full = await monitor.checkSystemHealth('full');
    await monitor.checkSystemHealth('full');
    expect(asked.leaks).toBe(before + 2);
    expect(full.metrics.suspects?.memory_leaks.map((l) => l.pid)).toEqual([4242]);
  });
});
