/**
 * Threshold evaluation with a sustain window and hysteresis, so one spike does not flip the
 * status and a value hovering at the limit does not flap:
 * - a sampled metric becomes breached when its readings have stayed above the limit for at least
 *   `sustainMs` of wall time (the first reading of the run over the limit is `sustainMs` old) and
 *   over at least `sustainSamples` readings. Wall time, not a count: two checks 300 ms apart are
 *   not "sustained", however many readings they bring. `sustainMs: 0` breaches at once.
 * - a level that is already an aggregate over a window (p95 latency, error rate over 5 min) or a
 *   slow-moving state (filesystem usage) is judged on each value (`observeLevel`), with hysteresis.
 * - once breached, it clears only when a value falls below the clear level
 *   (limit - clearMargin for fractions, limit * (1 - clearMargin) for other units).
 * Readings carry their own time (the background sampler's), so a batch fed at once keeps its spacing.
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
  /** true: reported for information; it does not make the node degraded on its own (CPU busy without PSI cpu stall). */
  informational?: boolean;
}

export interface HysteresisOptions {
  clearMargin: number;
  sustainSamples: number;
  sustainMs: number;
}

interface Verdict {
  breached: boolean;
  since: number | null;
  /** The current run of readings over the limit: when it began and how many (kept here, not
   * re-found in the history, so a sustain window longer than the kept history still completes). */
  runStart: number | null;
  runCount: number;
}

const freshVerdict = (): Verdict => ({ breached: false, since: null, runStart: null, runCount: 0 });

interface MetricState extends Verdict {
  observations: { t: number; v: number }[];
  /** The limit the verdict was reached with (a check may ask with another). */
  limit: number;
}

const MAX_OBSERVATIONS = 256;

export class ThresholdTracker {
  private readonly state = new Map<string, MetricState>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: HysteresisOptions,
  ) {}

  private stateOf(metric: string): MetricState {
    let s = this.state.get(metric);
    if (!s) {
      s = { observations: [], ...freshVerdict(), limit: NaN };
      this.state.set(metric, s);
    }
    return s;
  }

  private clearLevel(limit: number, unit: Breach['unit']): number {
    return unit === 'fraction' ? limit - this.opts.clearMargin : limit * (1 - this.opts.clearMargin);
  }

  /**
   * Records a reading of a sampled metric taken at `atMs` (default: now) and says whether the
   * metric is breached now. Readings must arrive in time order; an older one than the newest is ignored.
   */
  observe(
    metric: string,
    value: number,
    limit: number,
    unit: Breach['unit'],
    detail?: string,
    atMs?: number,
  ): Breach | null {
    const t = atMs ?? this.clock.now();
    const s = this.stateOf(metric);
    const newest = s.observations.at(-1);
    if (!newest || t >= newest.t) {
      s.observations.push({ t, v: value });
      // Kept history serves a check that asks with another limit (a replay); the run itself is tracked as it goes.
      const keepFrom = t - Math.max(this.opts.sustainMs, 1000) * 2;
      let drop = 0;
      while (
        drop < s.observations.length - 1 &&
        (s.observations[drop]!.t < keepFrom || s.observations.length - drop > MAX_OBSERVATIONS)
      )
        drop++;
      if (drop) s.observations.splice(0, drop);
      if (limit !== s.limit) this.replay(s, s.observations.length - 1, limit, unit);
      this.step(s, s.observations, s.observations.length - 1, limit, unit);
      s.limit = limit;
    }
    return this.current(metric, limit, unit, detail);
  }

  /** Runs the state machine on the reading at index `i` (the newest, or each in turn in a replay). */
  private step(v: Verdict, obs: { t: number; v: number }[], i: number, limit: number, unit: Breach['unit']): void {
    const last = obs[i]!;
    if (last.v > limit) {
      if (v.runStart === null) {
        v.runStart = last.t;
        v.runCount = 0;
      }
      v.runCount++;
    } else {
      v.runStart = null;
      v.runCount = 0;
    }
    if (v.breached) {
      if (last.v < this.clearLevel(limit, unit)) {
        v.breached = false;
        v.since = null;
      }
      return;
    }
    if (v.runStart !== null && v.runCount >= this.opts.sustainSamples && last.t - v.runStart >= this.opts.sustainMs) {
      v.breached = true;
      v.since = v.runStart;
    }
  }

  /**
   * Whether `metric` is breached, from the readings recorded so far (no new reading): what a check
   * reports when the background sampler, not the check, took the readings.
   */
  current(metric: string, limit: number, unit: Breach['unit'], detail?: string): Breach | null {
    const s = this.state.get(metric);
    const last = s?.observations.at(-1);
    if (!s || !last) return null;
    // Asked with another limit than the readings were judged with (a check's own thresholds):
    // judge the kept readings again with this one, leaving the recorded verdict alone.
    const v: Verdict =
      limit === s.limit ? s : this.replay(freshVerdict(), s.observations.length, limit, unit, s.observations);
    if (!v.breached) return null;
    const now = Math.max(this.clock.now(), last.t);
    return {
      metric,
      observed: last.v,
      limit,
      unit,
      sustained_sec: Math.max(0, (now - (v.since ?? now)) / 1000),
      ...(detail ? { detail } : {}),
    };
  }

  /** Runs the state machine from the oldest kept reading up to (not including) index `end`. */
  private replay<V extends Verdict>(
    v: V,
    end: number,
    limit: number,
    unit: Breach['unit'],
    obs = (v as unknown as MetricState).observations,
  ): V {
    Object.assign(v, freshVerdict());
    for (let i = 0; i < end; i++) this.step(v, obs, i, limit, unit);
    return v;
  }

  /**
   * A level that already summarises a window (p95 latency, error rate) or moves slowly (disk
   * usage): breached as soon as it is over the limit, cleared with hysteresis.
   */
  observeLevel(metric: string, value: number, limit: number, unit: Breach['unit'], detail?: string): Breach | null {
    const now = this.clock.now();
    const s = this.stateOf(metric);
    s.observations = [{ t: now, v: value }];
    s.limit = limit;
    if (s.breached) {
      if (value < this.clearLevel(limit, unit)) Object.assign(s, freshVerdict());
    } else if (value > limit) {
      Object.assign(s, { breached: true, since: now, runStart: now, runCount: 1 });
    }
    if (value <= limit) Object.assign(s, { runStart: null, runCount: 0 });
    return this.current(metric, limit, unit, detail);
  }

  /** Whether `metric` has any reading yet. */
  seen(metric: string): boolean {
    return (this.state.get(metric)?.observations.length ?? 0) > 0;
  }

  /** Forgets a metric (a GPU that went away, a probe removed from the configuration). */
  forget(metric: string): void {
    this.state.delete(metric);
  }
}
