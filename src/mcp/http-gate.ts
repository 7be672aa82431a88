/**
 * Admission control for `serve --http`: at most `concurrent` requests are served at once, up to
 * `queued` more wait in arrival order, and anything past that is told to come back later (503
 * with Retry-After) instead of piling up until every client times out. Main thread only.
 */
export class RequestGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrent: number,
    readonly queued: number,
  ) {}

  /** Requests being served and waiting now. */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  /**
   * A slot: resolves with its release function when the request may run, or returns undefined at
   * once when the queue is full (the caller answers 503). Release exactly once.
   */
  enter(): Promise<() => void> | undefined {
    if (this.active < this.concurrent) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.queued) return undefined;
    return new Promise((resolve) => this.waiting.push(() => resolve(this.releaser())));
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter: active stays the same.
      if (next) next();
      else this.active--;
    };
  }
}
