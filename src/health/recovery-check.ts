/**
 * The `recovery` check: a full report compared with the state before the last recovery: whether
 * what it addressed (breaches, unhealthy GPUs, the target process) is gone. Pure: no I/O, no clock.
 */
import type { HealthReport } from './health-monitor.js';
import type { RecoveryJournal } from './sources.js';

export function compareWithLastRecovery(now: HealthReport, last: ReturnType<RecoveryJournal['lastRecovery']>): Record<string, unknown> {
  if (!last) return { last_recovery: null, problem_resolved: null, explanation: 'no recovery has run yet; nothing to compare with' };
  const before = last.before;
  // An informational breach (a busy CPU with nothing waiting) is not a problem a recovery left behind.
  const stillBreached = now.breached.filter((b) => !b.informational).map((b) => b.metric).filter((m) => before.breached.includes(m));
  const gpuNow = Object.fromEntries(((now.metrics.gpu_health.devices as { index: number; status: string }[] | undefined) ?? []).map((d) => [String(d.index), d.status]));
  const gpuStill = Object.entries(before.gpu_statuses).filter(([i, s]) => s !== 'healthy' && gpuNow[i] && gpuNow[i] !== 'healthy').map(([i]) => Number(i));
  let targetStillThere = false;
  if (last.target?.pid) {
    const leaks = (now.metrics.suspects?.memory_leaks ?? []) as { pid: number }[];
    const hangs = (now.metrics.suspects?.hangs ?? []) as { pid: number }[];
    targetStillThere = leaks.some((l) => l.pid === last.target!.pid) || hangs.some((h) => h.pid === last.target!.pid);
  }
  const resolved = stillBreached.length === 0 && gpuStill.length === 0 && !targetStillThere && now.status !== 'critical';
  const memBefore = before.memory_used_fraction;
  const memNow = now.metrics.memory_status.effective?.used_fraction ?? null;
  return {
    last_recovery: { id: last.id, operation_type: last.operation_type, status: last.status, finished_at: last.finished_at, target: last.target ?? null },
    status_before: before.status,
    status_now: now.status,
    memory_used_fraction: { before: memBefore, now: memNow },
    still_breached: stillBreached,
    gpus_still_unhealthy: gpuStill,
    target_still_suspect: targetStillThere,
    problem_resolved: resolved,
    explanation: resolved
      ? `the conditions present before ${last.operation_type} recovery are gone`
      : `still present after ${last.operation_type} recovery: ${[...stillBreached, ...gpuStill.map((g) => `GPU ${g}`), ...(targetStillThere ? [`pid ${last.target!.pid}`] : [])].join(', ') || `status ${now.status}`}`,
  };
}
