import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import type int32 from 'hdr-histogram-js/dist/Int32Histogram.js';
import { LatencyWindow, valuesAtPercentiles } from '../../src/health/latency-window.js';
import { ManualClock } from '../../src/util/clock.js';
import { quantile } from '../../src/util/stats.js';

describe('LatencyWindow (time-bucketed HDR histograms)', () => {
  it('counts every call in the window — 20,000 of them, no entry cap — with percentiles within 1 %', () => {
    const clock = new ManualClock();
    const w = new LatencyWindow(clock, 300_000);
    const values: number[] = [];
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const ms = 0.05 + (seed / 2 ** 31) ** 3 * 500; // skewed: mostly fast, a long tail
      values.push(ms);
      w.record(ms, i % 50 !== 0, i % 50 === 0 ? `err ${i}` : undefined);
      if (i % 100 === 0) clock.advance(1000); // 200 s in all: everything stays in the window
    }
    const s = w.summary();
    expect(s.count).toBe(20_000);
    expect(s.errors).toBe(400);
    expect(s.errorRate).toBeCloseTo(0.02, 4);
    expect(s.lastError).toBe('err 19950');
    for (const [q, got] of [
      [0.5, s.p50Ms],
      [0.95, s.p95Ms],
      [0.99, s.p99Ms],
    ] as const) {
      const exact = quantile(values, q)!;
      expect(Math.abs(got! - exact) / exact).toBeLessThan(0.01 + 0.01 / exact); // 1 % (and the 0.01 ms rounding)
    }
  });

  it('forgets calls older than the window, bucket by bucket, and errors with them', () => {
    const clock = new ManualClock();
    const w = new LatencyWindow(clock, 60_000);
    w.record(100, false, 'old failure');
    clock.advance(30_000);
    w.record(1, true);
    expect(w.summary()).toMatchObject({ count: 2, errors: 1 });
    clock.advance(31_000); // the first call is 61 s old, the second 31 s
    expect(w.summary()).toMatchObject({ count: 1, errors: 0, errorRate: 0 });
    expect(w.summary().p99Ms).toBeCloseTo(1, 1);
    expect(w.summary().lastError).toBeUndefined();
    clock.advance(60_000);
    expect(w.summary()).toMatchObject({ count: 0, errors: 0, errorRate: null, p50Ms: null, p95Ms: null, p99Ms: null });
    // and it starts again cleanly
    w.record(5, true);
    expect(w.summary().count).toBe(1);
    expect(w.summary().p50Ms).toBeCloseTo(5, 1);
  });
});

describe('valuesAtPercentiles (one walk for the three percentiles a summary reports)', () => {
  const { default: Int32Histogram } = createRequire(import.meta.url)(
    'hdr-histogram-js/dist/Int32Histogram.js',
  ) as typeof int32;

  it("gives exactly the library's getValueAtPercentile for each percentile, whatever the data", () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    const shapes: [string, () => number][] = [
      ['uniform', () => 1 + rand() * 5000],
      ['long tail', () => 1 + rand() ** 6 * 3.6e9],
      ['two modes', () => (rand() < 0.9 ? 300 + rand() * 50 : 40_000 + rand() * 1000)],
      ['one value', () => 777],
    ];
    const percentiles = [0.1, 1, 25, 50, 90, 95, 99, 99.9, 100];
    for (const [name, draw] of shapes) {
      for (const n of [1, 2, 3, 7, 100, 1001, 20_000]) {
        const h = new Int32Histogram(1, 3600e6, 2);
        h.autoResize = true;
        for (let i = 0; i < n; i++) h.recordValue(Math.round(draw()));
        const want = percentiles.map((p) => h.getValueAtPercentile(p));
        expect(valuesAtPercentiles(h, percentiles), `${name}, ${n} values`).toEqual(want);
      }
    }
  });

  it('an empty histogram gives 0 for every percentile, as the library does', () => {
    const h = new Int32Histogram(1, 3600e6, 2);
    expect(valuesAtPercentiles(h, [50, 95, 99])).toEqual([50, 95, 99].map((p) => h.getValueAtPercentile(p)));
    expect(valuesAtPercentiles(h, [50, 95, 99])).toEqual([0, 0, 0]);
  });
});
