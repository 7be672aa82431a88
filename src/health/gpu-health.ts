/**
 * The health report's GPU part, as types the other engines read directly (recovery, the monitor,
 * metrics, the CLI): either the GPUs were read, with one summary per device, or they could not be,
 * with the reason. Nobody needs to cast the report to find a device's status.
 */
import type { GpuStatus } from '../gpu/verdict.js';
import type { XidAction, XidCause, XidSeverity } from '../gpu/xid.js';

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
    };

/** The devices of a report's GPU part (none when the GPUs could not be read). */
export function gpuDevices(h: GpuHealth): GpuDeviceSummary[] {
  return h.available ? h.devices : [];
}

/** Each GPU's status by index, as the recovery journal keeps it ("0": "healthy"). */
export function gpuStatusesByIndex(h: GpuHealth): Record<string, GpuStatus> {
  return Object.fromEntries(gpuDevices(h).map((d) => [String(d.index), d.status]));
}
