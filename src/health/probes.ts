/**
 * Configured probes: an HTTP health endpoint or a command, each with a timeout, run on an interval
 * (e.g. the local inference server the agent depends on). Results feed a LatencyWindow per probe.
 */
import { execFile } from 'node:child_process';
import type { Clock } from '../util/clock.js';
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
    await new Promise<void>((resolve, reject) => {
      execFile(cmd, args, { timeout: p.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err) =>
        /* eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors --
           err is an ExecFileException: an Error, typed with Omit<>s the rule cannot see through */
        err ? reject(err) : resolve(),
      );
    });
    return { ok: true, ms: performance.now() - t0 };
  } catch (err) {
    const e = err as { name?: string; code?: string | number | null; killed?: boolean; message?: string };
    const ms = performance.now() - t0;
    if (e.name === 'TimeoutError' || e.killed) return { ok: false, ms, error: `timed out after ${p.timeoutMs} ms` };
    return { ok: false, ms, error: e.code !== undefined ? `exit ${String(e.code)}` : (e.message ?? String(err)) };
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
