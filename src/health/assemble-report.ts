/**
 * From a check's pieces to its report: the event history's findings become critical faults (one
 * per subject), the status follows from the faults, and the metrics and recommendations are laid
 * out in the design's field names. No reading and no judging of thresholds happens here.
 */
import type { Thresholds } from '../config/schema.js';
import type { GpuVerdict } from '../gpu/verdict.js';
import type { NodeChecksReport } from '../node-checks/node-checker.js';
import type { HostSample } from '../native.js';
import { round } from '../util/stats.js';
import type { GpuHealth } from './gpu-health.js';
import type { RecentCpu } from './host-observer.js';
import type { LatencySummary } from './latency-window.js';
import { memoryStallRecommendation, type MemoryStallReading } from './memory-stall.js';
import type { MemoryStatus, topProcesses } from './metrics.js';
import { recommendations } from './recommendations.js';
import type { CheckType, CriticalFault, HealthReport, HealthStatus, RecoveryStatusMetric } from './report.js';
import type { HangSuspect, LeakSuspect, NodeEventAssessment, StalledTask } from './sources.js';
import { deepFreeze, sectionsOf, type SampleSections } from './sample-sections.js';
import { latencyMetrics } from './status.js';
import type { Breach } from './thresholds.js';

export interface ReportPieces {
  checkType: CheckType;
  nowMs: number;
  th: Required<Thresholds>;
  /** How old the host reading is (ms). */
  ageMs: number;
  sample: HostSample;
  memory: MemoryStatus;
  recentCpu: RecentCpu;
  memoryStalls: MemoryStallReading[] | null;
  /** The memory-stall breaches (also among `breaches`), for their own recommendation. */
  memoryStallBreaches: Breach[];
  gpuHealth: GpuHealth;
  verdicts: GpuVerdict[];
  events: NodeEventAssessment | null;
  breaches: Breach[];
  /** The faults found before the event history was asked; the history's are added to this list. */
  criticalFaults: CriticalFault[];
  /** The status from everything but the event history. */
  baseStatus: HealthStatus;
  responseWindowS: number;
  tools: LatencySummary;
  probes: { name: string; target: string; summary: LatencySummary }[];
  newOomKills: number;
  recoveryStatus: RecoveryStatusMetric;
  suspects: { leaks: LeakSuspect[]; hangs: HangSuspect[]; stalled: StalledTask[] };
  processes?: ReturnType<typeof topProcesses>;
  nodeChecks?: NodeChecksReport;
}

/** Each event-history finding is a critical fault of its own (its message names the GPU, victim or device). */
function addEventFaults(faults: CriticalFault[], events: NodeEventAssessment | null): void {
  // One fault per subject (newest event first), so a GPU that logged twenty fatal Xids is one alert.
  const seen = new Set<string>();
  (events?.critical ?? []).forEach((m, i) => {
    const subject = `event:${events!.critical_subjects[i] ?? m}`;
    if (!seen.has(subject)) faults.push({ subject, summary: m });
    seen.add(subject);
  });
}

type EventsSection = NonNullable<HealthReport['metrics']['events']>;

/**
 * A quick check's events section, made once per verdict (a quick check reuses the verdict for a
 * tick) and frozen, from copies: the verdict's own arrays stay the event engine's.
 */
const quickEvents = new WeakMap<NodeEventAssessment, EventsSection>();

function eventsSection(events: NodeEventAssessment, full: boolean): EventsSection {
  if (full) return eventsSectionOf(events, true);
  let out = quickEvents.get(events);
  if (out === undefined) {
    out = deepFreeze(structuredClone(eventsSectionOf(events, false)));
    quickEvents.set(events, out);
  }
  return out;
}

/** The CPU section: the sample's with the sampler's last minute; one frozen object while both are the same. */
let lastCpu: { base: SampleSections['cpu']; recent: RecentCpu; out: HealthReport['metrics']['cpu'] } | undefined;
function cpuSection(base: SampleSections['cpu'], recent: RecentCpu): HealthReport['metrics']['cpu'] {
  if (lastCpu?.base === base && lastCpu.recent === recent) return lastCpu.out;
  const out = { ...base, ...recent };
  // Frozen (and kept) only when both halves are: recentCpu() freezes what it reuses.
  if (Object.isFrozen(recent)) lastCpu = { base, recent, out: deepFreeze(out) };
  return out;
}

function eventsSectionOf(events: NodeEventAssessment, full: boolean): EventsSection {
  return {
    critical: events.critical,
    degraded: events.degraded,
    ...(full ? { recent: events.recent } : {}),
    ...(events.gpu_inventory ? { gpu_inventory: events.gpu_inventory } : {}),
    kernel_log: events.kernel_log,
  };
}

export function assembleReport(p: ReportPieces): HealthReport {
  const full = p.checkType !== 'quick';
  const { events, criticalFaults, memory } = p;
  // Without NVML here, the Xids other processes stored are still this node's GPUs' history.
  const gpuReport: GpuHealth =
    events && full && !p.gpuHealth.available ? { ...p.gpuHealth, recent_xids: events.xids } : p.gpuHealth;
  addEventFaults(criticalFaults, events);
  const status: HealthStatus =
    criticalFaults.length > 0
      ? 'critical'
      : p.baseStatus !== 'healthy' || (events?.degraded.length ?? 0) > 0
        ? 'degraded'
        : 'healthy';
  const nodeFindings = p.nodeChecks?.findings ?? [];
  const { leaks, hangs, stalled } = p.suspects;
  const sections = sectionsOf(p.sample);
  return {
    status,
    check_type: p.checkType,
    timestamp: new Date(p.nowMs).toISOString(),
    duration_ms: 0,
    sample_age_ms: round(p.ageMs, 1),
    thresholds: p.th,
    metrics: {
      gpu_health: gpuReport,
      memory_status: memory,
      ...latencyMetrics(p.responseWindowS, p.tools, p.probes, p.newOomKills),
      recovery_status: p.recoveryStatus,
      cpu: cpuSection(sections.cpu, p.recentCpu),
      pressure: p.memoryStalls ? { ...sections.pressure, memory_stall: p.memoryStalls } : sections.pressure,
      cgroup: sections.cgroup,
      disk: sections.disk,
      ...(p.processes ? { processes: p.processes } : {}),
      ...(full ? { suspects: { memory_leaks: leaks, hangs, stalled_tasks: stalled } } : {}),
      ...(events ? { events: eventsSection(events, full) } : {}),
      ...(p.nodeChecks ? { node_checks: p.nodeChecks } : {}),
    },
    breached: p.breaches,
    critical_faults: criticalFaults,
    recommendations: [
      ...recommendations({
        breached: p.breaches,
        memory,
        gpuVerdicts: p.verdicts,
        leaks,
        hangs,
        stalled,
        topByMemory: p.processes?.by_memory ?? [],
        checkType: p.checkType,
      }),
      ...p.memoryStallBreaches.map((b) => memoryStallRecommendation(b, p.th.memoryStallCritical)),
      ...nodeFindings.map((f) => ({
        severity: f.severity === 'critical' ? ('critical' as const) : ('warning' as const),
        message: f.action ? `${f.message}: ${f.action}` : f.message,
      })),
    ],
  };
}
