/**
 * A sliding window of call outcomes (latency and success) with percentiles and an error rate:
 * this server's own tool calls, and each configured probe.
 *
 * The window is time-bucketed HDR histograms (hdr-histogram-js): each bucket holds the calls of
 * 1/BUCKETS of the window, a running total holds the whole window, and a bucket that ages out
 * is subtracted from the total. Recording and summarising cost the same after 100 calls as after
 * 100,000 (the old window copied and sorted every entry three times per healthCheck, so the check
 * slowed down as the night went on). Percentiles are exact to 2 significant digits (±1 %), and a
 * call leaves the window within one bucket (windowMs / BUCKETS) of windowMs.
 */
import type { JsHistogram } from 'hdr-histogram-js/dist/JsHistogram.js';
// The one class `build({ bitBucketSize: 32, useWebAssembly: false })` returns, imported on its own: the
// package's entry also loads its WebAssembly build (a base64 module, pako, the AssemblyScript loader),
// 13 MB of RSS in every serve and monitor process for code that is never run.
// Required (not imported) so that Node and vitest agree on what the CommonJS module's default is.
import { createRequire } from 'node:module';
import type int32 from 'hdr-histogram-js/dist/Int32Histogram.js';
import type { Clock } from '../util/clock.js';
import { round } from '../util/stats.js';

export interface LatencySummary {
  count: number;
  errors: number;
  errorRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  lastError?: string;
}

const BUCKETS = 30;
const SUMMARY_PERCENTILES = [50, 95, 99] as const;
/** Latencies are recorded in microseconds, from 1 µs to one hour (longer ones count as one hour). */
const MAX_US = 3600e6;

const { default: Int32Histogram } = createRequire(import.meta.url)(
  'hdr-histogram-js/dist/Int32Histogram.js',
) as typeof int32;

type Histogram = JsHistogram;

function histogram(): Histogram {
  const h = new Int32Histogram(1, MAX_US, 2);
  h.autoResize = true; // as build() sets it
  return h;
}

interface Bucket {
  /** Index of the bucket's time slot: floor(t / bucketMs). */
  slot: number;
  hist: Histogram;
  count: number;
  errors: number;
}

export class LatencyWindow {
  private readonly bucketMs: number;
  /** Live buckets, oldest first; at most BUCKETS + 1. */
  private readonly live: Bucket[] = [];
  /** Emptied histograms kept for reuse, so a steady stream of calls allocates nothing. */
  private readonly spare: Histogram[] = [];
  private readonly total = histogram();
  private count = 0;
  private errors = 0;
  private lastError: string | undefined;

  /** `_maxEntries` is accepted for compatibility: the histograms are bounded whatever the call count. */
  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    _maxEntries?: number,
  ) {
    this.bucketMs = Math.max(1, windowMs / BUCKETS);
  }

  record(ms: number, ok: boolean, error?: string): void {
    const now = this.clock.now();
    this.expire(now);
    const slot = Math.floor(now / this.bucketMs);
    let b = this.live[this.live.length - 1];
    if (!b || b.slot !== slot) {
      b = { slot, hist: this.spare.pop() ?? histogram(), count: 0, errors: 0 };
      this.live.push(b);
    }
    const us = Math.min(MAX_US, Math.max(1, Math.round((Number.isFinite(ms) ? ms : MAX_US / 1000) * 1000)));
    b.hist.recordValue(us);
    this.total.recordValue(us);
    b.count++;
    this.count++;
    if (!ok) {
      b.errors++;
      this.errors++;
      if (error) this.lastError = error;
    }
  }

  summary(): LatencySummary {
    this.expire(this.clock.now());
    const n = this.count;
    const [p50, p95, p99] = valuesAtPercentiles(this.total, SUMMARY_PERCENTILES);
    const ms = (us: number) => (n ? round(us / 1000, 2) : null);
    return {
      count: n,
      errors: this.errors,
      errorRate: n ? round(this.errors / n, 4) : null,
      p50Ms: ms(p50!),
      p95Ms: ms(p95!),
      p99Ms: ms(p99!),
      ...(this.errors && this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Drops the buckets whose slot began before the window (a bucket goes whole, never in part). */
  private expire(now: number): void {
    const from = now - this.windowMs;
    while (this.live.length && this.live[0]!.slot * this.bucketMs < from) {
      const old = this.live.shift()!;
      this.total.subtract(old.hist);
      this.count -= old.count;
      this.errors -= old.errors;
      old.hist.reset();
      this.spare.push(old.hist);
    }
    if (this.count === 0) this.total.reset();
  }
}

/** hdr-histogram-js's ulp(): the count rounding below must be the library's, bit for bit. */
const ulp = (x: number) => Math.pow(2, Math.floor(Math.log2(x)) - 52);

/**
 * The values `h.getValueAtPercentile(p)` gives for each of `percentiles` (ascending, each in
 * (0, 100]), in one walk of the counts: the library walks them from the start once per percentile,
 * and a healthCheck asks for three on every call. Same count rounding, same equivalent value.
 */
export function valuesAtPercentiles(h: JsHistogram, percentiles: readonly number[]): number[] {
  const total = h.totalCount;
  const wanted = percentiles.map((p) => {
    const fp = (Math.min(p, 100) / 100) * total;
    return Math.max(Math.ceil(fp - ulp(fp)), 1);
  });
  const out = percentiles.map(() => 0);
  let j = 0;
  let seen = 0;
  for (let i = 0; i < h.countsArrayLength && j < wanted.length; i++) {
    seen += h.getCountAtIndex(i);
    while (j < wanted.length && seen >= wanted[j]!) out[j++] = h.highestEquivalentValue(h.valueFromIndex(i));
  }
  return out;
}
