/**
 * The design's RecoveryManager: recoverOperation(operationType, context) for memory_leak,
 * process_hang and gpu_reset. Chooses a target with care (leak slope and projected exhaustion,
 * hang evidence, GPU verdicts and Xids), acts only through the policy gate, verifies the concern is
 * gone, journals the recovery with the state it started from, and escalates what it cannot fix.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { OvernightConfig } from '../config/schema.js';
import type { GpuSampleOutcome, GpuSampler } from '../gpu/gpu-sampler.js';
import { classifyXid } from '../gpu/xid.js';
import type { HealthMonitor, HealthReport } from '../health/health-monitor.js';
import type { RecoveryRecord } from '../health/sources.js';
import type { PolicyGate } from '../policy/policy-gate.js';
import type { ProcessSample } from '../native.js';
import type { Clock } from '../util/clock.js';
import { captureDiagnostics, type Diagnostics } from './diagnostics.js';
import type { Escalator } from './escalation.js';
import type { RecoveryJournalStore } from './journal.js';
import type { TaskRestarter } from './task-restarter.js';
import type { ProcessWatch } from './process-watch.js';
import { awaitMemoryReleased, endProcess, privateBytes, processEnded, type ActionTaken } from './terminate.js';
import { gpuDevices, gpuStatusesByIndex } from '../health/gpu-health.js';

export type OperationType = 'memory_leak' | 'gpu_reset' | 'process_hang';
/**
 * "refused": the policy (scope, protected names, budget) or missing evidence refused it, in a real
 * run or a dry run alike (a dry run never says "dry_run" for something the real run would refuse).
 */
export type RecoveryStatus = 'recovered' | 'failed' | 'escalated' | 'refused' | 'dry_run';

export interface RecoveryContext {
  taskId?: string | undefined;
  errorType?: string | undefined;
  timestamp?: number | undefined;
  /** Point at one process (must be in the policy's scope). */
  pid?: number | undefined;
  /** Point at one GPU (gpu_reset). */
  gpu?: number | undefined;
  /** Xid that triggered the request, if known. */
  xid?: number | undefined;
}

export interface RecoveryResult {
  id: string;
  status: RecoveryStatus;
  operation_type: OperationType;
  message: string;
  /** true for a dry run: nothing was done. */
  dry_run: boolean;
  /** true when the concern was already gone and nothing had to be done. */
  nothing_to_do: boolean;
  target: Record<string, unknown> | null;
  actions_taken: ActionTaken[];
  new_state: Record<string, unknown>;
  diagnostics?: Diagnostics;
  escalation?: unknown;
  started_at: string;
  finished_at: string;
}

export interface RecoveryManagerOptions {
  config: OvernightConfig;
  clock: Clock;
  gate: PolicyGate;
  health: HealthMonitor;
  watch: ProcessWatch;
  journal: RecoveryJournalStore;
  escalator: Escalator;
  gpu?: Pick<GpuSampler, 'sample' | 'action'> | null;
  restarter?: TaskRestarter;
  /** Runs `nvidia-smi -r -i N` (injectable for tests). */
  resetGpu?: (index: number) => Promise<{ ok: boolean; output: string }>;
}

const MB = 2 ** 20;

function nvidiaSmiReset(index: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['-r', '-i', String(index)], { timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ ok: !err, output: `${stdout}${stderr}`.trim() || (err?.message ?? '') }),
    );
  });
}

/**
 * One recoverOperation call: passed down to every step, so that concurrent calls never see each
 * other's actor, dry-run or force flags (a refusal is audited with the caller that caused it).
 */
interface RecoveryCall {
  actor: string;
  dryRun: boolean;
  force: boolean;
  operationType: OperationType;
  context: RecoveryContext;
}

export class RecoveryManager {
  constructor(private readonly o: RecoveryManagerOptions) {}

  private iso(): string {
    return new Date(this.o.clock.now()).toISOString();
  }

  /**
   * The design's recover_operation. `dryRun` says exactly what would be done and does nothing.
   * `force` ends a process pointed at (context.pid) without the evidence otherwise needed (a leak
   * slope, a hang): the caller takes that on, and the audit log records it as forced. It never
   * overrides the policy (scope, protected names, budget).
   */
  async recoverOperation(
    operationType: OperationType,
    context: RecoveryContext = {},
    options: { dryRun?: boolean; actor?: string; force?: boolean } = {},
  ): Promise<RecoveryResult> {
    const dryRun = options.dryRun ?? false;
    const force = options.force ?? false;
    const actor = options.actor ?? 'recoverOperation';
    const started = this.iso();
    const before = await this.o.health.checkSystemHealth('quick');
    await this.o.watch.observe();
    let r: Omit<RecoveryResult, 'id' | 'started_at' | 'finished_at' | 'operation_type' | 'dry_run'>;
    const call: RecoveryCall = { actor, dryRun, force, operationType, context };
    if (operationType === 'memory_leak') r = await this.memoryLeak(call, before);
    else if (operationType === 'process_hang') r = await this.processHang(call);
    else r = await this.gpuReset(call);
    const result: RecoveryResult = {
      id: randomUUID(),
      operation_type: operationType,
      started_at: started,
      finished_at: this.iso(),
      ...r,
      dry_run: dryRun,
    };
    // A dry run reports "dry_run" only for what the real run would go on to do; a refusal stays one.
    if (dryRun && result.status !== 'refused') result.status = 'dry_run';
    // The task's process was ended: restart its registered command (with backoff), if any.
    const ended = result.actions_taken.some(
      (a) => (a.step === 'SIGTERM' || a.step === 'SIGKILL') && (a.outcome === 'done' || a.outcome === 'would_do'),
    );
    if (ended && this.o.restarter && context.taskId) {
      const restart = await this.o.restarter.restart(context.taskId, actor, dryRun);
      if (restart) {
        result.actions_taken.push({
          step: 'restart_task',
          target: restart.target,
          outcome: !restart.allowed ? 'refused' : restart.dry_run ? 'would_do' : restart.error ? 'failed' : 'done',
          detail:
            restart.error?.message ??
            (restart.outcome
              ? `started pid ${restart.outcome.pid} after ${restart.outcome.delayMs} ms`
              : restart.reason),
          started_at: restart.started_at,
          finished_at: restart.finished_at,
          request_id: restart.request_id,
        });
      }
    }
    if (!dryRun && (result.status === 'failed' || result.status === 'escalated' || result.status === 'refused')) {
      result.escalation = await this.o.escalator.escalate({
        key: `${operationType}:${JSON.stringify(result.target)}`,
        severity: result.status === 'escalated' ? 'critical' : 'warning',
        summary: `${operationType} recovery ${result.status}: ${result.message}`,
        details: {
          target: result.target,
          actions: result.actions_taken.map((a) => `${a.step} ${a.outcome}: ${a.detail}`),
          context,
        },
      });
    }
    const record: RecoveryRecord & { result: unknown; context: unknown } = {
      id: result.id,
      operation_type: operationType,
      // The journal's "last recovery" skips dry runs, refused ones included.
      status: dryRun ? 'dry_run' : result.status,
      started_at: started,
      finished_at: result.finished_at,
      target: result.target ?? undefined,
      before: {
        status: before.status,
        breached: before.breached.map((b) => b.metric),
        memory_used_fraction: before.metrics.memory_status.effective?.used_fraction ?? null,
        gpu_statuses: gpuStatusesByIndex(before.metrics.gpu_health),
      },
      result: { status: result.status, message: result.message, actions: result.actions_taken.length },
      context,
    };
    this.o.journal.record(record);
    return result;
  }

  /** Picks the process: the one pointed at (if in scope), else the top suspect. */
  private pick(context: RecoveryContext, suspects: { pid: number }[]): { p?: ProcessSample; refusal?: string } {
    const pid = context.pid ?? suspects[0]?.pid;
    if (pid === undefined) return {};
    const v = this.o.gate.checkProcess(pid);
    if (!v.allowed) return { refusal: v.reason };
    return { p: v.process };
  }

  private async memoryLeak(call: RecoveryCall, before: HealthReport) {
    const { context, dryRun, actor } = call;
    const suspects = this.o.watch.leakSuspects();
    const { p, refusal } = this.pick(context, suspects);
    const memBefore = before.metrics.memory_status.effective;
    if (refusal) return this.refused(call, refusal);
    if (!p) {
      const memBreached = before.breached.some((b) => b.metric === 'memory');
      return {
        status: (memBreached ? 'failed' : 'recovered') as RecoveryStatus,
        nothing_to_do: !memBreached,
        message: memBreached
          ? `memory is at ${Math.round((memBefore?.used_fraction ?? 0) * 100)}% but no process in scope is ` +
            `leaking; free memory with manageResources (memory cleanup) or widen the watch window`
          : `no process in scope is leaking and memory is at ` +
            `${Math.round((memBefore?.used_fraction ?? 0) * 100)}%: nothing had to be done`,
        target: null,
        actions_taken: [],
        new_state: { memory_status: before.metrics.memory_status, leak_suspects: suspects },
      };
    }
    const analysis = this.o.watch.analyzeLeak(p.pid);
    const target = {
      pid: p.pid,
      comm: p.comm,
      rss_bytes: p.rss,
      leak: {
        slope_mb_per_min: Math.round((analysis.slopeBytesPerMin / MB) * 10) / 10,
        r2: Math.round(analysis.r2 * 100) / 100,
        evidence: analysis.reason,
      },
    };
    // A process pointed at is ended only on evidence that it leaks, or when the caller forces it.
    const forced = !analysis.isLeak ? `no leak evidence: ${analysis.reason}` : null;
    if (forced && !call.force)
      return this.refused(
        call,
        `pid ${p.pid} (${p.comm}) shows no leak: ${analysis.reason}. ${this.leakEvidenceNeeded()}; or pass ` +
          `force: true to end it anyway (audited as forced)`,
        [],
        target,
        'evidence',
      );
    const ladder = await endProcess(this.o.gate, this.o.clock, p, {
      actor,
      dryRun,
      checkpoint: true,
      inputs: { operationType: 'memory_leak', ...context, ...(forced ? { forced } : {}) },
    });
    if (ladder.refused)
      return this.refused(call, ladder.actions.at(-1)?.detail ?? 'refused by the policy', ladder.actions, target);
    if (dryRun)
      return {
        status: 'dry_run' as RecoveryStatus,
        nothing_to_do: false,
        message: `would end pid ${p.pid} (${p.comm})${forced ? ' (forced)' : ''}: ${analysis.reason}`,
        target,
        actions_taken: ladder.actions,
        new_state: {},
      };
    const after = await this.o.health.checkSystemHealth('quick');
    const memAfter = after.metrics.memory_status.effective;
    const freed = memAfter && memBefore ? memAfter.available_bytes - memBefore.available_bytes : null;
    const gone = ladder.gone && processEnded(p);
    if (gone) this.o.watch.forget(p.pid, p.starttime);
    // Its memory is back once the kernel has torn down its address space (see awaitMemoryReleased);
    // the node-wide change in available memory is reported, not judged (neighbours move it too).
    const held = privateBytes(p);
    const release = gone ? await awaitMemoryReleased(p) : null;
    const memoryBack = release?.released === true;
    const stillResident = release
      ? `process exited but ${release.state} with ${Math.round(release.residentBytes / MB)} MB still resident`
      : '';
    ladder.actions.push({
      step: 'verify',
      target: { pid: p.pid },
      outcome: gone && memoryBack ? 'done' : 'failed',
      detail:
        `${gone ? (memoryBack ? 'process gone, address space released' : stillResident) : 'process still present'}; ` +
        `it held ${Math.round(held / MB)} MB of its own; node available memory ` +
        `${freed !== null ? `${freed >= 0 ? '+' : ''}${Math.round(freed / MB)} MB` : 'unknown'} (node-wide, ` +
        `other processes included)`,
      started_at: this.iso(),
      finished_at: this.iso(),
    });
    return {
      status: (gone ? 'recovered' : 'failed') as RecoveryStatus,
      nothing_to_do: false,
      message: gone
        ? `ended pid ${p.pid} (${p.comm}), ${forced ? `forced (${forced})` : `which was ${analysis.reason}`}` +
          (memoryBack ? '; its memory came back' : '; its address space is not yet released')
        : `pid ${p.pid} (${p.comm}) is still running after SIGKILL`,
      target,
      actions_taken: ladder.actions,
      new_state: {
        memory_status: after.metrics.memory_status,
        freed_bytes: freed,
        leak_suspects: this.o.watch.leakSuspects(),
      },
    };
  }

  private async processHang(call: RecoveryCall) {
    const { context, dryRun, actor } = call;
    const suspects = this.o.watch.hangSuspects();
    const { p, refusal } = this.pick(context, suspects);
    if (refusal) return this.refused(call, refusal);
    if (!p) {
      return {
        status: 'recovered' as RecoveryStatus,
        nothing_to_do: true,
        message:
          'no process in scope is hung (stopped, in D state too long, without progress, or with a stale ' +
          'heartbeat): nothing had to be done',
        target: null,
        actions_taken: [],
        new_state: { hang_suspects: suspects },
      };
    }
    const verdict = this.o.watch.hangVerdict(p.pid);
    const suspect = suspects.find((s) => s.pid === p.pid);
    const evidence = suspect?.reason ?? verdict.reason;
    // A busy process is never "recovered" from a hang unless someone points at it explicitly.
    if (!suspect && !verdict.hung && context.pid === undefined) {
      return {
        status: 'recovered' as RecoveryStatus,
        nothing_to_do: true,
        message: `pid ${p.pid} is not hung (${verdict.reason})`,
        target: { pid: p.pid, comm: p.comm },
        actions_taken: [],
        new_state: {},
      };
    }
    const busy =
      !suspect &&
      !verdict.hung &&
      context.pid !== undefined &&
      (verdict.reason === 'making progress' || p.state === 'R');
    if (busy && !call.force) {
      return this.refused(
        call,
        `pid ${p.pid} (${p.comm}) is making progress (state ${p.state}, CPU time moving): a busy process is not ` +
          `a hang, so it was left alone; pass force: true to end it anyway (audited as forced)`,
        [],
        { pid: p.pid, comm: p.comm, state: p.state },
        'evidence',
      );
    }
    const diagnostics = await captureDiagnostics(p.pid, { gate: this.o.gate, starttime: p.starttime, dryRun, actor });
    const ladder = await endProcess(this.o.gate, this.o.clock, p, {
      actor,
      dryRun,
      checkpoint: true,
      inputs: { operationType: 'process_hang', ...context, ...(busy ? { forced: `not hung: ${verdict.reason}` } : {}) },
    });
    const target = { pid: p.pid, comm: p.comm, state: p.state, evidence };
    if (ladder.refused)
      return {
        ...this.refused(call, ladder.actions.at(-1)?.detail ?? 'refused by the policy', ladder.actions, target),
        diagnostics,
      };
    if (dryRun)
      return {
        status: 'dry_run' as RecoveryStatus,
        nothing_to_do: false,
        message: `would end pid ${p.pid} (${p.comm}): ${evidence}`,
        target,
        actions_taken: ladder.actions,
        new_state: {},
        diagnostics,
      };
    const gone = ladder.gone && processEnded(p);
    if (gone) this.o.watch.forget(p.pid, p.starttime);
    ladder.actions.push({
      step: 'verify',
      target: { pid: p.pid },
      outcome: gone ? 'done' : 'failed',
      detail: gone ? 'process gone' : 'process still present',
      started_at: this.iso(),
      finished_at: this.iso(),
    });
    await this.o.watch.observe();
    return {
      status: (gone ? 'recovered' : 'failed') as RecoveryStatus,
      nothing_to_do: false,
      message: gone
        ? `ended hung pid ${p.pid} (${p.comm}): ${evidence}`
        : `pid ${p.pid} (${p.comm}) is still present after SIGKILL (state ${p.state}): it may be stuck in the ` +
          `kernel; escalate`,
      target,
      actions_taken: ladder.actions,
      new_state: { hang_suspects: this.o.watch.hangSuspects() },
      diagnostics,
    };
  }

  private async gpuReset(call: RecoveryCall) {
    const { context, dryRun, actor } = call;
    const gpu = this.o.gpu;
    const actions: ActionTaken[] = [];
    if (!gpu) {
      // Without NVML nothing can be reset here, but the kernel log may still say a GPU is gone:
      // that is for a person (drain and reboot), not "nothing to do".
      const xids = [
        ...this.o.health.storedXids().map((x) => x.xid),
        ...(context.xid !== undefined ? [context.xid] : []),
      ];
      const unfixable = xids.map(classifyXid).find((c) => !c.resettable);
      if (unfixable)
        return this.escalate(
          `a GPU of this node logged Xid ${unfixable.xid} (${unfixable.description}) and NVML cannot be loaded ` +
            `here to reset anything: drain the node and reboot it`,
          { xids },
          actions,
          {},
        );
      return {
        status: 'recovered' as RecoveryStatus,
        nothing_to_do: true,
        message: 'this node has no NVIDIA GPU (libnvidia-ml.so.1 not found): nothing to reset',
        target: null,
        actions_taken: actions,
        new_state: {},
      };
    }
    const sample = await gpu.sample({ timeoutMs: this.o.config.gpuTimeoutMs });
    if (!sample.available)
      return this.escalate(`GPUs cannot be read: ${sample.reason}`, null, actions, { gpu: sample });
    // The GPUs' verdicts (Xids, retired pages, ...), without the rest of a full check.
    const { health: gpuHealth } = await this.o.health.gpuHealth(true);
    const devices = gpuDevices(gpuHealth);
    const targets =
      context.gpu !== undefined
        ? devices.filter((d) => d.index === context.gpu)
        : devices.filter((d) => d.status !== 'healthy');
    if (context.gpu !== undefined && !targets.length)
      return this.refused(call, `GPU ${context.gpu} does not exist (this node has ${devices.length})`);
    if (!targets.length)
      return {
        status: 'recovered' as RecoveryStatus,
        nothing_to_do: true,
        message: 'every GPU is healthy: nothing had to be done',
        target: null,
        actions_taken: actions,
        new_state: { gpu_health: gpuHealth },
      };
    const recent = (gpuHealth.available && gpuHealth.recent_xids) || [];
    for (const t of targets) {
      const xids = [
        ...recent.filter((x) => x.gpuIndex === t.index).map((x) => x.xid),
        ...(context.xid !== undefined ? [context.xid] : []),
      ];
      const unfixable = xids.map(classifyXid).find((c) => !c.resettable);
      const dev = sample.devices.find((d) => d.index === t.index);
      if (unfixable || dev?.lost) {
        const why = unfixable
          ? `Xid ${unfixable.xid}: ${unfixable.description}`
          : 'the GPU is lost (NVML_ERROR_GPU_IS_LOST)';
        return this.escalate(
          `GPU ${t.index} cannot be fixed by a reset (${why}): drain the node and reboot it`,
          { gpu: t.index, xids },
          actions,
          { gpu_health: gpuHealth },
        );
      }
      // 1. End the allowed processes holding the GPU; leave others alone (and say so).
      for (const gp of dev?.processes ?? []) {
        const v = this.o.gate.checkProcess(gp.pid);
        if (!v.allowed) {
          actions.push({
            step: 'skip process',
            target: { pid: gp.pid, gpu: t.index },
            outcome: 'refused',
            detail: v.reason,
            started_at: this.iso(),
            finished_at: this.iso(),
          });
          continue;
        }
        const ladder = await endProcess(this.o.gate, this.o.clock, v.process, {
          actor,
          dryRun,
          inputs: { operationType: 'gpu_reset', gpu: t.index, ...context },
        });
        actions.push(...ladder.actions);
      }
      // 2. Reset clocks the policy allows.
      for (const action of ['resetGpuLockedClocks', 'resetApplicationsClocks'] as const) {
        const r = await this.o.gate.perform(
          {
            actor,
            action: 'gpu_clock_reset',
            target: { gpu: t.index, call: action },
            inputs: context as Record<string, unknown>,
            dryRun,
          },
          () =>
            this.o.config.policy.allowGpuSettings
              ? null
              : 'GPU settings are not allowed (policy.allowGpuSettings is false)',
          () => gpu.action(t.index, action),
        );
        actions.push({
          step: action,
          target: { gpu: t.index },
          outcome: !r.allowed
            ? 'refused'
            : r.dry_run
              ? 'would_do'
              : r.outcome && 'ok' in r.outcome && r.outcome.ok
                ? 'done'
                : 'failed',
          detail: !r.allowed ? r.reason : r.outcome ? r.outcome.code : (r.error?.message ?? ''),
          started_at: r.started_at,
          finished_at: r.finished_at,
          request_id: r.request_id,
        });
      }
      // 3. Reset the GPU itself: only as root, only when the policy allows, only with no process left.
      if (!dryRun) await delay(200);
      const fresh = dryRun ? sample : await gpu.sample({ indices: [t.index], timeoutMs: this.o.config.gpuTimeoutMs });
      const left = fresh.available
        ? (fresh.devices[0]?.processes ?? []).filter((pp) => !processEnded({ pid: pp.pid }))
        : [];
      const r = await this.o.gate.perform(
        { actor, action: 'gpu_reset', target: { gpu: t.index }, inputs: context as Record<string, unknown>, dryRun },
        () =>
          !this.o.config.policy.allowGpuReset
            ? 'GPU resets are not allowed (policy.allowGpuReset is false)'
            : !this.o.gate.isRoot
              ? 'a GPU reset needs root'
              : left.length && !dryRun
                ? `processes still hold GPU ${t.index}: ${left.map((pp) => pp.pid).join(', ')}`
                : null,
        () => (this.o.resetGpu ?? nvidiaSmiReset)(t.index),
      );
      actions.push({
        step: 'reset_gpu',
        target: { gpu: t.index },
        outcome: !r.allowed ? 'refused' : r.dry_run ? 'would_do' : r.outcome?.ok ? 'done' : 'failed',
        detail: !r.allowed ? r.reason : (r.outcome?.output ?? r.error?.message ?? ''),
        started_at: r.started_at,
        finished_at: r.finished_at,
        request_id: r.request_id,
      });
      if (r.outcome?.ok) this.o.health.clearGpuXids(t.index);
    }
    const resetRefused = actions.filter((a) => a.step === 'reset_gpu' && a.outcome === 'refused');
    if (dryRun && resetRefused.length)
      return {
        status: 'refused' as RecoveryStatus,
        nothing_to_do: false,
        message:
          `the GPU reset would be refused: ` +
          resetRefused.map((a) => `GPU ${a.target.gpu as number}: ${a.detail}`).join('; '),
        target: { gpus: targets.map((t) => t.index) },
        actions_taken: actions,
        new_state: {},
      };
    if (dryRun)
      return {
        status: 'dry_run' as RecoveryStatus,
        nothing_to_do: false,
        message: `would recover GPU(s) ${targets.map((t) => t.index).join(', ')}`,
        target: { gpus: targets.map((t) => t.index) },
        actions_taken: actions,
        new_state: {},
      };
    // 4. Verify with a fresh sample.
    const { health: after } = await this.o.health.gpuHealth(true);
    const afterDevs = gpuDevices(after);
    const still = afterDevs.filter((d) => targets.some((t) => t.index === d.index) && d.status !== 'healthy');
    actions.push({
      step: 'verify',
      target: { gpus: targets.map((t) => t.index) },
      outcome: still.length ? 'failed' : 'done',
      detail: still.length
        ? still.map((d) => `GPU ${d.index} ${d.status}: ${d.reasons.join('; ')}`).join(' | ')
        : 'every target GPU is healthy',
      started_at: this.iso(),
      finished_at: this.iso(),
    });
    if (still.length)
      return this.escalate(
        `GPU(s) ${still.map((d) => d.index).join(', ')} still unhealthy after recovery: drain the node`,
        { gpus: targets.map((t) => t.index) },
        actions,
        { gpu_health: after },
      );
    return {
      status: 'recovered' as RecoveryStatus,
      nothing_to_do: false,
      message: `GPU(s) ${targets.map((t) => t.index).join(', ')} healthy again`,
      target: { gpus: targets.map((t) => t.index) },
      actions_taken: actions,
      new_state: { gpu_health: after },
    };
  }

  private refused(
    call: RecoveryCall,
    reason: string,
    actions: ActionTaken[] = [],
    target: Record<string, unknown> | null = null,
    by: 'policy' | 'evidence' = 'policy',
  ) {
    const { context } = call;
    const named =
      target ??
      (context.pid !== undefined ? { pid: context.pid } : context.gpu !== undefined ? { gpu: context.gpu } : null);
    // A target refused before any signal was tried is still a decision: it goes to the audit log.
    if (!actions.length) {
      void this.o.gate.refuse(
        {
          actor: call.actor,
          action: call.operationType,
          target: named ?? {},
          inputs: context as Record<string, unknown>,
          dryRun: call.dryRun,
        },
        reason,
      );
    }
    return {
      status: 'refused' as RecoveryStatus,
      nothing_to_do: false,
      message: by === 'policy' ? `refused by the policy: ${reason}` : `refused: ${reason}`,
      target: named,
      actions_taken: actions,
      new_state: {},
    };
  }

  /** What a leak verdict needs, in the configured numbers (for a refusal that says what is missing). */
  private leakEvidenceNeeded(): string {
    const w = this.o.config.watch;
    return (
      `A leak is steady RSS growth of at least ${w.leakMinSlopeMbPerMin} MB/min with R² >= ${w.leakMinR2}, ` +
      `watched for ${w.warmupSec} s of warm-up and then at least ${w.leakMinWindowSec} s (watch.*); a steep ` +
      `one that would exhaust memory soon needs only 1/30 of the time it leaves (at least ` +
      `${w.leakFastWindowSec} s, R² >= 0.95)`
    );
  }

  private escalate(
    message: string,
    target: Record<string, unknown> | null,
    actions: ActionTaken[],
    state: Record<string, unknown>,
  ) {
    return {
      status: 'escalated' as RecoveryStatus,
      nothing_to_do: false,
      message,
      target,
      actions_taken: actions,
      new_state: state,
    };
  }
}

export type { GpuSampleOutcome };
