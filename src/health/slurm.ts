/**
 * Slurm node state for `overnight health --nhc --drain`, after LBNL NHC's conventions: our drain
 * reasons start with `overnight:`; a node drained (or down) for another reason is the
 * administrator's and is left alone; a node we drained is resumed once the check passes. The
 * drain and resume go through the policy gate, so both are in the audit log.
 */
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import type { PolicyGate } from '../policy/policy-gate.js';

/** The prefix that marks a drain reason as ours (NHC uses "NHC:"). */
export const REASON_PREFIX = 'overnight:';

export interface SlurmNodeState {
  name: string;
  /** Base state and flags, upper case: ["IDLE", "DRAIN"], ["DOWN", "NOT_RESPONDING"]. */
  state: string[];
  /** The reason without Slurm's " [user@time]" suffix; null when there is none. */
  reason: string | null;
}

export type SlurmDecision =
  { act: 'drain'; reason: string } | { act: 'resume'; why: string } | { act: 'none'; why: string };

/**
 * The node's name as Slurm knows it: slurmd exports SLURMD_NODENAME to the HealthCheckProgram,
 * and NodeName need not be the host name. The short host name is the fallback for a manual run.
 */
export function slurmNodeName(env: NodeJS.ProcessEnv = process.env): string {
  return env.SLURMD_NODENAME || hostname().split('.')[0]!;
}

/** Parses one line of `scontrol show node -o NAME` (Reason, when present, is the last field). */
export function parseShowNode(line: string): SlurmNodeState {
  const name = /(?:^|\s)NodeName=(\S+)/.exec(line)?.[1];
  const state = /(?:^|\s)State=(\S+)/.exec(line)?.[1];
  if (!name || !state) throw new Error(`scontrol show node: no NodeName/State in "${line.slice(0, 200)}"`);
  const reason = /(?:^|\s)Reason=(.*?)(?: \[[^\]]*\])?\s*$/.exec(line)?.[1]?.trim();
  return { name, state: state.toUpperCase().split('+'), reason: reason || null };
}

const drainedOrDown = (s: SlurmNodeState) =>
  s.state.some((x) => x === 'DRAIN' || x === 'DRAINED' || x === 'DRAINING' || x === 'DOWN' || x === 'FAIL');

/**
 * What to do with the node, given whether the check failed. Pure: the caller acts.
 * `resume: false` leaves our own drains for an operator to resume by hand.
 */
export function decideSlurm(node: SlurmNodeState, failing: boolean, reason: string, resume: boolean): SlurmDecision {
  const ours = node.reason?.startsWith(REASON_PREFIX) ?? false;
  const off = drainedOrDown(node);
  if (failing) {
    if (off && !ours)
      return {
        act: 'none',
        why: `left alone: ${node.state.join('+')} by someone else (reason "${node.reason ?? ''}")`,
      };
    if (off && node.reason === reason) return { act: 'none', why: 'already drained with this reason' };
    return { act: 'drain', reason };
  }
  if (off && ours)
    return resume
      ? { act: 'resume', why: `the check passes again (was: ${node.reason})` }
      : { act: 'none', why: 'drained by overnight; slurm.resume is off' };
  return { act: 'none', why: off ? `left alone: ${node.state.join('+')} by someone else` : 'in service' };
}

function scontrol(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('scontrol', args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`scontrol ${args.join(' ')}: ${(stderr || err.message).trim().slice(0, 300)}`));
      else resolve(stdout);
    }),
  );
}

export async function readSlurmNode(name: string, timeoutMs = 10_000): Promise<SlurmNodeState> {
  return parseShowNode((await scontrol(['show', 'node', '-o', name], timeoutMs)).trim());
}

export interface SlurmOutcome {
  node: string;
  decision: SlurmDecision;
  /** Set when the act was refused by the policy or scontrol failed. */
  error?: string;
}

/**
 * Reads the node, decides, and drains or resumes it through the gate. Never throws: a Slurm that
 * cannot be reached is an outcome with `error` (the exit code is the check's, not scontrol's).
 */
export async function reconcileSlurmNode(
  gate: PolicyGate,
  opts: { failing: boolean; reason: string; resume: boolean; name?: string; timeoutMs?: number },
): Promise<SlurmOutcome> {
  const name = opts.name ?? slurmNodeName();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let node: SlurmNodeState;
  try {
    node = await readSlurmNode(name, timeoutMs);
  } catch (err) {
    return { node: name, decision: { act: 'none', why: 'cannot read the node' }, error: (err as Error).message };
  }
  const decision = decideSlurm(node, opts.failing, opts.reason, opts.resume);
  if (decision.act === 'none') return { node: name, decision };
  const args =
    decision.act === 'drain'
      ? ['update', `nodename=${name}`, 'state=drain', `reason=${decision.reason}`]
      : ['update', `nodename=${name}`, 'state=resume'];
  const r = await gate.perform(
    {
      actor: 'health --nhc',
      action: `slurm_${decision.act}`,
      target: { node: name },
      inputs: {
        state: node.state.join('+'),
        previousReason: node.reason,
        ...(decision.act === 'drain' ? { reason: decision.reason } : {}),
      },
      dryRun: false,
    },
    () => null,
    () => scontrol(args, timeoutMs).then(() => ({ done: true })),
  );
  const error = !r.allowed ? r.reason : r.error?.message;
  return { node: name, decision, ...(error ? { error } : {}) };
}
