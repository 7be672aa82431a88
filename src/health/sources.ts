/**
 * What the health check reads from the other engines, as narrow interfaces, so that health does
 * not depend on recovery or progress (they plug in when present).
 */

export interface LeakSuspect {
  pid: number;
  comm: string;
  rss_bytes: number;
  /** Growth rate, bytes per minute (robust slope over the window). */
  slope_bytes_per_min: number;
  r2: number;
  /** Seconds until the cgroup limit or host memory is reached at this rate; null if never. */
  seconds_to_exhaustion: number | null;
}

export interface HangSuspect {
  pid: number;
  comm: string;
  state: string;
  reason: string;
  /** Seconds since CPU time, context switches or io last moved. */
  no_progress_sec: number;
}

export interface SuspectSource {
  leakSuspects(): LeakSuspect[];
  hangSuspects(): HangSuspect[];
}

/** A completed recovery and the health state it started from. */
export interface RecoveryRecord {
  id: string;
  operation_type: string;
  status: string;
  started_at: string;
  finished_at: string;
  target?: { pid?: number; gpu?: number } | undefined;
  /** What was wrong before the recovery. */
  before: {
    status: string;
    breached: string[];
    memory_used_fraction: number | null;
    gpu_statuses: Record<string, string>;
  };
}

export interface RecoveryJournal {
  /** Records this process has written: a quick check's reused journal reading is kept only while it stands. */
  readonly writes?: number;
  lastRecovery(): RecoveryRecord | null;
  /** Counts for the recovery_status metric. */
  recentCounts(windowMs: number): { recovered: number; failed: number; escalated: number };
}

export interface StalledTask {
  task_id: string;
  current_stage: string | null;
  last_checkpoint_at: string;
  stalled_for_sec: number;
}

export interface StalledTaskSource {
  stalledTasks(nowMs: number): StalledTask[];
}

/** What the node's event history says now (src/events/event-health.ts). */
export interface NodeEventAssessment {
  critical: string[];
  /** The subject of each `critical` entry (a GPU, a switch, a device), index for index. */
  critical_subjects: string[];
  degraded: string[];
  recent: unknown[];
  xids: { gpuIndex?: number; pciBusId?: string; xid: number; timeMs: number; source: string }[];
  gpu_inventory?: unknown;
  kernel_log: unknown;
}

export interface NodeEventSource {
  /** Xids any process stored (kernel log or NVML) within the Xid window. */
  recentXids(nowMs: number): { gpuIndex?: number; pciBusId?: string; xid: number; timeMs: number }[];
  /** `gpus.seen`: the GPUs NVML sees now (null without NVML), for the expected GPU count. */
  assess(
    nowMs: number,
    gpus: { seen: { count: number; busIds: string[] | null } | null; otherwiseHealthy: boolean } | null,
    limit?: number,
  ): NodeEventAssessment;
  /** A successful GPU reset: that GPU's earlier Xids no longer describe it, in any process. */
  recordGpuReset?(gpuIndex: number, busId: string | null, timeMs: number): void;
}
