/**
 * A child process as the leader of its own process group (detached: setsid), and a time limit that ends the whole
 * group: `sh -c 'slow; more'` killed by pid alone leaves `slow` running, orphaned, one per run (NPD does the same).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

export function spawnGroup(argv: string[], stdio: StdioOptions): ChildProcess {
  return spawn(argv[0]!, argv.slice(1), { stdio, detached: true });
}

/** Signals every process in the child's group; the child alone where the group is gone or was never made. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/**
 * Kills the child's group once `ms` have passed; `fired` says whether it did. The caller clears it when it has
 * what it waits for (the exit, or the close of pipes a grandchild may still hold).
 */
export function groupTimeout(child: ChildProcess, ms: number): { readonly fired: boolean; clear(): void } {
  const state = { fired: false, clear: () => clearTimeout(timer) };
  const timer = setTimeout(() => {
    state.fired = true;
    killGroup(child, 'SIGKILL');
  }, ms);
  return state;
}

/** How long the pipes may stay open after the main process exited: output still in them is read, no more. */
export const PIPE_GRACE_MS = 250;
const MAX_OUTPUT = 1 << 20;

export interface GroupRunOptions {
  /** The whole group is killed (SIGKILL) once this has passed. */
  timeoutMs: number;
  /** Written to the command's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  /** Capture stdout (up to 1 MiB); without it stdout is /dev/null. stderr is always /dev/null. */
  stdout?: boolean;
  pipeGraceMs?: number;
}

export interface GroupRunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The time-out fired before the main process exited. */
  timedOut: boolean;
  /** What the command printed before it was done (empty without `stdout`). */
  stdout: string;
  /** It could not be started (ENOENT, EACCES ...). */
  error?: Error;
}

/**
 * Runs a command we wait on (a check, a probe, an escalation command) in its own process group. It is done when
 * its main process exits (or is killed at the time-out), not when its pipes close: a grandchild that escaped the
 * group (setsid, a daemon) keeps them open as long as it lives, and would hold the caller (a health report, the
 * monitor's cycle, its SIGTERM) for that long. At the exit, what the command left in its group is killed (a run is
 * over, and one leftover a run piles up on a schedule), the pipes get PIPE_GRACE_MS for the output still in them,
 * then they are destroyed. Never rejects.
 */
export function runGroup(argv: string[], o: GroupRunOptions): Promise<GroupRunResult> {
  return new Promise((resolve) => {
    const child = spawnGroup(argv, [o.stdin === undefined ? 'ignore' : 'pipe', o.stdout ? 'pipe' : 'ignore', 'ignore']);
    const timer = groupTimeout(child, o.timeoutMs);
    let out = '';
    let exit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };
    let grace: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      timer.clear();
      clearTimeout(grace);
      child.stdout?.destroy();
      child.stdin?.destroy();
      resolve({ ...exit, timedOut: timer.fired, stdout: out, ...(error ? { error } : {}) });
    };
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      if (out.length < MAX_OUTPUT) out += d;
    });
    // 'error' after a start (a failed kill) changes nothing; before it, there is no process and no 'exit'.
    child.on('error', (err) => {
      if (child.pid === undefined) finish(err);
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      timer.clear();
      killGroup(child, 'SIGKILL');
      grace = setTimeout(() => finish(), o.pipeGraceMs ?? PIPE_GRACE_MS);
    });
    child.once('close', () => finish());
    if (o.stdin !== undefined) {
      // A command that does not read its stdin closes the pipe: EPIPE is its business, not a crash of ours.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(o.stdin);
    }
  });
}
