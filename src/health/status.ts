/**
 * From the check's findings to its verdict: which faults make the node critical (one per subject),
 * the overall status, and the latency and error-rate sections of the report. Pure functions.
 */
import type { GpuVerdict } from '../gpu/verdict.js';
import type { NodeFinding } from '../node-checks/types.js';
import type { LatencySummary } from './latency-window.js';
import type { MemoryStatus } from './metrics.js';
import type { CriticalFault, ErrorRates, HealthStatus, ResponseTimes } from './report.js';
import type { Breach } from './thresholds.js';

export interface FaultInputs {
  memory: MemoryStatus;
  /** The memory threshold of the check (critical at 95 % or this, whichever is higher). */
  memoryLimit: number;
  newOomKills: number;
  verdicts: GpuVerdict[];
  breaches: Breach[];
  nodeFindings: NodeFinding[];
}

/** Each critical fault on its own subject, so an alert about one is not sent again when another comes or goes. */
export function criticalFaultsOf(i: FaultInputs): CriticalFault[] {
  const faults: CriticalFault[] = [];
  const memFrac = i.memory.effective?.used_fraction ?? 0;
  if (i.memory.effective && memFrac >= Math.max(0.95, i.memoryLimit)) {
    faults.push({
      subject: 'memory',
      summary: `memory at ${(memFrac * 100).toFixed(1)}% (${i.memory.effective.source})`,
    });
  }
  // OOM kills since the previous check are critical: the kernel already killed something.
  if (i.newOomKills > 0)
    faults.push({ subject: 'oom_kill', summary: `${i.newOomKills} OOM kill(s) in the cgroup since the last check` });
  const full10 = i.memory.pressure_full_avg10 ?? 0;
  if (full10 >= 20)
    faults.push({ subject: 'memory_pressure', summary: `all tasks stalled on memory ${full10}% of the last 10 s` });
  for (const v of i.verdicts)
    if (v.status === 'failed')
      faults.push({ subject: `gpu:${v.uuid ?? v.index}`, summary: `GPU ${v.index} failed: ${v.reasons.join('; ')}` });
  for (const b of i.breaches) {
    if (b.metric.startsWith('disk:') && b.observed >= 0.98)
      faults.push({ subject: b.metric, summary: `${b.detail ?? b.metric} at ${(b.observed * 100).toFixed(1)}%` });
  }
  for (const f of i.nodeFindings)
    if (f.severity === 'critical') faults.push({ subject: `node:${f.check}:${f.subject}`, summary: f.message });
  return faults;
}

/** critical with any critical fault; degraded with any breach, finding, degraded GPU or suspect. */
export function overallStatus(
  faults: CriticalFault[],
  d: { breaches: Breach[]; nodeFindings: NodeFinding[]; verdicts: GpuVerdict[]; suspects: number },
): HealthStatus {
  if (faults.length) return 'critical';
  const degraded =
    d.breaches.some((b) => !b.informational) ||
    d.nodeFindings.length > 0 ||
    d.verdicts.some((v) => v.status === 'degraded') ||
    d.suspects > 0;
  return degraded ? 'degraded' : 'healthy';
}

/** The report's response_times and error_rates: this server's tool calls and each probe, over the window. */
export function latencyMetrics(
  windowS: number,
  tools: LatencySummary,
  probes: { name: string; target: string; summary: LatencySummary }[],
  newOomKills: number,
): { response_times: ResponseTimes; error_rates: ErrorRates } {
  return {
    response_times: {
      window_s: windowS,
      tool_calls: { count: tools.count, p50_ms: tools.p50Ms, p95_ms: tools.p95Ms, p99_ms: tools.p99Ms },
      probes: probes.map((p) => ({
        name: p.name,
        target: p.target,
        count: p.summary.count,
        p50_ms: p.summary.p50Ms,
        p95_ms: p.summary.p95Ms,
        p99_ms: p.summary.p99Ms,
      })),
    },
    error_rates: {
      window_s: windowS,
      tool_calls: { count: tools.count, errors: tools.errors, rate: tools.errorRate },
      probes: probes.map((p) => ({
        name: p.name,
        count: p.summary.count,
        errors: p.summary.errors,
        rate: p.summary.errorRate,
        ...(p.summary.lastError ? { last_error: p.summary.lastError } : {}),
      })),
      ...(newOomKills > 0 ? { oom_kills_since_last_check: newOomKills } : {}),
    },
  };
}
