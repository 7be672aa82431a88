/**
 * Feeds the metric history from what a background process already samples: the health monitor's
 * native Sampler (memory, CPU, PSI; the mean over the last interval) and its latest GPU sample.
 * Runs on an unref'd timer in serve and monitor; costs one ring read and one INSERT per interval.
 */
import type { GpuSampleOutcome } from '../gpu/gpu-sampler.js';
import type { MetricHistory, MetricValues } from './metric-history.js';

interface ChannelStats {
  mean: number | null;
}

export interface HistorySources {
  recentWindow(windowMs: number): { count: number; signals: Record<string, ChannelStats> } | null;
  lastGpuSample(): { at: number; outcome: GpuSampleOutcome } | null;
}

/** A quick GPU sample of its own when the process has NVML (the checks may be minutes apart). */
export type GpuQuickSample = () => Promise<GpuSampleOutcome>;

/** The sampler channels kept, under the names the report plots. */
const CHANNELS: Record<string, string> = {
  mem_used_bytes: 'mem_used_bytes',
  mem_available_bytes: 'mem_available_bytes',
  cpu_busy: 'cpu_busy',
  psi_cpu_some_avg10: 'psi_cpu_some',
  psi_memory_some_avg10: 'psi_memory_some',
  psi_memory_full_avg10: 'psi_memory_full',
  psi_io_some_avg10: 'psi_io_some',
};

/** One row of the history from the sources, or null when nothing was sampled in the interval. */
export function historyRow(
  src: HistorySources,
  windowMs: number,
  nowMs: number,
  ownGpu?: { at: number; outcome: GpuSampleOutcome } | null,
): MetricValues | null {
  const w = src.recentWindow(windowMs);
  const row: MetricValues = {};
  if (w && w.count > 0)
    for (const [ch, name] of Object.entries(CHANNELS)) if (w.signals[ch]) row[name] = w.signals[ch].mean;
  const last = src.lastGpuSample();
  const gpu = ownGpu && (!last || ownGpu.at >= last.at) ? ownGpu : last;
  if (gpu && gpu.outcome.available && nowMs - gpu.at <= windowMs * 3) {
    for (const d of gpu.outcome.devices) {
      const p = `gpu${d.index}_`;
      row[`${p}util`] = d.utilization?.gpu ?? null;
      row[`${p}mem_used_bytes`] = d.memory?.used ?? null;
      row[`${p}temp_c`] = d.temperatureC ?? null;
      row[`${p}power_w`] = d.powerW ?? null;
    }
  }
  return Object.keys(row).length ? row : null;
}

export class HistoryRecorder {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly history: MetricHistory,
    private readonly src: HistorySources,
    private readonly bootId: string,
    private readonly now: () => number = Date.now,
    private readonly gpuSample?: GpuQuickSample,
    /** The sampler window a row averages: at least the interval, and two of the sampler's own. */
    private readonly windowMs = history.intervalMs,
  ) {}

  /** Records the current interval (if no process has yet). */
  async recordNow(): Promise<boolean> {
    let own: { at: number; outcome: GpuSampleOutcome } | null = null;
    if (this.gpuSample) {
      try {
        own = { outcome: await this.gpuSample(), at: this.now() };
      } catch {
        own = null;
      }
    }
    const t = this.now();
    const row = historyRow(this.src, this.windowMs, t, own);
    return row ? this.history.record(t, this.bootId, row) : false;
  }

  start(): void {
    if (this.timer) return;
    // A busy database or a slow GPU skips one row; it does not stop the process.
    this.timer = setInterval(() => void this.recordNow().catch(() => undefined), this.history.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
