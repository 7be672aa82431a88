/**
 * Feeds a batch of the background Sampler's readings into the thresholds, each at its own time
 * (CLOCK_MONOTONIC sample times mapped onto the clock), so sustain windows see real history.
 */
import type { Thresholds } from '../config/schema.js';
import type { SampleBatch } from '../sampler/sampler.js';
import type { ThresholdTracker } from './thresholds.js';

export function feedReadings(
  b: SampleBatch,
  tracker: ThresholdTracker,
  th: Required<Thresholds>,
  t: {
    now: number;
    monoNow: number;
    /** The sampler reads this process's cgroup: it speaks for the agent only when no other cgroup is watched. */
    ownCgroupSpeaks: boolean;
  },
): void {
  const col = (n: string) => (b.channels.includes(n) ? b.column(n) : null);
  const used = col('mem_used_bytes');
  const avail = col('mem_available_bytes');
  const ws = col('cg_mem_working_set_bytes');
  const lim = col('cg_mem_limit_bytes');
  const busy = col('cpu_busy');
  const psi = col('psi_memory_some_avg10');
  const psiCpu = col('psi_cpu_some_avg10');
  for (let i = 0; i < b.count; i++) {
    const at = t.now - Math.max(0, t.monoNow - b.timestamps[i]!);
    if (used && avail) {
      let frac = used[i]! / (used[i]! + avail[i]!);
      // The sampler reads this process's cgroup: it speaks for the agent only when no other cgroup is watched.
      if (ws && lim && t.ownCgroupSpeaks && Number.isFinite(lim[i]!) && Number.isFinite(ws[i]!))
        frac = Math.max(frac, ws[i]! / lim[i]!);
      if (Number.isFinite(frac)) tracker.observe('memory', frac, th.memory, 'fraction', undefined, at);
    }
    if (busy && Number.isFinite(busy[i]!)) tracker.observe('cpu', busy[i]!, th.cpu, 'fraction', undefined, at);
    if (psi && Number.isFinite(psi[i]!))
      tracker.observe('memoryPressure', psi[i]!, th.memoryPressure, 'percent', undefined, at);
    if (psiCpu && Number.isFinite(psiCpu[i]!))
      tracker.observe('cpuPressure', psiCpu[i]!, th.cpuPressure, 'percent', undefined, at);
  }
}
