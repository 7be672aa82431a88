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
