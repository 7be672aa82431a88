/**
 * The Xids the GPU verdicts count: those this process's own NVML subscription recorded, and those
 * other processes stored in the event history (a monitor's NVML events, the kernel log), each
 * counted once and forgotten for a GPU once it has been reset.
 */
import { GpuHealthTracker, type GpuVerdict, type XidRecord } from '../gpu/verdict.js';
import type { GpuDeviceSample } from '../native.js';
import { normalizeBusId } from '../events/kmsg-matcher.js';
import type { Clock } from '../util/clock.js';
import type { NodeEventSource } from './sources.js';

/** A stored Xid; the kernel log names the GPU by bus id only. */
export type StoredXid = { gpuIndex?: number; pciBusId?: string; xid: number; timeMs: number };

export class XidLedger {
  private readonly tracker: GpuHealthTracker;
  private readonly clearedAt = new Map<number, number>();
  private readonly fed = new Set<string>();

  constructor(
    xidWindowMs: number,
    private readonly clock: Clock,
    private readonly events: NodeEventSource | undefined,
  ) {
    this.tracker = new GpuHealthTracker({ xidWindowMs });
  }

  /** Xids any process stored (kernel log, another process's NVML events) within the Xid window. */
  stored(nowMs = this.clock.now()): StoredXid[] {
    return this.events?.recentXids(nowMs) ?? [];
  }

  /**
   * Feeds the Xids other processes stored into the GPU verdicts, once each; those from before a
   * reset of their GPU no longer describe it.
   */
  feedStored(nowMs: number, devices: { index: number; busId?: string | null }[]): void {
    const stored = this.stored(nowMs);
    if (!stored.length) return;
    const have = this.tracker.recentXids(nowMs);
    // A kernel line names the GPU by bus id; the index is the one NVML gives that bus now.
    const byBus = new Map(devices.filter((d) => d.busId).map((d) => [normalizeBusId(d.busId!), d.index]));
    for (const s of stored) {
      const x =
        s.gpuIndex === undefined && s.pciBusId && byBus.has(s.pciBusId)
          ? { ...s, gpuIndex: byBus.get(s.pciBusId)! }
          : s;
      if (x.gpuIndex === undefined || x.timeMs <= (this.clearedAt.get(x.gpuIndex) ?? -Infinity)) continue;
      const key = `${x.gpuIndex}:${x.xid}:${Math.round(x.timeMs)}`;
      if (this.fed.has(key)) continue;
      this.fed.add(key);
      // The same event recorded by this process's own subscription is not counted twice.
      if (have.some((h) => h.gpuIndex === x.gpuIndex && h.xid === x.xid && Math.abs(h.timeMs - x.timeMs) < 5000))
        continue;
      this.tracker.recordXid({ gpuIndex: x.gpuIndex, xid: x.xid, timeMs: x.timeMs });
    }
    if (this.fed.size > 5000) this.fed.clear();
  }

  /** Feeds an Xid (from an event subscription) into the GPU verdicts. */
  record(gpuIndex: number, xid: number, timeMs: number): void {
    this.tracker.recordXid({ gpuIndex, xid, timeMs });
  }

  /** Forgets a GPU's Xids once it has been reset, and tells the event history (`busId` when known). */
  clear(gpuIndex: number, busId: string | null): void {
    this.tracker.clearXids(gpuIndex);
    this.clearedAt.set(gpuIndex, this.clock.now());
    this.events?.recordGpuReset?.(gpuIndex, busId, this.clock.now());
  }

  /** Each GPU's last Xid within the window (for DCGM_FI_DEV_XID_ERRORS). */
  last(nowMs = this.clock.now()): Map<number, number> {
    return this.tracker.lastXids(nowMs);
  }

  /** The Xids within the window, as the tracker keeps them. */
  recent(nowMs: number): XidRecord[] {
    return this.tracker.recentXids(nowMs);
  }

  /** Verdicts of `devices` (Xids, retired pages, PCIe replays, ...). */
  verdicts(devices: GpuDeviceSample[], nowMs: number): GpuVerdict[] {
    return this.tracker.verdicts(devices, nowMs);
  }
}
