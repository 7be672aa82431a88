/** Time as a parameter: engines take a Clock so a test can run a simulated night in seconds. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock a test moves by hand. */
export class ManualClock implements Clock {
  constructor(private t = 1_800_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}

/**
 * CLOCK_MONOTONIC in milliseconds: the clock of the native sampler's timestamps (libuv's hrtime is
 * CLOCK_MONOTONIC on Linux), for mapping them onto a Clock.
 */
export function monotonicNowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
