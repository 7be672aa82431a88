/**
 * GPUs: optimize (report and apply the safe settings the policy allows: persistence mode, clock
 * resets; name the least-loaded GPUs), cleanup (free GPU memory held by allowed processes that are
 * orphaned or hung, and verify it came back), reserve (lease N GPUs, or named ones, to a task,
 * honouring other leases and processes already on a GPU; returns CUDA_VISIBLE_DEVICES).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { GpuDeviceSample } from '../native.js';
import { readProcess } from '../readers/processes.js';
import { endProcess } from '../recovery/terminate.js';
import { PRIORITY_EFFECTS } from './sizes.js';
import type { Lease } from './leases.js';
import {
  actionOf,
  actionsOfLadder,
  refusalOf,
  type ResourceAction,
  type ResourceDeps,
  type ResourceParameters,
  type ResourceResult,
  type RunOptions,
} from './types.js';

const noGpu = (action: ResourceResult['action'], reason: string): ResourceResult => ({
  status: 'refused',
  resource_type: 'gpu',
  action,
  message: reason,
  current_usage: { available: false },
  available: { gpus: 0 },
  actions: [],
});

async function devices(d: ResourceDeps): Promise<GpuDeviceSample[] | string> {
  if (!d.gpu) return 'this node has no NVIDIA GPU (libnvidia-ml.so.1 not found)';
  const s = await d.gpu.sample({ timeoutMs: d.config.gpuTimeoutMs });
  return s.available ? s.devices : s.reason;
}

function usageOf(d: ResourceDeps, devs: GpuDeviceSample[]) {
  const leased = new Set(d.leases.active('gpu', d.clock.now()).flatMap((l) => l.gpus ?? []));
  const rows = devs.map((g) => ({
    index: g.index,
    uuid: g.uuid ?? null,
    memory_used_fraction: g.memory ? Math.round((g.memory.used / g.memory.total) * 10_000) / 10_000 : null,
    utilization_gpu: g.utilization?.gpu ?? null,
    processes: g.processes?.length ?? null,
    leased: leased.has(g.index),
  }));
  const free = rows.filter((r) => !r.leased && (r.processes ?? 0) === 0);
  return { current_usage: { gpus: rows }, available: { gpus: free.length, indices: free.map((r) => r.index) }, rows };
}

export async function optimizeGpu(d: ResourceDeps, p: ResourceParameters, o: RunOptions): Promise<ResourceResult> {
  const devs = await devices(d);
  if (typeof devs === 'string') return noGpu('optimize', devs);
  const actions: ResourceAction[] = [];
  const apply = PRIORITY_EFFECTS[o.priority].applySettings;
  for (const g of devs) {
    if (g.persistenceMode === false) {
      if (!apply)
        actions.push({
          step: 'setPersistenceMode',
          target: { gpu: g.index },
          outcome: 'skipped',
          detail: 'persistence mode is off; priority low reports only',
        });
      else {
        const r = await d.gate.perform(
          { actor: d.actor, action: 'gpu_persistence', target: { gpu: g.index }, dryRun: o.dryRun },
          () =>
            !d.config.policy.allowGpuSettings
              ? 'GPU settings are not allowed (policy.allowGpuSettings is false)'
              : !d.gate.isRoot
                ? 'persistence mode needs root'
                : null,
          () => d.gpu!.action(g.index, 'setPersistenceMode', 1),
        );
        actions.push(
          actionOf(
            'setPersistenceMode',
            r,
            { gpu: g.index },
            'persistence mode on: NVML init stays fast and the driver keeps state',
          ),
        );
      }
    }
    if (apply) {
      const r = await d.gate.perform(
        {
          actor: d.actor,
          action: 'gpu_clock_reset',
          target: { gpu: g.index, call: 'resetApplicationsClocks' },
          dryRun: o.dryRun,
        },
        () =>
          !d.config.policy.allowGpuSettings ? 'GPU settings are not allowed (policy.allowGpuSettings is false)' : null,
        () => d.gpu!.action(g.index, 'resetApplicationsClocks'),
      );
      actions.push(actionOf('resetApplicationsClocks', r, { gpu: g.index }, 'application clocks back to default'));
    }
  }
  const u = usageOf(d, devs);
  const ranked = [...u.rows].sort(
    (a, b) =>
      (a.utilization_gpu ?? 0) +
      (a.memory_used_fraction ?? 0) -
      ((b.utilization_gpu ?? 0) + (b.memory_used_fraction ?? 0)),
  );
  return {
    status: o.dryRun ? 'dry_run' : 'success',
    resource_type: 'gpu',
    action: 'optimize',
    message: `least-loaded GPUs: ${ranked
      .slice(0, 3)
      .map((r) => r.index)
      .join(', ')}`,
    current_usage: u.current_usage,
    available: u.available,
    actions,
    report: {
      least_loaded: ranked.map((r) => ({
        index: r.index,
        uuid: r.uuid,
        utilization_gpu: r.utilization_gpu,
        memory_used_fraction: r.memory_used_fraction,
      })),
    },
  };
}

export async function cleanupGpu(d: ResourceDeps, p: ResourceParameters, o: RunOptions): Promise<ResourceResult> {
  const devs = await devices(d);
  if (typeof devs === 'string') return noGpu('cleanup', devs);
  await d.watch.observe();
  const hung = new Map(d.watch.hangSuspects().map((h) => [h.pid, h.reason]));
  const actions: ResourceAction[] = [];
  // Every orphaned or hung holder is freed, whatever the GPU's usage: its memory serves nobody.
  const targets = devs.filter((g) => (p.gpus ? p.gpus.includes(g.index) : true));
  for (const g of targets) {
    for (const gp of g.processes ?? []) {
      let why: string | undefined;
      try {
        const pr = readProcess(gp.pid, { io: false, wchan: false, statm: false });
        if (pr.ppid === 1) why = 'orphaned (its parent exited; re-parented to init)';
        else if (hung.has(gp.pid)) why = `hung: ${hung.get(gp.pid)}`;
      } catch {
        why = undefined;
      }
      if (!why) {
        actions.push({
          step: 'keep process',
          target: { pid: gp.pid, gpu: g.index },
          outcome: 'skipped',
          detail: 'neither orphaned nor hung: left alone',
        });
        continue;
      }
      const v = d.gate.checkProcess(gp.pid);
      if (!v.allowed) {
        actions.push({
          step: 'skip process',
          target: { pid: gp.pid, gpu: g.index },
          outcome: 'refused',
          detail: `${why}; ${v.reason}`,
        });
        continue;
      }
      const ladder = await endProcess(d.gate, d.clock, v.process, {
        actor: d.actor,
        dryRun: o.dryRun,
        inputs: { resource: 'gpu', gpu: g.index, why },
      });
      actions.push(...actionsOfLadder(ladder.actions, { gpu: g.index }));
    }
  }
  let after = devs;
  if (!o.dryRun && actions.some((a) => a.outcome === 'done')) {
    await delay(300);
    const again = await devices(d);
    if (typeof again !== 'string') after = again;
    for (const g of targets) {
      const before = devs.find((x) => x.index === g.index)?.memory?.used ?? 0;
      const now = after.find((x) => x.index === g.index)?.memory?.used ?? 0;
      actions.push({
        step: 'verify',
        target: { gpu: g.index },
        outcome: now < before ? 'done' : 'failed',
        detail: `GPU memory used ${Math.round(before / 2 ** 20)} MB -> ${Math.round(now / 2 ** 20)} MB`,
      });
    }
  }
  const u = usageOf(d, after);
  return {
    status: o.dryRun ? 'dry_run' : actions.some((a) => a.outcome === 'failed') ? 'partial' : 'success',
    resource_type: 'gpu',
    action: 'cleanup',
    message: actions.length
      ? `${actions.filter((a) => a.step === 'SIGTERM' && a.outcome !== 'refused').length} process(es) ended`
      : 'no orphaned or hung process holds a GPU: nothing to do',
    current_usage: u.current_usage,
    available: u.available,
    actions,
  };
}

export async function reserveGpu(d: ResourceDeps, p: ResourceParameters, o: RunOptions): Promise<ResourceResult> {
  const devs = await devices(d);
  if (typeof devs === 'string') return noGpu('reserve', devs);
  const count =
    p.gpus?.length ??
    p.count ??
    // threshold is a fraction (the design's): that share of the node's GPUs, at least one.
    (p.threshold !== undefined && p.threshold > 0 && p.threshold <= 1
      ? Math.max(1, Math.ceil(p.threshold * devs.length))
      : 1);
  const taskId = p.taskId ?? 'unnamed';
  const durationSec = p.durationSec ?? 3600;
  const busy = new Set(devs.filter((g) => (g.processes?.length ?? 0) > 0).map((g) => g.index));
  let refusal: string | undefined;
  let lease: ResourceResult['lease'];
  const decide = (active: Lease[]): { amount: number; gpus: number[] } | { refusal: string } => {
    const leased = new Set(active.flatMap((l) => l.gpus ?? []));
    const free = devs.map((x) => x.index).filter((i) => !leased.has(i) && !busy.has(i));
    const want = p.gpus ?? free.slice(0, count);
    const unavailable = want.filter((i) => leased.has(i) || busy.has(i));
    if (unavailable.length)
      return {
        refusal:
          `GPU(s) ${unavailable.join(', ')} are leased or in use (leased: ` +
          `${[...leased].join(', ') || 'none'}; with processes: ${[...busy].join(', ') || 'none'})`,
      };
    if (want.length < count)
      return {
        refusal:
          `${count} GPU(s) asked; ${free.length} free (leased: ${[...leased].join(', ') || 'none'}; with ` +
          `processes: ${[...busy].join(', ') || 'none'})`,
      };
    return { amount: want.length, gpus: want };
  };
  const missing = p.gpus?.find((i) => !devs.some((g) => g.index === i));
  const r = await d.gate.perform(
    {
      actor: d.actor,
      action: 'lease_gpu',
      target: { count, gpus: p.gpus ?? null, taskId },
      inputs: { priority: o.priority, durationSec },
      dryRun: o.dryRun,
    },
    // The numbers decide at the gate too (a dry run says whether it would be refused); the grant
    // checks again inside its transaction.
    () =>
      missing !== undefined
        ? `GPU ${missing} does not exist (this node has ${devs.length})`
        : refusalOf(decide(d.leases.active('gpu', d.clock.now()))),
    async () => {
      const g = d.leases.grant('gpu', d.clock.now(), { taskId, durationSec, priority: o.priority }, decide);
      if ('refusal' in g) refusal = g.refusal;
      else lease = g.lease;
      return g;
    },
  );
  const u = usageOf(d, devs);
  const act = actionOf('lease_gpu', r, { count }, lease ? `lease ${lease.id}` : (refusal ?? ''));
  if (o.dryRun)
    return {
      status: r.allowed ? 'dry_run' : 'refused',
      resource_type: 'gpu',
      action: 'reserve',
      message: r.allowed ? `would lease ${count} GPU(s) for ${taskId}` : r.reason,
      current_usage: u.current_usage,
      available: u.available,
      actions: [act],
    };
  if (!r.allowed || refusal)
    return {
      status: 'refused',
      resource_type: 'gpu',
      action: 'reserve',
      message: refusal ?? r.reason,
      current_usage: u.current_usage,
      available: u.available,
      actions: [act],
    };
  const uuids = lease!.gpus!.map((i) => devs.find((g) => g.index === i)?.uuid ?? String(i));
  return {
    status: 'success',
    resource_type: 'gpu',
    action: 'reserve',
    message:
      `leased GPU(s) ${lease!.gpus!.join(', ')} to ${taskId} until ${lease!.expires_at}; set ` +
      `CUDA_VISIBLE_DEVICES=${uuids.join(',')}`,
    current_usage: u.current_usage,
    available: u.available,
    actions: [act],
    lease: { ...lease!, cuda_visible_devices: uuids.join(',') },
  };
}
