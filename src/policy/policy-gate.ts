/**
 * The one gate every act that changes the node passes: signals, GPU resets and settings, cache
 * drops, deletions, reservations. It answers allowed or refused with the reason, writes the
 * decision to the audit log before acting and the outcome after. The policy comes from the
 * operator's configuration; a caller can only ask for less (dryRun), never for more.
 */
import { randomUUID } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import type { OvernightConfig } from '../config/schema.js';
import { loadNative } from '../native.js';
import type { Clock } from '../util/clock.js';
import { NON_DESTRUCTIVE, type AuditLog } from './audit-log.js';
import { parseCgroupSelector } from '../readers/cgroup-membership.js';
import { implicitScope } from './implicit-scope.js';
import { checkProcessScope, type ScopeOptions, type ScopeVerdict } from './process-scope.js';
import { resolveUid } from './users.js';

export type PolicyConfig = OvernightConfig['policy'];

export interface GateRequest {
  /** Who asks: the tool or engine ("recoverOperation", "monitor", ...). */
  actor: string;
  /** What: "signal", "gpu_reset", "gpu_clock_reset", "cache_drop", "delete", ... */
  action: string;
  target: Record<string, unknown>;
  inputs?: Record<string, unknown>;
  dryRun: boolean;
}

export interface GateResult<T> {
  request_id: string;
  action: string;
  target: Record<string, unknown>;
  allowed: boolean;
  dry_run: boolean;
  reason: string;
  started_at: string;
  finished_at: string;
  outcome?: T;
  error?: { code?: string; message: string };
}

export interface GateIdentity {
  selfPid?: number;
  scopeRoot?: number;
  uid?: number;
}

/**
 * The scope from the policy: an explicit root, unit or user (all that are given must hold), else
 * the parent process when it can be an agent runner, else no scope at all (everything refused).
 * Without a root, every process is watched (root 1) and the unit or user decides.
 */
function scopeOf(
  policy: PolicyConfig,
  identity: GateIdentity,
): Pick<ScopeOptions, 'scopeRoot' | 'rootIsScope' | 'unit' | 'scopeUid' | 'noScope'> {
  const unit = policy.scopeUnit === undefined ? undefined : parseCgroupSelector(policy.scopeUnit, 'policy.scopeUnit');
  const scopeUid = policy.scopeUser === undefined ? undefined : resolveUid(policy.scopeUser, 'policy.scopeUser');
  const extra = { ...(unit ? { unit } : {}), ...(scopeUid !== undefined ? { scopeUid } : {}) };
  const root = identity.scopeRoot ?? policy.scopeRoot;
  if (root !== undefined) return { scopeRoot: root, ...extra };
  if (unit || scopeUid !== undefined) return { scopeRoot: 1, rootIsScope: false, ...extra };
  const implicit = implicitScope();
  if (implicit.root !== null) return { scopeRoot: implicit.root };
  return { scopeRoot: 1, rootIsScope: false, noScope: implicit.reason };
}

export class PolicyGate {
  readonly scopeOptions: ScopeOptions;

  constructor(
    readonly policy: PolicyConfig,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    identity: GateIdentity = {},
  ) {
    this.scopeOptions = {
      selfPid: identity.selfPid ?? process.pid,
      ...scopeOf(policy, identity),
      uid: identity.uid ?? process.getuid?.() ?? 0,
      protectedNames: policy.protectedNames,
      allow: policy.allow.map((p) => new RegExp(p)),
      deny: policy.deny.map((p) => new RegExp(p)),
      allowOutsideScope: policy.allowOutsideScope,
    };
  }

  get isRoot(): boolean {
    return this.scopeOptions.uid === 0;
  }

  /** Whether a process is in scope (no audit entry: asking is not acting). */
  checkProcess(pid: number): ScopeVerdict {
    return checkProcessScope(pid, this.scopeOptions);
  }

  /**
   * Decides, records, and (when allowed and not a dry run) acts. `refusal` returns a reason to
   * refuse specific to the action, or null. The act's exception becomes the recorded outcome.
   */
  async perform<T>(req: GateRequest, refusal: () => string | null, act: () => Promise<T>): Promise<GateResult<T>> {
    const requestId = randomUUID();
    const started = new Date(this.clock.now()).toISOString();
    let reason = refusal();
    // A dry run is checked against the budget too (it must say whether the act would be refused),
    // but it does not spend any: only allowed real acts are counted.
    if (!reason && !NON_DESTRUCTIVE.includes(req.action)) {
      const used = this.audit.countAllowedSince(this.clock.now() - 3600_000);
      if (used >= this.policy.maxActionsPerHour)
        reason =
          `the hourly budget of ${this.policy.maxActionsPerHour} destructive acts is used up ` +
          `(policy.maxActionsPerHour)`;
    }
    const allowed = reason === null;
    const why = reason ?? (req.dryRun ? 'allowed by the policy (dry run: nothing done)' : 'allowed by the policy');
    const base = {
      request_id: requestId,
      actor: req.actor,
      action: req.action,
      target: req.target,
      allowed,
      dry_run: req.dryRun,
      reason: why,
      inputs: req.inputs ?? {},
    };
    this.audit.append({ ...base, ts: started, phase: 'decision', outcome: undefined });
    const result: GateResult<T> = {
      request_id: requestId,
      action: req.action,
      target: req.target,
      allowed,
      dry_run: req.dryRun,
      reason: why,
      started_at: started,
      finished_at: started,
    };
    if (!allowed || req.dryRun) return result;
    try {
      result.outcome = await act();
    } catch (err) {
      const e = err as { code?: string; message?: string };
      result.error = { ...(e.code ? { code: e.code } : {}), message: e.message ?? String(err) };
    }
    result.finished_at = new Date(this.clock.now()).toISOString();
    this.audit.append({
      ...base,
      ts: result.finished_at,
      phase: 'outcome',
      outcome: result.error ? { error: result.error } : (result.outcome ?? null),
    });
    return result;
  }

  /** Records a refusal decided before any act was attempted (e.g. a target out of scope). */
  async refuse(req: GateRequest, reason: string): Promise<GateResult<never>> {
    return this.perform(
      req,
      () => reason,
      async () => {
        throw new Error('unreachable: refused');
      },
    );
  }

  /** Sends a signal to an in-scope process, pid-reuse safe (pidfd + starttime). */
  signal(
    actor: string,
    pid: number,
    starttime: number,
    signal: NodeJS.Signals,
    dryRun: boolean,
    inputs: Record<string, unknown> = {},
  ) {
    const num = osConstants.signals[signal];
    return this.perform(
      { actor, action: 'signal', target: { pid, starttime, signal }, inputs, dryRun },
      () => {
        if (num === undefined) return `unknown signal ${signal}`;
        const v = this.checkProcess(pid);
        if (!v.allowed) return v.reason;
        if (starttime && v.process.starttime !== starttime)
          return `pid ${pid} now names another process (starttime changed): it was reused`;
        return null;
      },
      async () => {
        loadNative().signalProcess(pid, starttime, num);
        return { delivered: true };
      },
    );
  }
}
