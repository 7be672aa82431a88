/**
 * Threshold evaluation with a sustain window and hysteresis, so one spike does not flip the
 * status and a value hovering at the limit does not flap:
 * - a metric becomes breached when its last `sustainSamples` observations within `sustainMs` are
 *   all above the limit (with fewer observations in the window, all of those must be);
 * - once breached, it clears only when a value falls below the clear level
 *   (limit - clearMargin for fractions, limit * (1 - clearMargin) for other units).
 */
import type { Clock } from '../util/clock.js';

export interface Breach {
  metric: string;
  observed: number;
  limit: number;
  unit: 'fraction' | 'ms' | 'percent';
  /** How long the value has been over the limit, seconds. */
  sustained_sec: number;
  detail?: string;
}

export interface HysteresisOptions {
  clearMargin: number;
  sustainSamples: number;
  sustainMs: number;
}

interface MetricState {
  observations: { t: number; v: number }[];
  breached: boolean;
  since: number | null;
}

export class ThresholdTracker {
  private readonly state = new Map<string, MetricState>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: HysteresisOptions,
  ) {}

  /** Records an observation of `metric` and says whether it is breached now. */
  observe(metric: string, value: number, limit: number, unit: Breach['unit'], detail?: string, atMs?: number): Breach | null {
    const now = atMs ?? this.clock.now();
    let s = this.state.get(metric);
    if (!s) {
      s = { observations: [], breached: false, since: null };
      this.state.set(metric, s);
    }
    s.observations.push({ t: now, v: value });
    const keepFrom = now - Math.max(this.opts.sustainMs, 1) * 4;
    while (s.observations.length > 64 || (s.observations.length > 1 && s.observations[0]!.t < keepFrom)) s.observations.shift();

    if (s.breached) {
      const clearAt = unit === 'fraction' ? limit - this.opts.clearMargin : limit * (1 - this.opts.clearMargin);
      if (value < clearAt) {
        s.breached = false;
        s.since = null;
      }
    } else if (value > limit) {
      const recent = s.observations.filter((o) => now - o.t <= this.opts.sustainMs).slice(-this.opts.sustainSamples);
      if (recent.every((o) => o.v > limit)) {
        s.breached = true;
        // The breach started at the first of the consecutive observations over the limit.
        let start = now;
        for (let i = s.observations.length - 1; i >= 0 && s.observations[i]!.v > limit; i--) start = s.observations[i]!.t;
        s.since = start;
      }
    }
    if (!s.breached) return null;
    return { metric, observed: value, limit, unit, sustained_sec: Math.max(0, (now - (s.since ?? now)) / 1000), ...(detail ? { detail } : {}) };
  }

  /** Forgets a metric (a GPU that went away, a probe removed from the configuration). */
  forget(metric: string): void {
    this.state.delete(metric);
  }
}
