/**
 * Recommendations a person (or agent) can act on: which process, which GPU, which path, and the
 * tool call that would fix it.
 */
import type { GpuVerdict } from '../gpu/verdict.js';
import type { Breach } from './thresholds.js';
import type { HangSuspect, LeakSuspect, StalledTask } from './sources.js';
import type { MemoryStatus } from './metrics.js';

export interface Recommendation {
  severity: 'info' | 'warning' | 'critical';
  message: string;
  /** The tool call that would address it, when there is one. */
  tool?: { name: string; arguments: Record<string, unknown> };
}

const GiB = 2 ** 30;
const gib = (b: number) => `${(b / GiB).toFixed(1)} GiB`;
const mbPerMin = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB/min`;

export interface RecommendationInput {
  breached: Breach[];
  memory: MemoryStatus;
  gpuVerdicts: GpuVerdict[];
  leaks: LeakSuspect[];
  hangs: HangSuspect[];
  stalled: StalledTask[];
  topByMemory: { pid: number; comm: string; rss_bytes: number }[];
  checkType: string;
}

export function recommendations(input: RecommendationInput): Recommendation[] {
  const out: Recommendation[] = [];
  for (const l of input.leaks) {
    const eta =
      l.seconds_to_exhaustion !== null
        ? `; at this rate memory runs out in ${Math.round(l.seconds_to_exhaustion / 60)} min`
        : '';
    out.push({
      severity: l.seconds_to_exhaustion !== null && l.seconds_to_exhaustion < 1800 ? 'critical' : 'warning',
      message:
        `pid ${l.pid} (${l.comm}) is growing ${mbPerMin(l.slope_bytes_per_min)} (R² ${l.r2.toFixed(2)}, ` +
        `now ${gib(l.rss_bytes)})${eta}`,
      tool: {
        name: 'recoverOperation',
        arguments: { operationType: 'memory_leak', context: { pid: l.pid, errorType: 'memory_leak' } },
      },
    });
  }
  for (const h of input.hangs) {
    out.push({
      severity: 'warning',
      message: `pid ${h.pid} (${h.comm}) looks hung: ${h.reason} (no progress for ${Math.round(h.no_progress_sec)} s)`,
      tool: {
        name: 'recoverOperation',
        arguments: { operationType: 'process_hang', context: { pid: h.pid, errorType: 'process_hang' } },
      },
    });
  }
  for (const v of input.gpuVerdicts) {
    if (v.status === 'healthy') continue;
    const first = v.actions[0];
    const why = v.reasons.join('; ');
    if (first === 'reset_gpu' || first === 'restart_application') {
      out.push({
        severity: v.status === 'failed' ? 'critical' : 'warning',
        message: `GPU ${v.index} (${v.uuid ?? 'unknown uuid'}) is ${v.status}: ${why}`,
        tool: {
          name: 'recoverOperation',
          arguments: { operationType: 'gpu_reset', context: { errorType: 'gpu_fault', gpu: v.index } },
        },
      });
    } else if (first === 'drain_node' || first === 'reboot_node') {
      out.push({
        severity: 'critical',
        message:
          `GPU ${v.index} (${v.uuid ?? 'unknown uuid'}) is ${v.status}: ${why}. A reset cannot fix this: ` +
          `drain the node (Slurm: scontrol update nodename=$(hostname -s) state=drain reason="GPU ${v.index} ` +
          `${v.status}") and reboot it`,
      });
    } else {
      out.push({ severity: 'warning', message: `GPU ${v.index} is ${v.status}: ${why}` });
    }
  }
  const topCpuHint = input.checkType === 'full' ? '' : '; run healthCheck "full" for the top CPU consumers';
  for (const b of input.breached) {
    if (b.metric === 'memory' && !input.leaks.length) {
      const top = input.topByMemory[0];
      const where = input.memory.effective?.source === 'cgroup' ? 'of the cgroup limit' : 'of host memory';
      const largest = top
        ? `; largest: pid ${top.pid} (${top.comm}) ${gib(top.rss_bytes)}`
        : input.checkType === 'quick'
          ? '; run healthCheck with checkType "full" to see the largest processes'
          : '';
      out.push({
        severity: b.observed >= 0.95 ? 'critical' : 'warning',
        message:
          `memory at ${(b.observed * 100).toFixed(0)}% ${where} (limit ${(b.limit * 100).toFixed(0)}%)` + largest,
        tool: {
          name: 'manageResources',
          arguments: {
            resourceType: 'memory',
            action: 'cleanup',
            parameters: { threshold: b.limit, priority: 'normal' },
            dryRun: true,
          },
        },
      });
    } else if (b.metric.startsWith('gpu.') && b.metric.endsWith('.memory')) {
      out.push({
        severity: 'warning',
        message:
          `${b.detail ?? b.metric}: memory at ${(b.observed * 100).toFixed(0)}% (limit ` +
          `${(b.limit * 100).toFixed(0)}%)`,
        tool: {
          name: 'manageResources',
          arguments: { resourceType: 'gpu', action: 'cleanup', parameters: { threshold: b.limit }, dryRun: true },
        },
      });
    } else if (b.metric.startsWith('disk:')) {
      const p = b.metric.slice(5);
      out.push({
        severity: b.observed >= 0.98 ? 'critical' : 'warning',
        message: `filesystem ${p} at ${(b.observed * 100).toFixed(1)}% (limit ${(b.limit * 100).toFixed(0)}%)`,
        tool: {
          name: 'manageResources',
          arguments: { resourceType: 'disk', action: 'cleanup', parameters: { threshold: b.limit }, dryRun: true },
        },
      });
    } else if (b.metric === 'responseTime' || b.metric.startsWith('responseTime:')) {
      out.push({
        severity: 'warning',
        message: `${b.detail ?? 'tool calls'}: p95 latency ${b.observed.toFixed(0)} ms over the ${b.limit} ms limit`,
      });
    } else if (b.metric === 'cpu') {
      const waiting = b.informational ? '; no work is waiting for a CPU (PSI cpu), so this alone is not a fault' : '';
      out.push({
        severity: 'info',
        message:
          `CPU busy ${(b.observed * 100).toFixed(0)}% (limit ` +
          `${(b.limit * 100).toFixed(0)}%)${waiting}${topCpuHint}`,
      });
    } else if (b.metric === 'cpuPressure') {
      out.push({
        severity: 'warning',
        message:
          `CPU contention: runnable tasks waited for a CPU ${b.observed.toFixed(1)}% of the last 10 s ` +
          `(limit ${b.limit}%)${topCpuHint}`,
      });
    } else if (b.metric === 'memoryPressure') {
      out.push({
        severity: 'warning',
        message:
          `memory pressure: tasks stalled ${b.observed.toFixed(1)}% of the last 10 s waiting for memory ` +
          `(limit ${b.limit}%)`,
      });
    } else if (b.metric === 'errorRate' || b.metric.startsWith('errorRate:')) {
      out.push({
        severity: 'warning',
        message:
          `${b.detail ?? 'tool calls'}: error rate ${(b.observed * 100).toFixed(0)}% over the window ` +
          `(limit ${(b.limit * 100).toFixed(0)}%)`,
      });
    }
  }
  for (const t of input.stalled) {
    out.push({
      severity: 'warning',
      message:
        `task ${t.task_id} has not checkpointed for ${Math.round(t.stalled_for_sec / 60)} min (stage ` +
        `${t.current_stage ?? 'unknown'})`,
      tool: { name: 'trackProgress', arguments: { taskId: t.task_id } },
    });
  }
  return out;
}
