/**
 * Response times and error rates as threshold breaches: this server's tool calls and each probe.
 * Their summaries are already windowed levels, so each is judged as a level, not over a sustain window.
 */
import type { Thresholds } from '../config/schema.js';
import type { LatencySummary } from './latency-window.js';
import type { Breach, ThresholdTracker } from './thresholds.js';

/** Fewer tool calls than this in the window say nothing about the server's latency. */
const MIN_TOOL_CALLS = 5;

export function latencyBreaches(
  tracker: ThresholdTracker,
  th: Required<Thresholds>,
  tools: LatencySummary,
  probes: { name: string; summary: LatencySummary }[],
): Breach[] {
  const breaches: Breach[] = [];
  const add = (b: Breach | null) => b && breaches.push(b);
  if (tools.p95Ms !== null && tools.count >= MIN_TOOL_CALLS)
    add(tracker.observeLevel('responseTime', tools.p95Ms, th.responseTime, 'ms', 'tool calls'));
  if (tools.errorRate !== null && tools.count >= MIN_TOOL_CALLS)
    add(tracker.observeLevel('errorRate', tools.errorRate, th.errorRate, 'fraction', 'tool calls'));
  for (const p of probes) {
    if (p.summary.p95Ms !== null)
      add(tracker.observeLevel(`responseTime:${p.name}`, p.summary.p95Ms, th.responseTime, 'ms', `probe ${p.name}`));
    if (p.summary.errorRate !== null)
      add(
        tracker.observeLevel(`errorRate:${p.name}`, p.summary.errorRate, th.errorRate, 'fraction', `probe ${p.name}`),
      );
  }
  return breaches;
}
