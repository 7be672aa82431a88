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

export function estimateEta(all: Point[], nowMs: number, window = 8): EtaResult {
  const points = sinceLastRestart(all);
  const last = points[points.length - 1];
  if (!last) return { estimate: null, reason: 'no checkpoints yet' };
  if (last.c >= 1) return { estimate: { eta: new Date(last.t).toISOString(), seconds_remaining: 0, method: 'regression', rate_per_hour: 0, confidence: { low_seconds: 0, high_seconds: 0, level: 0.95 } } };
  if (points.length < 2) return { estimate: null, reason: 'one checkpoint so far: an estimate needs at least two' };
  const recent = points.slice(-window);
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
  const gaps = recent.slice(1).map((p, i) => p.t - recent[i]!.t).sort((a, b) => a - b);
  const usualGap = gaps[Math.floor(gaps.length / 2)] ?? 0;
  if (nowMs - last.t > 2 * usualGap && nowMs > recent[0]!.t) {
    const overall = (last.c - recent[0]!.c) / ((nowMs - recent[0]!.t) / 1000);
    if (overall < rate) rate = overall;
  }
  if (!(rate > 0)) return { estimate: null, reason: 'no progress over the recent checkpoints: completion is not rising' };
  const remaining = (1 - last.c) / rate;
  const etaMs = Math.max(nowMs, last.t + remaining * 1000);
  const z = 1.96;
  const lowRate = rate + z * (Number.isFinite(se) ? se : rate * 0.5);
  const highRate = rate - z * (Number.isFinite(se) ? se : rate * 0.5);
  const fromNow = (r: number) => Math.max(0, last.t / 1000 + (1 - last.c) / r - nowMs / 1000);
  return {
    estimate: {
      eta: new Date(etaMs).toISOString(),
      seconds_remaining: Math.round((etaMs - nowMs) / 1000),
      method,
      rate_per_hour: Math.round(rate * 3600 * 10_000) / 10_000,
      confidence: { low_seconds: Math.round(fromNow(lowRate)), high_seconds: highRate > 0 ? Math.round(fromNow(highRate)) : null, level: 0.95 },
    },
  };
}
