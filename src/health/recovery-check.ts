/**
 * A `recovery` check: the state now against the state the last recovery started from, so the caller
 * learns whether the problem that recovery addressed (a breach, a GPU, a suspect process) is gone.
 */
import { gpuStatusesByIndex } from './gpu-health.js';
import type { HealthReport, RecoveryCheck } from './report.js';
import type { RecoveryRecord } from './sources.js';

export function compareWithLastRecovery(now: HealthReport, last: RecoveryRecord | null): RecoveryCheck {
  if (!last)
    return {
      last_recovery: null,
      problem_resolved: null,
      explanation: 'no recovery has run yet; nothing to compare with',
    };
  const before = last.before;
  // An informational breach (a busy CPU with nothing waiting) is not a problem a recovery left behind.
  const stillBreached = now.breached
    .filter((b) => !b.informational)
    .map((b) => b.metric)
    .filter((m) => before.breached.includes(m));
  const gpuNow = gpuStatusesByIndex(now.metrics.gpu_health);
  const gpuStill = Object.entries(before.gpu_statuses)
    .filter(([i, s]) => s !== 'healthy' && gpuNow[i] && gpuNow[i] !== 'healthy')
    .map(([i]) => Number(i));
  let targetStillThere = false;
  if (last.target?.pid) {
    const leaks = now.metrics.suspects?.memory_leaks ?? [];
    const hangs = now.metrics.suspects?.hangs ?? [];
    targetStillThere = leaks.some((l) => l.pid === last.target!.pid) || hangs.some((h) => h.pid === last.target!.pid);
  }
  const resolved =
    stillBreached.length === 0 && gpuStill.length === 0 && !targetStillThere && now.status !== 'critical';
  const memBefore = before.memory_used_fraction;
  const memNow = now.metrics.memory_status.effective?.used_fraction ?? null;
  const remaining = [
    ...stillBreached,
    ...gpuStill.map((g) => `GPU ${g}`),
    ...(targetStillThere ? [`pid ${last.target!.pid}`] : []),
  ];
  return {
    last_recovery: {
      id: last.id,
      operation_type: last.operation_type,
      status: last.status,
      finished_at: last.finished_at,
      target: last.target ?? null,
    },
    status_before: before.status,
    status_now: now.status,
    memory_used_fraction: { before: memBefore, now: memNow },
    still_breached: stillBreached,
    gpus_still_unhealthy: gpuStill,
    target_still_suspect: targetStillThere,
    problem_resolved: resolved,
    explanation: resolved
      ? `the conditions present before ${last.operation_type} recovery are gone`
      : `still present after ${last.operation_type} recovery: ${remaining.join(', ') || `status ${now.status}`}`,
  };
}
