/**
 * Memory stall as a finding: how much of the last PSI window the agent's cgroup (and the node)
 * spent with some task waiting for memory, measured from the PSI totals the monitor's pressure
 * watch reads (not the 10 s average, which trails a thrashing cgroup by many seconds). Over
 * thresholds.memoryStall it is a warning; over memoryStallCritical a critical fault of its own
 * subject, so its alert is de-duplicated per cgroup. Pure judging; the readings come from a source.
 */
import type { Thresholds } from '../config/schema.js';
import type { CriticalFault } from './report.js';
import type { Breach, ThresholdTracker } from './thresholds.js';

/** One subject's memory stall over the window, from PSI `some total=` growth. */
export interface MemoryStallReading {
  /** "system", or the cgroup's path in the unified hierarchy ("/agent.slice/run-1.scope"). */
  subject: string;
  scope: 'system' | 'cgroup';
  /** The pressure file the totals come from. */
  file: string;
  /** Percent of the covered span some task stalled on memory. */
  stall_percent: number;
  stall_ms: number;
  /** The span the stall is measured over (the trigger window once the watch has run that long). */
  window_s: number;
}

/** What the health check asks of the monitor's pressure watch. */
export interface MemoryStallSource {
  memoryStalls(): MemoryStallReading[];
}

/** The metric name of a subject's stall ("memoryStall:system", "memoryStall:/agent.slice"). */
export const memoryStallMetric = (subject: string) => `memoryStall:${subject}`;

/** The critical fault subject of a subject's stall (alerts are keyed on it). */
export const memoryStallFaultSubject = (subject: string) => `memory_stall:${subject}`;

const where = (r: MemoryStallReading) => (r.scope === 'system' ? 'system-wide' : `cgroup ${r.subject}`);

/** Judges each reading (already an aggregate over its window: breached at once, cleared with hysteresis). */
export function judgeMemoryStalls(
  readings: MemoryStallReading[],
  tracker: ThresholdTracker,
  th: Required<Thresholds>,
): { breaches: Breach[]; faults: CriticalFault[] } {
  const breaches: Breach[] = [];
  const faults: CriticalFault[] = [];
  for (const r of readings) {
    const b = tracker.observeLevel(memoryStallMetric(r.subject), r.stall_percent, th.memoryStall, 'percent', where(r));
    if (!b) continue;
    breaches.push(b);
    if (r.stall_percent >= th.memoryStallCritical)
      faults.push({
        subject: memoryStallFaultSubject(r.subject),
        summary:
          `tasks ${r.scope === 'system' ? 'on the node' : `in cgroup ${r.subject}`} stalled on memory ` +
          `${r.stall_percent.toFixed(1)}% of the last ${r.window_s.toFixed(1)} s ` +
          `(critical at ${th.memoryStallCritical}%)`,
      });
  }
  return { breaches, faults };
}

/** The operator's next step for a stall breach. */
export function memoryStallRecommendation(
  b: Breach,
  criticalAt: number,
): { severity: 'warning' | 'critical'; message: string } {
  const critical = b.observed >= criticalAt;
  return {
    severity: critical ? 'critical' : 'warning',
    message:
      `memory stall ${b.detail ?? ''}: tasks waited for memory ${b.observed.toFixed(1)}% of the PSI window ` +
      `(warning at ${b.limit}%, critical at ${criticalAt}%): the working set does not fit its memory limit ` +
      `and the kernel is reclaiming and refaulting pages. Raise the cgroup's memory limit, run fewer jobs at ` +
      `once, or end the largest process in scope (recoverOperation memory_leak with its pid` +
      `${critical ? '; the monitor does so with recover: on' : ''})`,
  };
}
