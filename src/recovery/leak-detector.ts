/**
 * Memory-leak detection from a process's RSS history: a robust (Theil–Sen) slope with a
 * least-squares R² over a minimum window after a warm-up, rejecting plateaus (growth that
 * stopped) and step-then-flat shapes (one big allocation). Pure: points in, verdict out.
 *
 * The evidence needed scales with urgency: a patient verdict waits for the warm-up and the full
 * window, but a steep, clean slope that would exhaust the headroom soon is judged over a window
 * proportional to the time left (EVIDENCE_FRACTION of it, at least fastWindowMs): waiting two
 * minutes to be sure about a leak that ends the node in five is the wrong trade.
 */
import { medianPairwiseSlope } from './median-slope.js';

export interface RssPoint {
  /** ms */
  t: number;
  /** bytes */
  rss: number;
}

export interface LeakOptions {
  warmupMs: number;
  minWindowMs: number;
  minPoints: number;
  minSlopeBytesPerMin: number;
  minR2: number;
  /** The shortest window an urgent leak is judged over (ms); absent or >= minWindowMs: no urgency. */
  fastWindowMs?: number;
}

/** Evidence is gathered over at most this fraction of the time left before memory runs out. */
export const EVIDENCE_FRACTION = 1 / 30;
/** An urgent verdict, judged over less history, needs a cleaner line than a patient one. */
export const URGENT_MIN_R2 = 0.95;

export interface LeakAnalysis {
  isLeak: boolean;
  reason: string;
  slopeBytesPerMin: number;
  r2: number;
  windowSec: number;
  points: number;
}

/** The median pairwise slope (selection, not a sort: see median-slope.ts). */
const theilSen = medianPairwiseSlope;

function leastSquaresR2(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  if (sxx === 0 || syy === 0) return 0;
  return (sxy * sxy) / (sxx * syy);
}

/** Thins a long history to at most `max` evenly spaced points (keeps Theil–Sen at O(max²)). */
function thin(points: RssPoint[], max: number): RssPoint[] {
  if (points.length <= max) return points;
  const out: RssPoint[] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.round((i * (points.length - 1)) / (max - 1))]!);
  return out;
}

function none(reason: string, extra: Partial<LeakAnalysis> = {}): LeakAnalysis {
  return { isLeak: false, reason, slopeBytesPerMin: 0, r2: 0, windowSec: 0, points: 0, ...extra };
}

/**
 * The verdict over the RSS history of a process. `headroomBytes` (memory still available) makes
 * a steep leak urgent: it is then judged sooner, over a window that shrinks with the time left.
 */
export function analyzeRss(
  history: readonly RssPoint[],
  o: LeakOptions,
  headroomBytes: number | null = null,
): LeakAnalysis {
  const first = history[0];
  if (!first) return none('no samples');
  const patient = judge(
    thin(
      history.filter((p) => p.t - first.t >= o.warmupMs),
      120,
    ),
    o,
    o.minWindowMs,
    o.minR2,
    'after the warm-up',
  );
  const fastMs = o.fastWindowMs ?? Infinity;
  if (patient.isLeak || headroomBytes === null || !(headroomBytes > 0) || fastMs >= o.minWindowMs) return patient;
  // Urgency: the most recent history over windows of 15, 30, 60 ... s (no warm-up: a process that
  // grows this fast from its start would end the node before the warm-up is over).
  const last = history[history.length - 1]!;
  for (let w = fastMs; w < o.minWindowMs * 2; w *= 2) {
    const win = Math.min(w, o.minWindowMs);
    let from = -1;
    for (let i = history.length - 1; i >= 0; i--)
      if (history[i]!.t <= last.t - win) {
        from = i;
        break;
      }
    // The history is not this long yet: judge all of it (if it spans the fast window), then stop.
    const whole = from < 0;
    if (whole && last.t - first.t < fastMs) break;
    const v = judge(
      thin(history.slice(whole ? 0 : from), 120),
      o,
      Math.min(win, last.t - first.t),
      Math.max(o.minR2, URGENT_MIN_R2),
      'in the window',
    );
    if (!v.isLeak) continue;
    const secondsLeft = (headroomBytes / v.slopeBytesPerMin) * 60;
    const neededMs = Math.min(o.minWindowMs, Math.max(fastMs, secondsLeft * EVIDENCE_FRACTION * 1000));
    if (v.windowSec * 1000 >= neededMs) {
      return {
        ...v,
        reason:
          `steep growth of ${(v.slopeBytesPerMin / 2 ** 20).toFixed(1)} MB/min over ` +
          `${Math.round(v.windowSec)} s (R² ${v.r2.toFixed(2)}): available memory runs out in about ` +
          `${Math.round(secondsLeft)} s, so ${Math.round(neededMs / 1000)} s of evidence suffice`,
      };
    }
    if (whole || win >= o.minWindowMs) break;
  }
  return patient;
}

/** The shape checks over evenly thinned points, with the window and fit this verdict needs. */
function judge(pts: RssPoint[], o: LeakOptions, minWindowMs: number, minR2: number, where: string): LeakAnalysis {
  if (pts.length < o.minPoints) return none(`only ${pts.length} samples ${where} (need ${o.minPoints})`);
  const windowMs = pts[pts.length - 1]!.t - pts[0]!.t;
  if (windowMs < minWindowMs)
    return none(`window ${Math.round(windowMs / 1000)} s is shorter than ${Math.round(minWindowMs / 1000)} s`, {
      points: pts.length,
      windowSec: windowMs / 1000,
    });
  const xs = pts.map((p) => (p.t - pts[0]!.t) / 60_000);
  const ys = pts.map((p) => p.rss);
  const slope = theilSen(xs, ys);
  const r2 = leastSquaresR2(xs, ys);
  const base = { slopeBytesPerMin: slope, r2, windowSec: windowMs / 1000, points: pts.length };
  if (slope < o.minSlopeBytesPerMin)
    return {
      ...base,
      isLeak: false,
      reason:
        `growth ${(slope / 2 ** 20).toFixed(2)} MB/min is below ` +
        `${(o.minSlopeBytesPerMin / 2 ** 20).toFixed(2)} MB/min`,
    };
  // Plateau: the recent half must still grow at a good fraction of the overall rate.
  const half = Math.floor(pts.length / 2);
  const recent = theilSen(xs.slice(half), ys.slice(half));
  if (recent < Math.max(o.minSlopeBytesPerMin, slope * 0.3))
    return {
      ...base,
      isLeak: false,
      reason: `growth stopped: the recent half grows ${(recent / 2 ** 20).toFixed(2)} MB/min (a plateau)`,
    };
  // Step then flat: most of the growth in a single interval is an allocation, not a leak.
  const total = ys[ys.length - 1]! - ys[0]!;
  let maxStep = 0;
  for (let i = 1; i < ys.length; i++) maxStep = Math.max(maxStep, ys[i]! - ys[i - 1]!);
  if (total > 0 && maxStep > 0.6 * total && pts.length >= 4)
    return {
      ...base,
      isLeak: false,
      reason: `${Math.round((maxStep / total) * 100)}% of the growth came in one step (an allocation, then flat)`,
    };
  if (r2 < minR2) return { ...base, isLeak: false, reason: `growth is irregular (R² ${r2.toFixed(2)} < ${minR2})` };
  return {
    ...base,
    isLeak: true,
    reason:
      `steady growth of ${(slope / 2 ** 20).toFixed(1)} MB/min over ${Math.round(windowMs / 1000)} s (R² ` +
      `${r2.toFixed(2)})`,
  };
}
