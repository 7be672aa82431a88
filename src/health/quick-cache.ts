/**
 * What a `quick` check may reuse while the background sampler runs. A quick check at a few hundred
 * calls a second used to re-read /proc (the host sample), recompute the sampler's 60 s window and
 * re-query the store (event history, recovery journal, stalled tasks) on every call, although none
 * of them needs to be fresher than the sampler's own cadence: the sampler is the node's clock of
 * record, and its readings feed the thresholds already. So each of those inputs is taken at most
 * once per `maxAgeMs` (one sampler tick, never more than 1 s) and reused in between; the report
 * then says how old the host reading is (`sample_age_ms`). Ages are measured on the monotonic
 * clock, since the readings are of the real node whatever clock the engine runs on. Main thread only.
 */
import { monotonicNowMs } from '../util/clock.js';

/** The staleness a quick check allows: one sampler tick, and never more than a second. */
export const QUICK_MAX_AGE_CAP_MS = 1000;

/** One reused value: taken again when older than `maxAgeMs` or when its key changes. */
export class Reused<T> {
  private value: T | undefined;
  private takenAt = -Infinity;
  private key: string | undefined;

  /** The value and how old it is (ms); `take` runs only when the kept one is too old or for another key. */
  get(maxAgeMs: number, take: () => T, key = ''): { value: T; ageMs: number } {
    const now = monotonicNowMs();
    if (this.value === undefined || key !== this.key || maxAgeMs <= 0 || now - this.takenAt > maxAgeMs) {
      this.value = take();
      this.takenAt = now;
      this.key = key;
    }
    return { value: this.value, ageMs: now - this.takenAt };
  }

  /** Forgets the kept value (its source changed): the next get() takes a new one. */
  invalidate(): void {
    this.value = undefined;
  }
}
