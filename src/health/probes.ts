/**
 * Configured probes: an HTTP health endpoint or a command, each with a timeout, run on an interval
 * (e.g. the local inference server the agent depends on). Results feed a LatencyWindow per probe.
 */
import type { Clock } from '../util/clock.js';
import { runGroup } from '../util/process-group.js';
import { LatencyWindow, type LatencySummary } from './latency-window.js';

export interface ProbeConfig {
  name: string;
  url?: string | undefined;
  command?: string[] | undefined;
  timeoutMs: number;
  intervalMs: number;
}

export interface ProbeResult {
  ok: boolean;
  ms: number;
  error?: string;
}

/** Runs one probe once. Never rejects. */
export async function runProbe(p: ProbeConfig): Promise<ProbeResult> {
  const t0 = performance.now();
  try {
    if (p.url) {
      const res = await fetch(p.url, { signal: AbortSignal.timeout(p.timeoutMs), redirect: 'manual' });
      await res.arrayBuffer().catch(() => undefined);
      const ms = performance.now() - t0;
      return res.ok ? { ok: true, ms } : { ok: false, ms, error: `HTTP ${res.status}` };
    }
    const [cmd, ...args] = p.command ?? [];
    if (!cmd) return { ok: false, ms: 0, error: 'probe has no url or command' };
    // Its own process group, killed whole at the time-out (`sh -c 'sleep; ...'` killed by pid alone leaves the
    // sleep running); done when the command is, whatever a grandchild that escaped with setsid still holds.
    const run = await runGroup([cmd, ...args], { timeoutMs: p.timeoutMs });
    const ms = performance.now() - t0;
    if (run.error) return { ok: false, ms, error: `could not run ${cmd}: ${run.error.message}` };
    if (run.timedOut) return { ok: false, ms, error: `timed out after ${p.timeoutMs} ms` };
    if (run.code !== 0) return { ok: false, ms, error: run.signal ? `killed by ${run.signal}` : `exit ${run.code}` };
    return { ok: true, ms };
  } catch (err) {
    const e = err as { name?: string; message?: string };
    const ms = performance.now() - t0;
    if (e.name === 'TimeoutError') return { ok: false, ms, error: `timed out after ${p.timeoutMs} ms` };
    return { ok: false, ms, error: e.message ?? String(err) };
  }
}

export class ProbeRunner {
  private readonly windows = new Map<string, LatencyWindow>();
  private readonly lastRun = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly probes: ProbeConfig[],
    private readonly clock: Clock,
    windowMs: number,
  ) {
    for (const p of probes) this.windows.set(p.name, new LatencyWindow(clock, windowMs));
  }

  /** Runs every probe that is due (or all, with force). */
  async runDue(force = false): Promise<void> {
    // A run already in flight (the background one) is waited for, not duplicated.
    if (this.inflight) return this.inflight;
    this.inflight = this.runNow(force).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async runNow(force: boolean): Promise<void> {
    const now = this.clock.now();
    const due = this.probes.filter((p) => force || now - (this.lastRun.get(p.name) ?? 0) >= p.intervalMs);
    await Promise.all(
      due.map(async (p) => {
        this.lastRun.set(p.name, this.clock.now());
        const r = await runProbe(p);
        this.windows.get(p.name)!.record(r.ms, r.ok, r.error);
      }),
    );
  }

  /** Runs due probes in the background every second (unref'd: never keeps Node alive). */
  start(): void {
    if (this.timer || !this.probes.length) return;
    this.timer = setInterval(() => void this.runDue(), 1000);
    this.timer.unref();
    void this.runDue();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  summaries(): { name: string; target: string; summary: LatencySummary }[] {
    return this.probes.map((p) => ({
      name: p.name,
      target: p.url ?? (p.command ?? []).join(' '),
      summary: this.windows.get(p.name)!.summary(),
    }));
  }
}
