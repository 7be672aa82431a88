/**
 * The GPUs' side of a check: samples them (when the NVIDIA library is here) and judges them with
 * the Xid ledger, and keeps the last outcome for engines that need GPU state without sampling again.
 */
import type { OvernightConfig, Thresholds } from '../config/schema.js';
import type { GpuVerdict } from '../gpu/verdict.js';
import { gpuSampler, nvmlInfo, type GpuSampleOptions, type GpuSampleOutcome } from '../gpu/gpu-sampler.js';
import type { NodeChecker } from '../node-checks/node-checker.js';
import type { Clock } from '../util/clock.js';
import { gpuHealthOf, NO_DRIVER, type GpuHealth } from './gpu-health.js';
import type { Breach } from './thresholds.js';
import type { XidLedger } from './xid-ledger.js';

export interface GpuSource {
  sample(options?: GpuSampleOptions): Promise<GpuSampleOutcome>;
}

export interface GpuObservation {
  health: GpuHealth;
  verdicts: GpuVerdict[];
  /** null on a node without the NVIDIA library. */
  outcome: GpuSampleOutcome | null;
}

export class GpuObserver {
  private last: { at: number; outcome: GpuSampleOutcome } | null = null;

  constructor(
    private readonly config: OvernightConfig,
    private readonly clock: Clock,
    private readonly xids: XidLedger,
    /** null: this node has no GPUs to look at; undefined: decided on first use (without loading NVML before). */
    private source: GpuSource | null | undefined,
  ) {}

  /** The GPU source, or null when there is no library (then no GPU work at all, and no GPU thread). */
  gpuSource(): GpuSource | null {
    if (this.source === undefined) this.source = nvmlInfo().loaded ? gpuSampler() : null;
    return this.source;
  }

  /** The last GPU outcome (for engines that need GPU state without sampling again). */
  lastSample(): { at: number; outcome: GpuSampleOutcome } | null {
    return this.last;
  }

  /** The bus id of a GPU in the last outcome, when it names one. */
  busIdOf(gpuIndex: number): string | null {
    const dev = this.last?.outcome.available ? this.last.outcome.devices.find((d) => d.index === gpuIndex) : undefined;
    return dev?.busId ?? null;
  }

  /** What the event history is told of the GPUs seen now (null unless NVML answered). */
  seen(): { count: number; busIds: string[] | null } | null {
    const last = this.last?.outcome;
    return this.gpuSource() && last?.available
      ? {
          count: last.devices.length,
          busIds: last.devices.every((d) => d.busId) ? last.devices.map((d) => d.busId!) : null,
        }
      : null;
  }

  /**
   * Samples the GPUs and judges them. `full`: every GPU gets a verdict and the recent Xids are
   * listed; quick: only a lost or hot GPU is judged.
   */
  async observe(full: boolean): Promise<GpuObservation> {
    const source = this.gpuSource();
    if (!source) return { health: { available: false, reason: NO_DRIVER }, verdicts: [], outcome: null };
    const outcome = await source.sample({ quick: !full, processes: full, timeoutMs: this.config.gpuTimeoutMs });
    this.last = { at: this.clock.now(), outcome };
    if (!outcome.available) return { health: gpuHealthOf(outcome, []), verdicts: [], outcome };
    const now = this.clock.now();
    // Xids other processes stored (a monitor's NVML events, the kernel log) count here too.
    this.xids.feedStored(now, outcome.devices);
    const verdicts = full ? this.xids.verdicts(outcome.devices, now) : [];
    if (!full)
      for (const d of outcome.devices)
        if (
          d.lost ||
          (d.temperatureC != null && d.slowdownTemperatureC != null && d.temperatureC >= d.slowdownTemperatureC)
        )
          verdicts.push(...this.xids.verdicts([d], now));
    const recent = full ? { windowS: this.config.gpu.xidWindowSec, xids: this.xids.recent(now) } : undefined;
    return { health: gpuHealthOf(outcome, verdicts, recent), verdicts, outcome };
  }

  /**
   * The node checks' view of the GPUs after a check whose sample was `outcome` (null: no library):
   * the last outcome, or why there is none.
   */
  forNodeChecks(outcome: GpuSampleOutcome | null): Parameters<NodeChecker['run']>[1] {
    if (!outcome) return { available: false, reason: NO_DRIVER };
    const g = this.last?.outcome;
    return g?.available ? g : g ? { available: false, reason: g.reason } : undefined;
  }
}

/** Each GPU's memory use, judged as a reading the check took itself (`judge`, see HostObserver). */
export function gpuMemoryBreaches(
  outcome: GpuSampleOutcome | null,
  th: Required<Thresholds>,
  judge: (metric: string, value: number, limit: number, unit: Breach['unit'], detail?: string) => Breach | null,
): Breach[] {
  if (!outcome?.available) return [];
  const breaches: Breach[] = [];
  for (const d of outcome.devices) {
    if (!d.memory) continue;
    const b = judge(
      `gpu.${d.index}.memory`,
      d.memory.used / d.memory.total,
      th.gpu,
      'fraction',
      `GPU ${d.index} memory`,
    );
    if (b) breaches.push(b);
  }
  return breaches;
}
