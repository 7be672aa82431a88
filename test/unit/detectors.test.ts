import { describe, expect, it } from 'vitest';
import { analyzeRss, type RssPoint } from '../../src/recovery/leak-detector.js';
import { HangDetector } from '../../src/recovery/hang-detector.js';
import type { ProcessSample } from '../../src/native.js';
import { TaskRestarter } from '../../src/recovery/task-restarter.js';
import { ManualClock } from '../../src/util/clock.js';

describe('task restart backoff', () => {
  it('doubles up to the cap and resets after a stable run', async () => {
    const clock = new ManualClock();
    const gate = {
      perform: async (_r: unknown, _c: unknown, act: () => Promise<unknown>) => ({ outcome: await act() }),
    };
    const t = new TaskRestarter([{ id: 'x', restart: ['true'] }], gate as never, clock, 600_000, 8000);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      delays.push(t.nextDelayMs('x'));
      await t.restart('x', 'test', false, async () => undefined);
      clock.advance(1000);
    }
    expect(delays).toEqual([0, 1000, 2000, 4000, 8000, 8000]);
    clock.advance(600_000);
    expect(t.nextDelayMs('x')).toBe(0);
  });
});

const MB = 2 ** 20;
const opts = { warmupMs: 10_000, minWindowMs: 60_000, minPoints: 6, minSlopeBytesPerMin: 5 * MB, minR2: 0.8 };
const series = (n: number, stepMs: number, f: (i: number) => number): RssPoint[] =>
  Array.from({ length: n }, (_, i) => ({ t: i * stepMs, rss: f(i) }));

describe('leak detector', () => {
  it('flags steady growth with its slope', () => {
    const a = analyzeRss(
      series(60, 5000, (i) => 500 * MB + i * 2 * MB + (i % 3) * 0.2 * MB),
      opts,
    );
    expect(a.isLeak).toBe(true);
    expect(a.slopeBytesPerMin / MB).toBeCloseTo(24, 0);
    expect(a.r2).toBeGreaterThan(0.99);
  });

  it('rejects a plateau (growth that stopped)', () => {
    const a = analyzeRss(
      series(60, 5000, (i) => 500 * MB + Math.min(i, 25) * 4 * MB),
      opts,
    );
    expect(a.isLeak).toBe(false);
    expect(a.reason).toMatch(/plateau/);
  });

  it('rejects step-then-flat (one allocation)', () => {
    const a = analyzeRss(
      series(60, 5000, (i) => (i < 40 ? 100 * MB : 600 * MB)),
      opts,
    );
    expect(a.isLeak).toBe(false);
  });

  it('waits for the warm-up and the minimum window', () => {
    expect(
      analyzeRss(
        series(5, 1000, (i) => i * 100 * MB),
        opts,
      ).reason,
    ).toMatch(/samples after the warm-up|window/);
    expect(
      analyzeRss(
        series(10, 1000, (i) => i * 100 * MB),
        { ...opts, warmupMs: 0 },
      ).reason,
    ).toMatch(/window .* shorter/);
  });

  it('does not call a flat or shrinking process a leak', () => {
    expect(
      analyzeRss(
        series(60, 5000, () => 2000 * MB),
        opts,
      ).isLeak,
    ).toBe(false);
    expect(
      analyzeRss(
        series(60, 5000, (i) => 2000 * MB - i * MB),
        opts,
      ).isLeak,
    ).toBe(false);
  });
});

describe('leak detector: the evidence needed scales with urgency', () => {
  // The defaults: 30 s warm-up, 120 s window, 5 MB/min, R² 0.8, fast window 15 s; 1 s scans.
  const d = {
    warmupMs: 30_000,
    minWindowMs: 120_000,
    minPoints: 6,
    minSlopeBytesPerMin: 5 * MB,
    minR2: 0.8,
    fastWindowMs: 15_000,
  };
  const headroom = 20 * 1024 * MB;
  const jitter = (i: number) => ((i * 7919) % 13) * 0.3 * MB;

  it('catches 50 MB/s in a straight line after ~15 s (minutes from exhausting 20 GiB), not before', () => {
    const line = (n: number) => series(n, 1000, (i) => 200 * MB + i * 50 * MB + jitter(i));
    const a = analyzeRss(line(17), d, headroom);
    expect(a.isLeak).toBe(true);
    expect(a.reason).toMatch(
      /steep growth of 3\d{3}\.\d MB\/min over 1[56] s .*runs out in about \d+ s, so 15 s of evidence suffice/,
    );
    expect(analyzeRss(line(12), d, headroom).isLeak).toBe(false); // 11 s is not enough
    expect(analyzeRss(line(17), d, null).isLeak).toBe(false); // without the headroom, no urgency: the long window
    expect(analyzeRss(line(17), { ...d, fastWindowMs: undefined }, headroom).isLeak).toBe(false);
  });

  it('needs more evidence the more time is left: 400 MB/min judged at ~20 s with 4 GiB, ~100 s with 20 GiB', () => {
    // 4 GiB / 400 MB/min = 614 s left: 1/30 of it is ~20 s; 20 GiB: 3072 s left, ~102 s.
    const line = (n: number) => series(n, 1000, (i) => 200 * MB + (i * 400 * MB) / 60 + jitter(i) / 10);
    expect(analyzeRss(line(25), d, 4 * 1024 * MB).isLeak).toBe(true);
    expect(analyzeRss(line(25), d, headroom).isLeak).toBe(false);
    expect(analyzeRss(line(110), d, headroom).isLeak).toBe(true);
  });

  it('a slow leak still needs the warm-up and the long window', () => {
    const slow = (n: number) => series(n, 1000, (i) => 200 * MB + i * 1 * MB + jitter(i) / 10);
    const early = analyzeRss(slow(90), d, headroom);
    expect(early.isLeak).toBe(false);
    expect(early.reason).toMatch(/window \d+ s is shorter than 120 s/);
    expect(analyzeRss(slow(155), d, headroom).isLeak).toBe(true);
  });

  it('rejects a fast plateau, a step then flat, and irregular fast growth however urgent', () => {
    const plateau = series(20, 1000, (i) => 200 * MB + Math.min(i, 8) * 50 * MB);
    expect(analyzeRss(plateau, d, headroom).isLeak).toBe(false);
    const step = series(20, 1000, (i) => (i < 10 ? 200 * MB : 1200 * MB));
    expect(analyzeRss(step, d, headroom).isLeak).toBe(false);
    const saw = series(20, 1000, (i) => 200 * MB + i * 20 * MB + (i % 2 ? 300 * MB : 0));
    expect(analyzeRss(saw, d, headroom).isLeak).toBe(false);
    expect(
      analyzeRss(
        series(20, 1000, () => 3000 * MB),
        d,
        headroom,
      ).isLeak,
    ).toBe(false);
  });
});

describe('hang detector', () => {
  const proc = (state: string, utime: number, ctx = 10): ProcessSample =>
    ({
      pid: 42,
      starttime: 7,
      state,
      utime,
      stime: 0,
      voluntaryCtxSwitches: ctx,
      nonvoluntaryCtxSwitches: 0,
      io: { rchar: 1, wchar: 1, syscr: 1, syscw: 1, readBytes: 0, writeBytes: 0, cancelledWriteBytes: 0 },
    }) as unknown as ProcessSample;

  it('a busy process is never hung, however long', () => {
    const h = new HangDetector({ dStateMs: 120_000, noProgressMs: 60_000 });
    for (let t = 0; t <= 600_000; t += 10_000) h.observe(proc('R', t), t);
    expect(h.verdict(42, 600_000).hung).toBe(false);
  });

  it('no progress for the window is a hang', () => {
    const h = new HangDetector({ dStateMs: 120_000, noProgressMs: 60_000 });
    for (let t = 0; t <= 70_000; t += 10_000) h.observe(proc('S', 5), t);
    const v = h.verdict(42, 70_000);
    expect(v.hung).toBe(true);
    expect(v.reason).toMatch(/no CPU time, context switches or io for 70 s/);
  });

  it("D state longer than the limit is a hang (the kernel's hung-task rule); shorter is not", () => {
    const h = new HangDetector({ dStateMs: 120_000, noProgressMs: 0 });
    h.observe(proc('D', 5), 0);
    expect(h.verdict(42, 60_000).hung).toBe(false);
    h.observe(proc('D', 5), 130_000);
    expect(h.verdict(42, 130_000).reason).toMatch(/uninterruptible sleep \(D\) for 130 s/);
  });

  it('a stopped process is hung at once; a reused pid starts over', () => {
    const h = new HangDetector({ dStateMs: 120_000, noProgressMs: 0 });
    h.observe(proc('T', 5), 0);
    expect(h.verdict(42, 0).hung).toBe(true);
    h.observe({ ...proc('S', 0), starttime: 99 }, 1000);
    expect(h.verdict(42, 1000).hung).toBe(false);
  });
});
