/** What the resource engine's parts share: parameters, results, and their dependencies. */
import type { OvernightConfig } from '../config/schema.js';
import type { GpuSampler } from '../gpu/gpu-sampler.js';
import type { HealthMonitor } from '../health/health-monitor.js';
import type { PolicyGate } from '../policy/policy-gate.js';
import type { ProcessWatch } from '../recovery/process-watch.js';
import type { ActionTaken } from '../recovery/terminate.js';
import type { Clock } from '../util/clock.js';
import type { Lease, LeaseStore } from './leases.js';
import type { Priority } from './sizes.js';

export interface ResourceParameters {
  threshold?: number | undefined;
  priority?: Priority | undefined;
  /** Explicit size for memory/disk reservations (bytes or "8G"). */
  size?: number | string | undefined;
  /** GPUs to reserve (count), or these indices. */
  count?: number | undefined;
  gpus?: number[] | undefined;
  taskId?: string | undefined;
  durationSec?: number | undefined;
  /** Release this lease instead of making one. */
  release?: string | undefined;
  /** Disk: which configured root (default: each). */
  path?: string | undefined;
}

export interface ResourceAction {
  step: string;
  target: Record<string, unknown>;
  outcome: 'done' | 'would_do' | 'refused' | 'failed' | 'skipped' | 'reported';
  detail: string;
  request_id?: string;
}

export interface ResourceResult {
  status: 'success' | 'partial' | 'refused' | 'failed' | 'dry_run';
  resource_type: 'gpu' | 'memory' | 'disk';
  action: 'optimize' | 'cleanup' | 'reserve';
  message: string;
  current_usage: Record<string, unknown>;
  available: Record<string, unknown>;
  actions: ResourceAction[];
  lease?: Lease & { cuda_visible_devices?: string };
  report?: Record<string, unknown>;
  /** true for a dry run: nothing was done; status "refused" then says the real run would be refused. */
  dry_run?: boolean;
}

export interface ResourceDeps {
  config: OvernightConfig & { stateDir: string };
  clock: Clock;
  gate: PolicyGate;
  health: HealthMonitor;
  watch: ProcessWatch;
  leases: LeaseStore;
  gpu: Pick<GpuSampler, 'sample' | 'action'> | null;
  actor: string;
}

export interface RunOptions {
  dryRun: boolean;
  priority: Priority;
}

/** A gate result turned into a result action. */
export function actionOf(
  step: string,
  r: { allowed: boolean; dry_run: boolean; reason: string; request_id: string; error?: { message: string } },
  target: Record<string, unknown>,
  done: string,
): ResourceAction {
  return {
    step,
    target,
    outcome: !r.allowed ? 'refused' : r.dry_run ? 'would_do' : r.error ? 'failed' : 'done',
    detail: !r.allowed ? r.reason : r.error ? r.error.message : done,
    request_id: r.request_id,
  };
}

/** The process ladder's steps as result actions (without their times), each target extended by `extra`. */
export function actionsOfLadder(ladder: readonly ActionTaken[], extra: Record<string, unknown> = {}): ResourceAction[] {
  return ladder.map((a) => ({
    step: a.step,
    target: { ...a.target, ...extra },
    outcome: a.outcome,
    detail: a.detail,
    ...(a.request_id ? { request_id: a.request_id } : {}),
  }));
}

/** The refusal in a lease decision, or null (for a gate's refusal check). */
export function refusalOf(decision: object): string | null {
  return 'refusal' in decision ? String(decision.refusal) : null;
}

/**
 * The status a dry run reports: "refused" when the real run would be refused — it says so itself,
 * or an act it needs would be refused (by the policy, the budget or the numbers) and nothing else
 * would be done — else "dry_run". One rule for every resource and action.
 */
export function dryRunStatus(r: Pick<ResourceResult, 'status' | 'actions'>): ResourceResult['status'] {
  if (r.status === 'refused') return 'refused';
  const refused = r.actions.some((a) => a.outcome === 'refused');
  return refused && !r.actions.some((a) => a.outcome === 'would_do') ? 'refused' : 'dry_run';
}
