/**
 * Operators' own checks, with node-problem-detector's custom-plugin and NHC's script contract: an
 * executable (argv, no shell) exits 0 when fine, 1 on a problem, 2 (or anything else, a timeout, a
 * failure to start) when it cannot tell; the first line of stdout is the message. Each runs on its
 * own schedule in a child process (never on the event loop), one run at a time; the results
 * feed the health status, the metrics and the report. `dcgmDiag` checks run `dcgmi diag -r N -j`
 * and judge its JSON instead of the exit code.
 */
import { runGroup } from '../util/process-group.js';
import type { z } from 'zod';
import type { operatorCheckSchema } from '../config/schema.js';
import type { Clock } from '../util/clock.js';
import { parseDcgmDiag } from './dcgm-diag.js';

export type OperatorCheckConfig = z.infer<typeof operatorCheckSchema>;
export type CheckOutcome = 'ok' | 'problem' | 'unknown';

export interface OperatorCheckResult {
  name: string;
  outcome: CheckOutcome;
  /** The first line of stdout (or why there is none). */
  message: string;
  exit_code: number | null;
  timed_out: boolean;
  duration_ms: number;
  /** ms since the epoch */
  finished_at: number;
  /** What exit 1 means for the node. */
  severity: 'critical' | 'degraded';
  /** dcgmDiag checks: the parsed summary. */
  details?: unknown;
}

/** Runs one check (exported for tests and for `overnight health`). Thread: JS; the work is a child process. */
export async function runOperatorCheck(
  c: OperatorCheckConfig,
  clock: Pick<Clock, 'now'> = Date,
): Promise<OperatorCheckResult> {
  const argv = c.dcgmDiag ? [c.dcgmDiag.dcgmi, 'diag', '-r', String(c.dcgmDiag.level), '-j'] : c.command!;
  const t0 = performance.now();
  // Its own process group, so a timeout ends the script's children too; done when the script is, whatever a
  // grandchild that escaped with setsid still holds open.
  const run = await runGroup(argv, { timeoutMs: c.timeoutSec * 1000, stdout: true });
  const verdict = ((): Pick<OperatorCheckResult, 'outcome' | 'message' | 'exit_code' | 'details'> => {
    if (run.error)
      return { outcome: 'unknown', message: `could not run ${argv[0]}: ${run.error.message}`, exit_code: null };
    if (run.timedOut) return { outcome: 'unknown', message: `timed out after ${c.timeoutSec} s`, exit_code: null };
    if (c.dcgmDiag) {
      const s = parseDcgmDiag(run.stdout);
      return { outcome: s.outcome, message: s.message, exit_code: run.code, details: s };
    }
    const first = run.stdout.split('\n', 1)[0]!.trim().slice(0, 500);
    const outcome: CheckOutcome = run.code === 0 ? 'ok' : run.code === 1 ? 'problem' : 'unknown';
    return {
      outcome,
      message: first || (run.signal ? `killed by ${run.signal}` : `exit ${run.code}`),
      exit_code: run.code,
    };
  })();
  return {
    name: c.name,
    ...verdict,
    timed_out: run.timedOut,
    duration_ms: Math.round((performance.now() - t0) * 1000) / 1000,
    finished_at: clock.now(),
    severity: c.severity,
  };
}

export class OperatorChecks {
  private readonly results = new Map<string, OperatorCheckResult>();
  private readonly running = new Map<string, Promise<OperatorCheckResult>>();
  private readonly runs = new Map<string, Record<CheckOutcome, number>>();
  private timer: NodeJS.Timeout | undefined;
  /** Called with each finished result (the monitor can turn problems into events once a store exists). */
  onResult?: (r: OperatorCheckResult) => void;

  constructor(
    readonly checks: OperatorCheckConfig[],
    private readonly clock: Pick<Clock, 'now'> = Date,
  ) {}

  /** Runs every check that is due (never run, or its interval has passed) and waits for them. */
  async runDue(): Promise<void> {
    const now = this.clock.now();
    await Promise.all(
      this.checks
        .filter((c) => {
          const last = this.results.get(c.name);
          return !last || now - last.finished_at >= c.intervalSec * 1000;
        })
        .map((c) => this.run(c)),
    );
  }

  /** Runs one check unless it is already running (then waits for that run). */
  run(c: OperatorCheckConfig): Promise<OperatorCheckResult> {
    const inFlight = this.running.get(c.name);
    if (inFlight) return inFlight;
    const p = runOperatorCheck(c, this.clock).then((r) => {
      this.results.set(c.name, r);
      const counts = this.runs.get(c.name) ?? { ok: 0, problem: 0, unknown: 0 };
      counts[r.outcome]++;
      this.runs.set(c.name, counts);
      this.running.delete(c.name);
      this.onResult?.(r);
      return r;
    });
    this.running.set(c.name, p);
    return p;
  }

  /** Starts the schedule: a 1 s unref'd tick starts whatever is due, in the background. */
  start(): void {
    if (this.timer || !this.checks.length) return;
    this.timer = setInterval(() => void this.runDue(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The last result of each check, in configuration order (checks not yet run are absent). */
  latest(): OperatorCheckResult[] {
    return this.checks.map((c) => this.results.get(c.name)).filter((r): r is OperatorCheckResult => Boolean(r));
  }

  /** Runs by check and outcome since start (for overnight_check_runs_total). */
  runCounts(): { name: string; outcome: CheckOutcome; count: number }[] {
    return [...this.runs].flatMap(([name, c]) =>
      (Object.keys(c) as CheckOutcome[]).map((outcome) => ({ name, outcome, count: c[outcome] })),
    );
  }
}
