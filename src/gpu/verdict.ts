/**
 * Per-GPU verdicts (healthy / degraded / failed) with reasons, after DCGM's health watches:
 * temperature against the slowdown threshold, hardware slowdown and power-brake throttling,
 * uncorrectable ECC, retired-page and row-remap limits, PCIe replay rate, recent Xids, and the
 * driver's own recommended recovery action.
 */
import type { GpuDeviceSample } from '../native.js';
import { classifyXid, type RecoveryStep } from './xid.js';

export type GpuStatus = 'healthy' | 'degraded' | 'failed';

export interface GpuVerdict {
  index: number;
  uuid: string | null;
  status: GpuStatus;
  reasons: string[];
  /** The recommended ladder for the worst finding. */
  actions: RecoveryStep[];
  /** Findings that leave the GPU healthy (an application's Xid: restart the application, not the GPU). */
  notes?: string[];
}

export interface GpuLimits {
  /** Retired pages (SBE + DBE) at which DCGM fails a GPU. */
  retiredPagesMax: number;
  /** PCIe replays per minute that mark a link as degraded. */
  pcieReplaysPerMinute: number;
  /** How long an Xid counts as recent. */
  xidWindowMs: number;
}

export const DEFAULT_GPU_LIMITS: GpuLimits = {
  retiredPagesMax: 60,
  pcieReplaysPerMinute: 8,
  xidWindowMs: 60 * 60 * 1000,
};

export interface XidRecord {
  gpuIndex: number;
  xid: number;
  timeMs: number;
}

export interface VerdictContext {
  nowMs: number;
  recentXids?: XidRecord[];
  /** The same GPU's PCIe replay counter at an earlier time, for the rate. */
  previousReplay?: { counter: number; timeMs: number };
  limits?: Partial<GpuLimits>;
}

const HW_SLOWDOWN = ['hw_slowdown', 'hw_thermal_slowdown', 'hw_power_brake_slowdown'];

export function gpuVerdict(d: GpuDeviceSample, ctx: VerdictContext): GpuVerdict {
  const limits = { ...DEFAULT_GPU_LIMITS, ...ctx.limits };
  const failed: string[] = [];
  const degraded: string[] = [];
  let actions: RecoveryStep[] = [];
  const escalate = (ladder: RecoveryStep[]) => {
    if (ladder.length > actions.length || rank(ladder) > rank(actions)) actions = ladder;
  };

  if (d.lost || d.errors.handle?.code === 'NVML_ERROR_GPU_IS_LOST') {
    failed.push('the driver reports the GPU as lost (NVML_ERROR_GPU_IS_LOST)');
    escalate(['drain_node', 'reboot_node']);
  } else if (d.errors.handle) {
    failed.push(`cannot open the GPU: ${d.errors.handle.code}`);
    escalate(['reset_gpu', 'drain_node']);
  }
  const t = d.temperatureC;
  if (t != null) {
    if (d.shutdownTemperatureC != null && t >= d.shutdownTemperatureC) {
      failed.push(`temperature ${t} °C at or above the shutdown threshold ${d.shutdownTemperatureC} °C`);
      escalate(['drain_node']);
    } else if (d.slowdownTemperatureC != null && t >= d.slowdownTemperatureC) {
      degraded.push(`temperature ${t} °C at or above the slowdown threshold ${d.slowdownTemperatureC} °C`);
    }
  }
  const throttled =
    d.clocksEventReasons?.names.filter((n) => HW_SLOWDOWN.includes(n) || n === 'sw_thermal_slowdown') ?? [];
  if (throttled.length) degraded.push(`clocks throttled: ${throttled.join(', ')}`);
  if ((d.eccUncorrectedVolatile ?? 0) > 0) {
    failed.push(`${d.eccUncorrectedVolatile} uncorrectable ECC errors since the last reset`);
    escalate(['restart_application', 'reset_gpu', 'drain_node']);
  }
  const retired = (d.retiredPagesSingleBit ?? 0) + (d.retiredPagesDoubleBit ?? 0);
  if (retired >= limits.retiredPagesMax) {
    failed.push(`${retired} retired pages, at or above the limit of ${limits.retiredPagesMax}`);
    escalate(['drain_node']);
  }
  if (d.retiredPagesPending) {
    degraded.push('page retirement pending: a GPU reset applies it');
    escalate(['reset_gpu']);
  }
  const rr = d.remappedRows;
  if (rr?.failure) {
    failed.push('row remapping failed: the GPU has run out of spare rows');
    escalate(['drain_node']);
  } else if (rr?.pending) {
    degraded.push('row remapping pending: a GPU reset applies it');
    escalate(['reset_gpu']);
  }
  if (d.pcieReplayCounter != null && ctx.previousReplay && ctx.nowMs > ctx.previousReplay.timeMs) {
    const perMin =
      ((d.pcieReplayCounter - ctx.previousReplay.counter) * 60_000) / (ctx.nowMs - ctx.previousReplay.timeMs);
    if (perMin > limits.pcieReplaysPerMinute)
      degraded.push(`PCIe replay rate ${perMin.toFixed(1)}/min above ${limits.pcieReplaysPerMinute}/min`);
  }
  const notes: string[] = [];
  for (const x of ctx.recentXids ?? []) {
    if (x.gpuIndex !== d.index || ctx.nowMs - x.timeMs > limits.xidWindowMs) continue;
    const c = classifyXid(x.xid);
    const line = `Xid ${x.xid} ${Math.round((ctx.nowMs - x.timeMs) / 1000)} s ago: ${c.description}`;
    if (c.severity === 'fatal') failed.push(line);
    else if (c.severity === 'degraded') degraded.push(line);
    // An application's fault (or one NVIDIA says to ignore) says nothing against the GPU: no status, no reset.
    else
      notes.push(
        `${line} (${c.cause} error; ` +
          `${c.severity === 'application' ? 'restart the application' : 'no action needed'}, the GPU is fine)`,
      );
    if (c.severity === 'fatal' || c.severity === 'degraded') escalate(c.ladder);
  }
  const ra = d.recoveryAction;
  if (ra && ra !== 'none') {
    const ladder: RecoveryStep[] =
      ra === 'gpu_reset' ? ['reset_gpu'] : ra === 'node_reboot' ? ['reboot_node'] : ['drain_node', 'reset_gpu'];
    failed.push(`the driver recommends recovery action "${ra}"`);
    escalate(ladder);
  }
  const status: GpuStatus = failed.length ? 'failed' : degraded.length ? 'degraded' : 'healthy';
  return {
    index: d.index,
    uuid: d.uuid ?? null,
    status,
    reasons: [...failed, ...degraded],
    actions: status === 'healthy' ? [] : actions,
    ...(notes.length ? { notes } : {}),
  };
}

const SEVERITY: Record<RecoveryStep, number> = {
  none: 0,
  restart_application: 1,
  reset_gpu: 2,
  drain_node: 3,
  reboot_node: 4,
};
function rank(ladder: RecoveryStep[]): number {
  return Math.max(0, ...ladder.map((s) => SEVERITY[s]));
}

/**
 * Keeps what verdicts need across samples: each GPU's previous PCIe replay counter and the recent
 * Xids (fed from the event subscription). Takes the time as a parameter, so tests can drive it.
 */
export class GpuHealthTracker {
  private readonly replay = new Map<number, { counter: number; timeMs: number }>();
  private xids: XidRecord[] = [];

  constructor(private readonly limits: Partial<GpuLimits> = {}) {}

  recordXid(x: XidRecord): void {
    this.xids.push(x);
    if (this.xids.length > 1000) this.xids.splice(0, this.xids.length - 1000);
  }

  /** After a successful reset, the GPU's earlier Xids no longer describe it. */
  clearXids(gpuIndex: number): void {
    this.xids = this.xids.filter((x) => x.gpuIndex !== gpuIndex);
  }

  recentXids(nowMs: number): XidRecord[] {
    const window = this.limits.xidWindowMs ?? DEFAULT_GPU_LIMITS.xidWindowMs;
    this.xids = this.xids.filter((x) => nowMs - x.timeMs <= window);
    return [...this.xids];
  }

  /**
   * Each GPU's last Xid within the window (dcgm-exporter's DCGM_FI_DEV_XID_ERRORS: the value of the
   * last Xid), so a GPU whose last Xid is older than the window reads 0 again.
   */
  lastXids(nowMs: number): Map<number, number> {
    const out = new Map<number, number>();
    const newest = new Map<number, number>();
    for (const x of this.recentXids(nowMs)) {
      if (x.timeMs >= (newest.get(x.gpuIndex) ?? -Infinity)) {
        newest.set(x.gpuIndex, x.timeMs);
        out.set(x.gpuIndex, x.xid);
      }
    }
    return out;
  }

  verdicts(devices: GpuDeviceSample[], nowMs: number): GpuVerdict[] {
    const recent = this.recentXids(nowMs);
    return devices.map((d) => {
      const v = gpuVerdict(d, {
        nowMs,
        recentXids: recent,
        previousReplay: this.replay.get(d.index),
        limits: this.limits,
      });
      if (d.pcieReplayCounter != null) {
        const prev = this.replay.get(d.index);
        // Keep the older baseline for at least a minute so the rate is measured over a real interval.
        if (!prev || nowMs - prev.timeMs >= 60_000)
          this.replay.set(d.index, { counter: d.pcieReplayCounter, timeMs: nowMs });
      }
      return v;
    });
  }
}
