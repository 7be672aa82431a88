/**
 * Memory: optimize (drop reclaimable caches and compact, where the policy allows and we are root;
 * report top consumers and leak suspects), cleanup (end allowed processes, leak suspects first, one
 * at a time, verifying memory came back before the next; never by oom_score), reserve (admission
 * control against available memory minus other reservations and a headroom).
 */
import { writeFile } from 'node:fs/promises';
import { memoryStatus } from '../health/metrics.js';
import { listProcessesAsync } from '../readers/processes.js';
import { createHostReader } from '../readers/host.js';
import { awaitMemoryReleased, endProcess, privateBytes } from '../recovery/terminate.js';
import { PRIORITY_EFFECTS, reservationBasis, reservationBytes } from './sizes.js';
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

const MB = 2 ** 20;

function sampleMemory() {
  return memoryStatus(createHostReader().sample({ cpu: false, load: false, psi: true }));
}

function usage(d: ResourceDeps) {
  const m = sampleMemory();
  const reserved = d.leases.active('memory', d.clock.now()).reduce((a, l) => a + l.amount, 0);
  const total =
    m.effective?.source === 'cgroup' ? (m.cgroup?.limit_bytes ?? m.host?.total_bytes ?? 0) : (m.host?.total_bytes ?? 0);
  return {
    m,
    total,
    reserved,
    current_usage: {
      used_fraction: m.effective?.used_fraction ?? null,
      source: m.effective?.source ?? null,
      host: m.host,
      cgroup: m.cgroup,
    },
    available: {
      bytes: m.effective?.available_bytes ?? null,
      reserved_bytes: reserved,
      unreserved_bytes: m.effective ? Math.max(0, m.effective.available_bytes - reserved) : null,
    },
  };
}

export async function optimizeMemory(d: ResourceDeps, p: ResourceParameters, o: RunOptions): Promise<ResourceResult> {
  const u = usage(d);
  const actions: ResourceAction[] = [];
  const procs = await listProcessesAsync();
  const top = procs
    .sort((a, b) => b.rss - a.rss)
    .slice(0, 5)
    .map((x) => ({ pid: x.pid, comm: x.comm, rss_bytes: x.rss }));
  const leaks = d.watch.leakSuspects();
  if (PRIORITY_EFFECTS[o.priority].applySettings) {
    for (const [step, file, value] of [
      ['drop_caches', '/proc/sys/vm/drop_caches', '1'],
      ['compact_memory', '/proc/sys/vm/compact_memory', '1'],
    ] as const) {
      const r = await d.gate.perform(
        { actor: d.actor, action: step, target: { file }, dryRun: o.dryRun },
        () =>
          !d.config.policy.allowCacheDrop
            ? 'dropping caches is not allowed (policy.allowCacheDrop is false)'
            : !d.gate.isRoot
              ? `${step} needs root`
              : null,
        async () => {
          await writeFile(file, value);
          return { written: value };
        },
      );
      actions.push(actionOf(step, r, { file }, `wrote ${value} to ${file}`));
    }
  } else {
    actions.push({ step: 'drop_caches', target: {}, outcome: 'skipped', detail: 'priority low: report only' });
  }
  const after = usage(d);
  return {
    status: o.dryRun ? 'dry_run' : 'success',
    resource_type: 'memory',
    action: 'optimize',
    message: `memory at ${Math.round((after.m.effective?.used_fraction ?? 0) * 100)}%; ${leaks.length} leak suspect(s)`,
    current_usage: after.current_usage,
    available: after.available,
    actions,
    report: {
      top_consumers: top,
      leak_suspects: leaks,
      freed_bytes:
        after.m.effective && u.m.effective ? after.m.effective.available_bytes - u.m.effective.available_bytes : null,
    },
  };
}

export async function cleanupMemory(d: ResourceDeps, p: ResourceParameters, o: RunOptions): Promise<ResourceResult> {
  const threshold = p.threshold ?? d.config.thresholds.memory ?? 0.8;
  let u = usage(d);
  const actions: ResourceAction[] = [];
  const base = { resource_type: 'memory' as const, action: 'cleanup' as const };
  const used = () => u.m.effective?.used_fraction ?? 0;
  if (used() <= threshold) {
    return {
      ...base,
      status: o.dryRun ? 'dry_run' : 'success',
      message: `memory at ${Math.round(used() * 100)}% is already under ${Math.round(threshold * 100)}%: nothing to do`,
      current_usage: u.current_usage,
      available: u.available,
      actions,
    };
  }
  await d.watch.observe();
  const victims = PRIORITY_EFFECTS[o.priority].victims;
  const order: { pid: number; why: string }[] = [];
  if (victims.includes('leak'))
    for (const l of d.watch.leakSuspects())
      order.push({ pid: l.pid, why: `leaking ${Math.round(l.slope_bytes_per_min / MB)} MB/min` });
  if (victims.includes('hang'))
    for (const h of d.watch.hangSuspects()) order.push({ pid: h.pid, why: `hung: ${h.reason}` });
  if (victims.includes('largest')) {
    const inScope = await listProcessesAsync({ descendantsOf: d.watch.scopeRoot });
    for (const x of inScope.sort((a, b) => b.rss - a.rss))
      order.push({ pid: x.pid, why: `largest in scope (${Math.round(x.rss / MB)} MB)` });
  }
  const tried = new Set<number>();
  for (const c of order) {
    if (used() <= threshold) break;
    if (tried.has(c.pid)) continue;
    tried.add(c.pid);
    const v = d.gate.checkProcess(c.pid);
    if (!v.allowed) {
      actions.push({ step: 'skip process', target: { pid: c.pid }, outcome: 'refused', detail: v.reason });
      continue;
    }
    // Measure right before acting: a leaking candidate keeps growing while we decide.
    if (!o.dryRun) u = usage(d);
    const held = privateBytes(v.process);
    const before = u.m.effective?.available_bytes ?? 0;
    const ladder = await endProcess(d.gate, d.clock, v.process, {
      actor: d.actor,
      dryRun: o.dryRun,
      inputs: { resource: 'memory', why: c.why },
    });
    actions.push(...actionsOfLadder(ladder.actions));
    if (o.dryRun) {
      // Assume its memory would come back, to list who else would be needed.
      u = {
        ...u,
        m: {
          ...u.m,
          effective: u.m.effective
            ? {
                ...u.m.effective,
                used_fraction: u.m.effective.used_fraction - v.process.rss / Math.max(1, u.total),
                available_bytes: u.m.effective.available_bytes + v.process.rss,
              }
            : null,
        },
      };
      continue;
    }
    // Verify its memory came back before choosing anyone else: the kernel has torn down its address
    // space. The node-wide change in available memory is reported beside it, not judged: on a shared
    // node the neighbours' allocations move it as much as the victim's exit does.
    const release = ladder.gone
      ? await awaitMemoryReleased(v.process)
      : { released: false, state: 'running', residentBytes: v.process.rss };
    u = usage(d);
    const freed = (u.m.effective?.available_bytes ?? 0) - before;
    actions.push({
      step: 'verify',
      target: { pid: c.pid },
      outcome: release.released ? 'done' : 'failed',
      detail: release.released
        ? `exited and its address space is released: its ${Math.round(held / MB)} MB of private memory went back ` +
          `to the kernel; node available memory ${freed >= 0 ? '+' : ''}${Math.round(freed / MB)} MB meanwhile ` +
          `(node-wide, other processes included)`
        : `not released: pid ${c.pid} is ${release.state} with ${Math.round(release.residentBytes / MB)} MB ` +
          `still resident`,
    });
  }
  const under = used() <= threshold;
  return {
    ...base,
    status: o.dryRun ? 'dry_run' : under ? 'success' : actions.some((a) => a.outcome === 'done') ? 'partial' : 'failed',
    message: under
      ? `memory at ${Math.round(used() * 100)}% is under ${Math.round(threshold * 100)}%`
      : `memory still at ${Math.round(used() * 100)}% (threshold ${Math.round(threshold * 100)}%): no more ` +
        `allowed candidates at priority ${o.priority}`,
    current_usage: o.dryRun ? usage(d).current_usage : u.current_usage,
    available: o.dryRun ? usage(d).available : u.available,
    actions,
  };
}

export async function reserveMemory(d: ResourceDeps, p: ResourceParameters, o: RunOptions): Promise<ResourceResult> {
  const u = usage(d);
  const base = { resource_type: 'memory' as const, action: 'reserve' as const };
  const bytes = reservationBytes(p, u.total);
  if (bytes === null || bytes <= 0)
    return {
      ...base,
      status: 'refused',
      message:
        'say how much to reserve: parameters.size (bytes or "8G") or parameters.threshold (a fraction of ' +
        'capacity in (0, 1])',
      current_usage: u.current_usage,
      available: u.available,
      actions: [],
    };
  const headroom = Math.floor(u.total * PRIORITY_EFFECTS[o.priority].headroomFraction);
  const avail = u.m.effective?.available_bytes ?? 0;
  const taskId = p.taskId ?? 'unnamed';
  const durationSec = p.durationSec ?? 3600;
  let lease: ResourceResult['lease'];
  let refusal: string | undefined;
  const decide = (active: Lease[]): { amount: number } | { refusal: string } => {
    const others = active.reduce((a, l) => a + l.amount, 0);
    const room = avail - others - headroom;
    return room >= bytes
      ? { amount: bytes }
      : {
          refusal:
            `${Math.round(bytes / MB)} MB asked; available ${Math.round(avail / MB)} MB - reserved by ` +
            `others ${Math.round(others / MB)} MB - headroom ${Math.round(headroom / MB)} MB (priority ` +
            `${o.priority}) = ${Math.round(room / MB)} MB`,
        };
  };
  const r = await d.gate.perform(
    {
      actor: d.actor,
      action: 'reserve_memory',
      target: { bytes, taskId },
      inputs: { priority: o.priority, durationSec },
      dryRun: o.dryRun,
    },
    // The numbers decide at the gate (so a dry run and the audit log say the truth); the grant
    // checks them again inside its transaction, against a lease granted in between.
    () => refusalOf(decide(d.leases.active('memory', d.clock.now()))),
    async () => {
      const g = d.leases.grant('memory', d.clock.now(), { taskId, durationSec, priority: o.priority }, decide);
      if ('refusal' in g) refusal = g.refusal;
      else lease = g.lease;
      return g;
    },
  );
  const after = usage(d);
  if (o.dryRun)
    return {
      ...base,
      status: r.allowed ? 'dry_run' : 'refused',
      message: r.allowed
        ? `would reserve ${Math.round(bytes / MB)} MB (${reservationBasis(p, u.total)}) for ${taskId}`
        : r.reason,
      current_usage: after.current_usage,
      available: after.available,
      actions: [actionOf('reserve_memory', r, { bytes }, '')],
    };
  if (!r.allowed || refusal)
    return {
      ...base,
      status: 'refused',
      message: refusal ?? r.reason,
      current_usage: after.current_usage,
      available: after.available,
      actions: [actionOf('reserve_memory', r, { bytes }, refusal ?? '')],
    };
  return {
    ...base,
    status: 'success',
    message:
      `reserved ${Math.round(bytes / MB)} MB (${reservationBasis(p, u.total)}) for ${taskId} until ` +
      lease!.expires_at,
    current_usage: after.current_usage,
    available: after.available,
    actions: [actionOf('reserve_memory', r, { bytes }, `lease ${lease!.id}`)],
    lease: lease!,
  };
}
