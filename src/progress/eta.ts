/**
 * ETA from (time, completion) checkpoints: weighted least squares over recent checkpoints, with a
 * bias-corrected exponential moving average of the rate as the fallback for short histories (as
 * tqdm does). Honest under stalls (time since the last checkpoint counts as no progress) and
 * restarts (only checkpoints after the last restart are used).
 */

export interface Point {
  /** ms */
  t: number;
  /** fraction in [0, 1] */
  c: number;
}

export interface Eta {
  eta: string;
  seconds_remaining: number;
  method: 'regression' | 'ema';
  /** completion per hour */
  rate_per_hour: number;
  /** Band of seconds_remaining at the given level; high is null when the slowest plausible rate is zero. */
  confidence: { low_seconds: number; high_seconds: number | null; level: number };
}

export type EtaResult = { estimate: Eta } | { estimate: null; reason: string };

/** Points after the last restart (a drop in completion of more than 1 %). */
export function sinceLastRestart(points: Point[]): Point[] {
  let start = 0;
  for (let i = 1; i < points.length; i++) if (points[i]!.c < points[i - 1]!.c - 0.01) start = i;
  return points.slice(start);
}

function emaRate(points: Point[], alpha = 0.3): number {
  let ema = 0;
  let n = 0;
  for (let i = 1; i < points.length; i++) {
    const dt = (points[i]!.t - points[i - 1]!.t) / 1000;
    if (dt <= 0) continue;
    ema = alpha * ((points[i]!.c - points[i - 1]!.c) / dt) + (1 - alpha) * ema;
    n++;
  }
  return n ? ema / (1 - (1 - alpha) ** n) : 0;
}

/** Weighted least squares slope (completion per second) with its standard error; later points weigh more. */
function regression(points: Point[]): { slope: number; se: number } {
  const t0 = points[0]!.t;
  const xs = points.map((p) => (p.t - t0) / 1000);
  const ys = points.map((p) => p.c);
  const ws = points.map((_, i) => 0.5 + (i + 1) / points.length);
  const sw = ws.reduce((a, b) => a + b, 0);
  const mx = xs.reduce((a, x, i) => a + ws[i]! * x, 0) / sw;
  const my = ys.reduce((a, y, i) => a + ws[i]! * y, 0) / sw;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += ws[i]! * (xs[i]! - mx) * (ys[i]! - my);
    sxx += ws[i]! * (xs[i]! - mx) ** 2;
  }
  if (sxx === 0) return { slope: 0, se: Infinity };
  const slope = sxy / sxx;
  let sse = 0;
  for (let i = 0; i < xs.length; i++) sse += ws[i]! * (ys[i]! - (my + slope * (xs[i]! - mx))) ** 2;
  const se = xs.length > 2 ? Math.sqrt(sse / (xs.length - 2) / sxx) : Infinity;
  return { slope, se };
}

/**
 * Progress smaller than this over the whole recent window is no progress: completions are fractions
 * reported by agents, and a least-squares slope through equal values comes out as ~1e-20, not 0.
 */
const MIN_PROGRESS = 1e-9;
/** Beyond this an estimate says nothing useful (and Date cannot hold ~275,000 years at all). */
const MAX_HORIZON_SEC = 100 * 365 * 86_400;
/** The largest time a Date can hold, in ms either side of the epoch. */
const MAX_DATE_MS = 8.64e15;

const isoOrNull = (ms: number) =>
  Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : null;
/** Four decimals, without overflowing to Infinity for a huge rate. */
const round4 = (x: number) => (Number.isFinite(x * 10_000) ? Math.round(x * 10_000) / 10_000 : x);
const none = (reason: string): EtaResult => ({ estimate: null, reason });

/**
 * The ETA of a series of checkpoints at `nowMs`. Never throws: a series it cannot estimate from
 * (no or one checkpoint, no progress, progress too slow to mean anything, times a Date cannot hold)
 * gives `estimate: null` and the reason.
 */
export function estimateEta(all: Point[], nowMs: number, window = 8): EtaResult {
  if (!Number.isFinite(nowMs) || Math.abs(nowMs) > MAX_DATE_MS)
    return none(`the current time ${nowMs} is not a valid time`);
  const bad = all.findIndex((p) => !Number.isFinite(p.t) || Math.abs(p.t) > MAX_DATE_MS || !Number.isFinite(p.c));
  if (bad >= 0)
    return none(`checkpoint ${bad + 1} has no valid time or completion (t ${all[bad]!.t}, completion ${all[bad]!.c})`);
  const points = sinceLastRestart(all);
  const last = points[points.length - 1];
  if (!last) return none('no checkpoints yet');
  if (last.c >= 1)
    return {
      estimate: {
        eta: new Date(last.t).toISOString(),
        seconds_remaining: 0,
        method: 'regression',
        rate_per_hour: 0,
        confidence: { low_seconds: 0, high_seconds: 0, level: 0.95 },
      },
    };
  if (points.length < 2) return none('one checkpoint so far: an estimate needs at least two');
  const recent = points.slice(-window);
  const noProgress = `no progress over the last ${recent.length} checkpoints: completion is not rising`;
  if (!(last.c - recent[0]!.c > MIN_PROGRESS)) return none(noProgress);
  let method: Eta['method'];
  let rate: number;
  let se: number;
  if (recent.length >= 3) {
    const r = regression(recent);
    method = 'regression';
    rate = r.slope;
    se = r.se;
  } else {
    method = 'ema';
    rate = emaRate(recent);
    se = Math.abs(rate) * 0.5;
  }
  // A stall is progress too: if the last checkpoint is older than the usual gap, the time since it
  // passed with no progress, and the rate over [first recent, now] is the honest one.
  const gaps = recent
    .slice(1)
    .map((p, i) => p.t - recent[i]!.t)
    .sort((a, b) => a - b);
  const usualGap = gaps[Math.floor(gaps.length / 2)] ?? 0;
  if (nowMs - last.t > 2 * usualGap && nowMs > recent[0]!.t) {
    const overall = (last.c - recent[0]!.c) / ((nowMs - recent[0]!.t) / 1000);
    if (overall < rate) rate = overall;
  }
  if (!Number.isFinite(rate))
    return none(
      `the checkpoints' times are too close together to give a rate (${recent.length} checkpoints within ` +
        `${recent[recent.length - 1]!.t - recent[0]!.t} ms)`,
    );
  if (!(rate > 0)) return none(noProgress);
  const remaining = (1 - last.c) / rate;
  if (!(remaining <= MAX_HORIZON_SEC))
    return none(
      `progress is too slow to estimate: at ${rate * 3600} per hour the task would finish more than 100 years ` +
        `from its last checkpoint`,
    );
  const etaMs = Math.max(nowMs, last.t + remaining * 1000);
  const eta = isoOrNull(etaMs);
  if (eta === null)
    return none(`the estimated completion time (${etaMs} ms since the epoch) is outside what a date can hold`);
  const z = 1.96;
  const spread = Number.isFinite(se) ? se : rate * 0.5;
  const lowRate = rate + z * spread;
  const highRate = rate - z * spread;
  const fromNow = (r: number) => Math.max(0, last.t / 1000 + (1 - last.c) / r - nowMs / 1000);
  const high = highRate > 0 ? fromNow(highRate) : Infinity;
  const low = fromNow(lowRate);
  return {
    estimate: {
      eta,
      seconds_remaining: Math.round((etaMs - nowMs) / 1000),
      method,
      rate_per_hour: round4(rate * 3600),
      // The slowest plausible rate may put the end past any useful horizon: then it is unbounded (null).
      confidence: {
        low_seconds: Number.isFinite(low) ? Math.round(low) : 0,
        high_seconds: high <= MAX_HORIZON_SEC ? Math.round(high) : null,
        level: 0.95,
      },
    },
  };
}
