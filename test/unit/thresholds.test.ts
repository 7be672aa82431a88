import { describe, expect, it } from 'vitest';
import { ThresholdTracker } from '../../src/health/thresholds.js';
import { memoryStatus } from '../../src/health/metrics.js';
import { LatencyWindow } from '../../src/health/latency-window.js';
import { instrumented, toolError } from '../../src/mcp/tool-kit.js';
import { ManualClock } from '../../src/util/clock.js';
import type { HostSample } from '../../src/native.js';

const opts = { clearMargin: 0.05, sustainSamples: 3, sustainMs: 10_000 };

describe('ThresholdTracker', () => {
  it('needs the breach sustained over consecutive samples: one spike does not flip it', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, opts);
    const seq = [0.5, 0.9, 0.5, 0.9, 0.9];
    const out = seq.map((v) => {
      clock.advance(1000);
      return t.observe('memory', v, 0.8, 'fraction');
    });
    expect(out.map((b) => b !== null)).toEqual([false, false, false, false, false]);
    clock.advance(1000);
    const b = t.observe('memory', 0.9, 0.8, 'fraction')!;
    expect(b).not.toBeNull();
    expect(b.sustained_sec).toBe(2);
  });

  it('clears only below the limit minus the margin (hysteresis)', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, { ...opts, sustainSamples: 1 });
    expect(t.observe('m', 0.85, 0.8, 'fraction')).not.toBeNull();
    clock.advance(1000);
    expect(t.observe('m', 0.78, 0.8, 'fraction')).not.toBeNull(); // under the limit, above 0.75
    clock.advance(1000);
    expect(t.observe('m', 0.74, 0.8, 'fraction')).toBeNull();
    clock.advance(1000);
    expect(t.observe('m', 0.79, 0.8, 'fraction')).toBeNull();
  });

  it('uses a relative margin for milliseconds', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, { ...opts, sustainSamples: 1 });
    expect(t.observe('rt', 2500, 2000, 'ms')).not.toBeNull();
    expect(t.observe('rt', 1950, 2000, 'ms')).not.toBeNull();
    expect(t.observe('rt', 1890, 2000, 'ms')).toBeNull();
  });

  it('ignores observations older than the sustain window', () => {
    const clock = new ManualClock();
    const t = new ThresholdTracker(clock, { ...opts, sustainSamples: 2, sustainMs: 5000 });
    t.observe('m', 0.5, 0.8, 'fraction');
    clock.advance(60_000);
    // the only observation within the window is this one: it decides alone
    expect(t.observe('m', 0.9, 0.8, 'fraction')).not.toBeNull();
  });
});

describe('memory status: the tighter of host and cgroup', () => {
  const host = (used: number, total: number, cg: { usage: number; limit: number | null; inactiveFile: number } | null): HostSample =>
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
        ? { layout: 'v2', v2Path: '/x', v2Dir: '/sys/fs/cgroup/x', v1MemoryDir: null, v1CpuDir: null, v1CpuacctDir: null, cpu: null, pressure: null, unavailable: {},
            memory: { source: 'v2', usage: cg.usage, limit: cg.limit, high: null, workingSet: cg.usage - cg.inactiveFile, swapUsage: 0, swapLimit: null, failcnt: null, maxUsage: null, events: { low: 0, high: 0, max: 0, oom: 0, oomKill: 2, underOom: false }, stat: null } }
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
    expect(memoryStatus(host(50e9, 64e9, { usage: 10e9, limit: null, inactiveFile: 0 })).effective!.source).toBe('host');
    expect(memoryStatus(host(60e9, 64e9, { usage: 10e9, limit: 100e9, inactiveFile: 0 })).effective!.source).toBe('host');
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
    expect(r.content[0]!.text).toMatch(/t failed: kaput/);
    const s = w.summary();
    expect(s.count).toBe(3);
    expect(s.errors).toBe(2);
    expect(s.errorRate).toBeCloseTo(2 / 3, 3);
    expect(s.lastError).toMatch(/kaput/);
    clock.advance(61_000);
    expect(w.summary().count).toBe(0);
  });
});
