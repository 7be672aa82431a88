import { describe, expect, it } from 'vitest';
import { ThresholdTracker } from '../../src/health/thresholds.js';
import { memoryStatus } from '../../src/health/metrics.js';
import { LatencyWindow } from '../../src/health/latency-window.js';
import { instrumented, toolError } from '../../src/mcp/tool-kit.js';
import { ManualClock } from '../../src/util/clock.js';
import type { HostSample } from '../../src/native.js';

const opts = { clearMargin: 0.05, sustainSamples: 3, sustainMs: 10_000 };

describe('ThresholdTracker', () => {
  it('needs the breach sustained over sustainMs of wall time: one spike does not flip it', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, opts);
    const seq = [0.5, 0.9, 0.5, 0.9, 0.9];
    const out = seq.map((v) => {
      clock.advance(1000);
      return t.observe('memory', v, 0.8, 'fraction');
    });
    expect(out.map((b) => b !== null)).toEqual([false, false, false, false, false]);
    // Over the limit for the last two readings (1 s apart): it breaches once the run is 10 s old, not before.
    for (let i = 0; i < 8; i++) {
      clock.advance(1000);
      expect(t.observe('memory', 0.9, 0.8, 'fraction')).toBeNull();
    }
    clock.advance(1000);
    const b = t.observe('memory', 0.9, 0.8, 'fraction')!;
    expect(b).not.toBeNull();
    expect(b.sustained_sec).toBe(10);
  });

  it('quick checks every 100 ms through a 1 s spike never breach (wall time, not a count of calls)', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, { clearMargin: 0.05, sustainSamples: 2, sustainMs: 10_000 });
    const seen: boolean[] = [];
    for (let ms = 0; ms < 5000; ms += 100) {
      clock.advance(100);
      const spike = ms >= 2000 && ms < 3000;
      seen.push(t.observe('cpu', spike ? 1 : 0.3, 0.95, 'fraction') !== null);
    }
    expect(seen.filter(Boolean)).toHaveLength(0);
  });

  it('dates readings by their own time: a batch fed at once keeps its spacing, and a stale reading is ignored', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, { clearMargin: 0.05, sustainSamples: 2, sustainMs: 3000 });
    const t0 = clock.now();
    clock.advance(5000);
    // Five readings a second apart, all over the limit, delivered in one go.
    const out = [0, 1000, 2000, 3000, 4000].map((d) => t.observe('m', 0.9, 0.8, 'fraction', undefined, t0 + d));
    expect(out.map((b) => b !== null)).toEqual([false, false, false, true, true]);
    expect(t.current('m', 0.8, 'fraction')!.sustained_sec).toBe(5);
    // An older reading than the newest changes nothing.
    expect(t.observe('m', 0.1, 0.8, 'fraction', undefined, t0 + 500)).not.toBeNull();
  });

  it('a check asking with its own limit judges the kept readings with it, leaving the recorded verdict alone', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, { clearMargin: 0.05, sustainSamples: 2, sustainMs: 3000 });
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      expect(t.observe('m', 0.6, 0.8, 'fraction')).toBeNull();
    }
    expect(t.current('m', 0.5, 'fraction')!.sustained_sec).toBe(4);
    expect(t.current('m', 0.8, 'fraction')).toBeNull();
    // A reading judged with the lower limit: the whole kept run counts.
    clock.advance(1000);
    expect(t.observe('m', 0.6, 0.5, 'fraction')!.sustained_sec).toBe(5);
  });

  it('dense readings (every 10 ms) still complete a 10 s sustain window', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, { clearMargin: 0.05, sustainSamples: 2, sustainMs: 10_000 });
    const t0 = clock.now();
    let first: number | null = null;
    for (let ms = 0; ms <= 12_000 && first === null; ms += 10) {
      clock.set(t0 + ms);
      if (t.observe('m', 0.9, 0.8, 'fraction', undefined, t0 + ms)) first = ms;
    }
    expect(first).toBe(10_000);
  });

  it('sustainMs 0 breaches on a single reading', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, { clearMargin: 0.05, sustainSamples: 1, sustainMs: 0 });
    expect(t.observe('m', 0.85, 0.8, 'fraction')).not.toBeNull();
  });

  it('clears only below the limit minus the margin (hysteresis)', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, { ...opts, sustainSamples: 1, sustainMs: 0 });
    expect(t.observe('m', 0.85, 0.8, 'fraction')).not.toBeNull();
    clock.advance(1000);
    expect(t.observe('m', 0.78, 0.8, 'fraction')).not.toBeNull(); // under the limit, above 0.75
    clock.advance(1000);
    expect(t.observe('m', 0.74, 0.8, 'fraction')).toBeNull();
    clock.advance(1000);
    expect(t.observe('m', 0.79, 0.8, 'fraction')).toBeNull();
  });

  it('judges windowed levels at once, with a relative margin for milliseconds', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, opts);
    expect(t.observeLevel('rt', 2500, 2000, 'ms')).not.toBeNull();
    expect(t.observeLevel('rt', 1950, 2000, 'ms')).not.toBeNull();
    expect(t.observeLevel('rt', 1890, 2000, 'ms')).toBeNull();
  });

  it('a run broken by a reading under the limit starts again', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, { ...opts, sustainSamples: 2, sustainMs: 5000 });
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      t.observe('m', 0.9, 0.8, 'fraction');
    }
    clock.advance(1000);
    t.observe('m', 0.5, 0.8, 'fraction');
    clock.advance(1000);
    expect(t.observe('m', 0.9, 0.8, 'fraction')).toBeNull();
    clock.advance(4000);
    expect(t.observe('m', 0.9, 0.8, 'fraction')).toBeNull(); // 4 s into the new run
    clock.advance(1000);
    expect(t.observe('m', 0.9, 0.8, 'fraction')!.sustained_sec).toBe(5);
  });
});

describe('memory status: the tighter of host and cgroup', () => {
  const host = (
    used: number,
    total: number,
    cg: { usage: number; limit: number | null; inactiveFile: number } | null,
  ): HostSample =>
    ({
      timeMs: 0,
      monotonicMs: 0,
      memory: { total, available: total - used, used, swapTotal: 0, swapFree: 0 },
      cpu: null,
      load: null,
      uptime: null,
      psi: null,
      filesystems: [],
      unavailable: {},
      cgroup: cg
        ? {
            layout: 'v2',
            v2Path: '/x',
            v2Dir: '/sys/fs/cgroup/x',
            v1MemoryDir: null,
            v1CpuDir: null,
            v1CpuacctDir: null,
            cpu: null,
            pressure: null,
            unavailable: {},
            memory: {
              source: 'v2',
              usage: cg.usage,
              limit: cg.limit,
              high: null,
              workingSet: cg.usage - cg.inactiveFile,
              swapUsage: 0,
              swapLimit: null,
              failcnt: null,
              maxUsage: null,
              events: { low: 0, high: 0, max: 0, oom: 0, oomKill: 2, underOom: false },
              stat: null,
            },
          }
        : null,
    }) as unknown as HostSample;

  it('uses the cgroup when its limit is tighter', () => {
    const m = memoryStatus(host(4e9, 64e9, { usage: 7.5e9, limit: 8e9, inactiveFile: 0.5e9 }));
    expect(m.effective!.source).toBe('cgroup');
    expect(m.effective!.used_fraction).toBeCloseTo(7 / 8, 4);
    expect(m.effective!.available_bytes).toBe(1e9);
    expect(m.cgroup!.oom_kills).toBe(2);
  });

  it('uses the host when the cgroup has no limit, or is looser', () => {
    expect(memoryStatus(host(50e9, 64e9, { usage: 10e9, limit: null, inactiveFile: 0 })).effective!.source).toBe(
      'host',
    );
    expect(memoryStatus(host(60e9, 64e9, { usage: 10e9, limit: 100e9, inactiveFile: 0 })).effective!.source).toBe(
      'host',
    );
    expect(memoryStatus(host(60e9, 64e9, null)).effective!.used_fraction).toBeCloseTo(60 / 64, 4);
  });
});

describe('tool instrumentation', () => {
  it('records latency and outcome, and turns a throw into an isError result', async () => {
    const clock = new ManualClock();
    const w = new LatencyWindow(clock, 60_000);
    const good = instrumented(w, 't', async () => ({ content: [{ type: 'text' as const, text: '{}' }] }));
    const bad = instrumented(w, 't', async () => toolError('nope'));
    const boom = instrumented(w, 't', async () => {
      throw new Error('kaput');
    });
    await good({}, {});
    await bad({}, {});
    const r = await boom({}, {});
    expect(r.isError).toBe(true);
    expect(r.content[0].text).toMatch(/t failed: kaput/);
    const s = w.summary();
    expect(s.count).toBe(3);
    expect(s.errors).toBe(2);
    expect(s.errorRate).toBeCloseTo(2 / 3, 3);
    expect(s.lastError).toMatch(/kaput/);
    clock.advance(61_000);
    expect(w.summary().count).toBe(0);
  });
});
