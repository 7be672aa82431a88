/**
 * The health report's GPU part, as types the other engines read directly (recovery, the monitor,
 * metrics, the CLI): either the GPUs were read, with one summary per device, or they could not be,
 * with the reason. Nobody needs to cast the report to find a device's status.
 */
import type { GpuSampleOutcome } from '../gpu/gpu-sampler.js';
import type { GpuStatus, GpuVerdict, XidRecord } from '../gpu/verdict.js';
import { classifyXid, type XidAction, type XidCause, type XidSeverity } from '../gpu/xid.js';
import { round } from '../util/stats.js';
import { gpuDeviceSummary } from './metrics.js';

export const NO_DRIVER = 'no NVIDIA driver on this node (libnvidia-ml.so.1 not found)';

/** One GPU in the report: its verdict and the readings behind it. */
export interface GpuDeviceSummary {
  index: number;
  uuid: string | null;
  name: string | null;
  status: GpuStatus;
  reasons: string[];
  notes?: string[];
  memory_used_fraction: number | null;
  memory_used_bytes: number | null;
  memory_total_bytes: number | null;
  utilization_gpu: number | null;
  temperature_c: number | null;
  power_w: number | null;
  throttle_reasons?: string[];
  /** Processes holding the GPU (full checks). */
  processes?: number;
}

/** An Xid seen within gpu.xidWindowSec, classified (full checks). */
export interface RecentXid {
  gpuIndex: number;
  xid: number;
  timeMs: number;
  cause: XidCause;
  severity: XidSeverity;
  action: XidAction;
  description: string;
}

export type GpuHealth =
  | {
      available: true;
      driver_version: string;
      device_count: number;
      devices: GpuDeviceSummary[];
      xid_window_s?: number;
      recent_xids?: RecentXid[];
      sample_ms: number;
    }
  | {
      available: false;
      reason: string;
      code?: string;
      timed_out?: true;
      /** Full checks without NVML here: the Xids other processes stored (kernel log, another process's NVML events). */
      recent_xids?: { gpuIndex?: number; pciBusId?: string; xid: number; timeMs: number; source: string }[];
    };

/** The devices of a report's GPU part (none when the GPUs could not be read). */
export function gpuDevices(h: GpuHealth): GpuDeviceSummary[] {
  return h.available ? h.devices : [];
}

/** Each GPU's status by index, as the recovery journal keeps it ("0": "healthy"). */
export function gpuStatusesByIndex(h: GpuHealth): Record<string, GpuStatus> {
  return Object.fromEntries(gpuDevices(h).map((d) => [String(d.index), d.status]));
}

/** The report's GPU part from one sample and its verdicts; `recent` (full checks) lists the Xids in the window. */
export function gpuHealthOf(
  outcome: GpuSampleOutcome,
  verdicts: GpuVerdict[],
  recent?: { windowS: number; xids: XidRecord[] },
): GpuHealth {
  if (!outcome.available)
    return {
      available: false,
      reason: outcome.reason,
      code: outcome.code,
      ...(outcome.timedOut ? { timed_out: true as const } : {}),
    };
  const byIndex = new Map(verdicts.map((v) => [v.index, v]));
  return {
    available: true,
    driver_version: outcome.driverVersion,
    device_count: outcome.deviceCount,
    devices: outcome.devices.map((d) => gpuDeviceSummary(d, byIndex.get(d.index))),
    ...(recent
      ? {
          xid_window_s: recent.windowS,
          recent_xids: recent.xids.map((x) => {
            const c = classifyXid(x.xid);
            return { ...x, cause: c.cause, severity: c.severity, action: c.action, description: c.description };
          }),
        }
      : {}),
    sample_ms: round(outcome.elapsedMs, 3),
  };
}
