/**
 * The process ladder: (stopped -> SIGCONT) -> optional checkpoint signal -> SIGTERM -> wait on a
 * pidfd -> SIGKILL -> verify the process is gone and its memory came back. Every signal passes the
 * policy gate; in a dry run each step says what would be done and nothing is sent.
 */
import type { PolicyGate } from '../policy/policy-gate.js';
import { loadNative, type ProcessSample } from '../native.js';
import { readProcess } from '../readers/processes.js';
import type { Clock } from '../util/clock.js';

export interface ActionTaken {
  step: string;
  target: Record<string, unknown>;
  outcome: 'done' | 'would_do' | 'refused' | 'failed' | 'skipped';
  detail: string;
  started_at: string;
  finished_at: string;
  request_id?: string;
}

export interface LadderResult {
  actions: ActionTaken[];
  gone: boolean;
  refused: boolean;
  /** RSS the process held before the ladder (its memory, expected back). */
  rssBefore: number;
}

export interface LadderOptions {
  actor: string;
  dryRun: boolean;
  /** Default: the policy's termGraceSec. */
  termGraceMs?: number;
  killWaitMs?: number;
  /**
   * Send the policy's checkpointSignal first (when it sets one). Recoveries of a task's own process
   * do; freeing a GPU or memory for someone else, or an emergency shutdown, do not wait on it.
   */
  checkpoint?: boolean;
  inputs?: Record<string, unknown>;
}

export async function endProcess(
  gate: PolicyGate,
  clock: Clock,
  p: ProcessSample,
  options: LadderOptions,
): Promise<LadderResult> {
  const o = {
    ...options,
    termGraceMs: options.termGraceMs ?? gate.policy.termGraceSec * 1000,
    checkpointSignal: options.checkpoint ? (gate.policy.checkpointSignal as NodeJS.Signals | undefined) : undefined,
  };
  const actions: ActionTaken[] = [];
  const iso = () => new Date(clock.now()).toISOString();
  const target = { pid: p.pid, comm: p.comm, starttime: p.starttime };
  const send = async (signal: NodeJS.Signals, why: string) => {
    const r = await gate.signal(o.actor, p.pid, p.starttime, signal, o.dryRun, { ...o.inputs, why });
    const outcome: ActionTaken['outcome'] = !r.allowed
      ? 'refused'
      : r.dry_run
        ? 'would_do'
        : r.error
          ? r.error.code === 'ESRCH'
            ? 'skipped'
            : 'failed'
          : 'done';
    actions.push({
      step: signal,
      target,
      outcome,
      detail: r.error ? `${why}: ${r.error.message}` : !r.allowed ? r.reason : why,
      started_at: r.started_at,
      finished_at: r.finished_at,
      request_id: r.request_id,
    });
    return { outcome, gone: r.error?.code === 'ESRCH' };
  };
  const wait = async (ms: number, what: string) => {
    const t0 = iso();
    const exited = await loadNative().waitForExit(p.pid, p.starttime, ms);
    actions.push({
      step: 'wait',
      target,
      outcome: 'done',
      detail: exited ? `${what}: exited` : `${what}: still running after ${ms} ms`,
      started_at: t0,
      finished_at: iso(),
    });
    return exited;
  };

  if (p.state === 'T' || p.state === 't') {
    const r = await send('SIGCONT', 'stopped (state T): continue it so it can handle SIGTERM');
    if (r.outcome === 'refused') return { actions, gone: false, refused: true, rssBefore: p.rss };
  }
  if (o.checkpointSignal) {
    const r = await send(o.checkpointSignal, 'ask it to checkpoint before it is ended');
    if (r.outcome === 'refused') return { actions, gone: false, refused: true, rssBefore: p.rss };
    if (r.outcome === 'done' && (await wait(Math.min(o.termGraceMs, 5000), 'after the checkpoint signal')))
      return { actions, gone: true, refused: false, rssBefore: p.rss };
  }
  const term = await send('SIGTERM', 'ask it to exit');
  if (term.outcome === 'refused') return { actions, gone: false, refused: true, rssBefore: p.rss };
  if (term.gone) return { actions, gone: true, refused: false, rssBefore: p.rss };
  if (o.dryRun) {
    // Recorded as a dry-run decision too, so the audit log shows the whole ladder.
    await send('SIGKILL', `if it has not exited ${o.termGraceMs} ms after SIGTERM`);
    return { actions, gone: false, refused: false, rssBefore: p.rss };
  }
  if (await wait(o.termGraceMs, 'after SIGTERM')) return { actions, gone: true, refused: false, rssBefore: p.rss };
  const kill = await send('SIGKILL', `still running ${o.termGraceMs} ms after SIGTERM`);
  if (kill.gone) return { actions, gone: true, refused: false, rssBefore: p.rss };
  const gone = await wait(o.killWaitMs ?? 5000, 'after SIGKILL');
  return { actions, gone, refused: kill.outcome === 'refused', rssBefore: p.rss };
}

/**
 * Memory that comes back when the process exits: resident minus shared (file-backed and shared
 * pages stay, as page cache). Falls back to RSS when statm was not read.
 */
export function privateBytes(p: Pick<ProcessSample, 'rss' | 'statm'>): number {
  return p.statm ? Math.max(0, p.statm.resident - p.statm.shared) : p.rss;
}

/** What `awaitMemoryReleased` found. */
export interface MemoryRelease {
  /** The process is gone (reaped, or its pid reused) or a zombie whose address space is torn down. */
  released: boolean;
  /** The state it was last seen in ('gone' once /proc no longer has it). */
  state: string;
  /** Resident bytes it still had when last read (0 once released). */
  residentBytes: number;
}

/**
 * Waits (bounded, polling /proc) until the kernel has torn down the process's address space: its
 * pid is gone or reused, or it is a zombie with no resident pages. That is the moment its private
 * memory went back to the kernel — a fact about this process. The node's available memory is not
 * a test of it: on a shared node other processes allocate and free hundreds of MB a second, so a
 * node-wide delta measured around a kill says as much about the neighbours as about the victim.
 * A process stuck in exit (D state while unmapping, pages pinned by a driver) stays unreleased.
 * Runs on the JS thread; each poll is one /proc read.
 */
export async function awaitMemoryReleased(
  p: Pick<ProcessSample, 'pid' | 'starttime'>,
  timeoutMs = 5000,
  stepMs = 50,
): Promise<MemoryRelease> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let now: ProcessSample;
    try {
      now = readProcess(p.pid, { io: false, wchan: false, statm: true });
    } catch {
      return { released: true, state: 'gone', residentBytes: 0 };
    }
    if (now.starttime !== p.starttime) return { released: true, state: 'gone', residentBytes: 0 };
    const resident = now.statm ? now.statm.resident : now.rss;
    if ((now.state === 'Z' || now.state === 'X') && resident === 0)
      return { released: true, state: now.state, residentBytes: 0 };
    if (Date.now() >= end) return { released: false, state: now.state, residentBytes: resident };
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * True when the pid no longer names the process (exited, or reaped and reused). Without a
 * starttime (a pid NVML reported) only exit is seen, not reuse.
 */
export function processEnded(p: Pick<ProcessSample, 'pid'> & { starttime?: number }): boolean {
  try {
    const now = readProcess(p.pid, { io: false, wchan: false, statm: false });
    return (p.starttime !== undefined && now.starttime !== p.starttime) || now.state === 'Z' || now.state === 'X';
  } catch {
    return true;
  }
}
