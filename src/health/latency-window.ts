/**
 * A sliding window of call outcomes (latency and success) with percentiles and an error rate:
 * this server's own tool calls, and each configured probe.
 */
import type { Clock } from '../util/clock.js';
import { quantile, round } from '../util/stats.js';

export interface LatencySummary {
  count: number;
  errors: number;
  errorRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  lastError?: string;
}

export class LatencyWindow {
  private entries: { t: number; ms: number; ok: boolean }[] = [];
  private lastError: string | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  record(ms: number, ok: boolean, error?: string): void {
    this.entries.push({ t: this.clock.now(), ms, ok });
    if (!ok && error) this.lastError = error;
    if (this.entries.length > this.maxEntries) this.entries.splice(0, this.entries.length - this.maxEntries);
  }

  summary(): LatencySummary {
    const from = this.clock.now() - this.windowMs;
    this.entries = this.entries.filter((e) => e.t >= from);
    const ms = this.entries.map((e) => e.ms);
    const errors = this.entries.filter((e) => !e.ok).length;
    const r = (v: number | null) => (v === null ? null : round(v, 2));
    return {
      count: this.entries.length,
      errors,
      errorRate: this.entries.length ? round(errors / this.entries.length, 4) : null,
      p50Ms: r(quantile(ms, 0.5)),
      p95Ms: r(quantile(ms, 0.95)),
      p99Ms: r(quantile(ms, 0.99)),
      ...(errors && this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}
