/**
 * The health report's types: what checkSystemHealth returns and what the other engines, the metrics
 * and the surfaces read, field by field (no engine casts the report to find a value).
 */
import type { Thresholds } from '../config/schema.js';
import type { NodeChecksReport } from '../node-checks/node-checker.js';
import type { GpuHealth } from './gpu-health.js';
import type { MemoryStallReading } from './memory-stall.js';
import type { cgroupStatus, cpuStatus, diskStatus, MemoryStatus, pressureStatus, topProcesses } from './metrics.js';
import type { Recommendation } from './recommendations.js';
import type { HangSuspect, LeakSuspect, NodeEventAssessment, StalledTask } from './sources.js';
import type { Breach } from './thresholds.js';

export type CheckType = 'quick' | 'full' | 'recovery';
export type HealthStatus = 'healthy' | 'degraded' | 'critical';

export interface HealthReport {
  status: HealthStatus;
  check_type: CheckType;
  timestamp: string;
  duration_ms: number;
  /**
   * How old the host reading is (ms): 0 on full checks; a quick check while the background sampler
   * runs reuses one for up to one sampler tick (at most 1 s) instead of reading /proc on every call.
   */
  sample_age_ms: number;
  thresholds: Required<Thresholds>;
  metrics: {
    gpu_health: GpuHealth;
    memory_status: MemoryStatus;
    response_times: ResponseTimes;
    error_rates: ErrorRates;
    recovery_status: RecoveryStatusMetric;
    cpu: ReturnType<typeof cpuStatus>;
    /** memory_stall: the monitor's measured stall per subject (agent's cgroup, system), while it watches. */
    pressure: ReturnType<typeof pressureStatus> & { memory_stall?: MemoryStallReading[] };
    cgroup: ReturnType<typeof cgroupStatus>;
    disk: ReturnType<typeof diskStatus>;
    processes?: ReturnType<typeof topProcesses>;
    suspects?: HealthSuspects;
    /** `full` checks: InfiniBand, mounts, daemons, users, zombies, descriptors, operators' checks. */
    node_checks?: NodeChecksReport;
    /** The event history's verdict; `recent` (newest first, bounded) on full checks. */
    events?: {
      critical: string[];
      degraded: string[];
      recent?: NodeEventAssessment['recent'];
      gpu_inventory?: NodeEventAssessment['gpu_inventory'];
      kernel_log: NodeEventAssessment['kernel_log'];
    };
  };
  breached: Breach[];
  /** What makes the status critical, one entry per subject (a GPU, a filesystem, memory). */
  critical_faults: CriticalFault[];
  recommendations: Recommendation[];
  /** `recovery` checks: whether the problem the last recovery addressed is gone. */
  recovery_check?: RecoveryCheck;
}

/** `full` checks: what the watch and the progress tracker suspect. */
export interface HealthSuspects {
  memory_leaks: LeakSuspect[];
  hangs: HangSuspect[];
  stalled_tasks: StalledTask[];
}

/** A `recovery` check: is the problem the last recovery addressed gone? */
export type RecoveryCheck =
  | { last_recovery: null; problem_resolved: null; explanation: string }
  | {
      last_recovery: {
        id: string;
        operation_type: string;
        status: string;
        finished_at: string;
        target: { pid?: number; gpu?: number } | null;
      };
      status_before: string;
      status_now: HealthStatus;
      memory_used_fraction: { before: number | null; now: number | null };
      still_breached: string[];
      gpus_still_unhealthy: number[];
      target_still_suspect: boolean;
      problem_resolved: boolean;
      explanation: string;
    };

export interface CriticalFault {
  /** Stable per subject: `memory`, `oom_kill`, `memory_pressure`, `gpu:<uuid>`, `disk:<path>`. */
  subject: string;
  summary: string;
}

/** Latency of this server's tool calls and of each probe, over the response window. */
export interface ResponseTimes {
  window_s: number;
  tool_calls: { count: number; p50_ms: number | null; p95_ms: number | null; p99_ms: number | null };
  probes: {
    name: string;
    target: string;
    count: number;
    p50_ms: number | null;
    p95_ms: number | null;
    p99_ms: number | null;
  }[];
}

/** Failures of this server's tool calls and of each probe, over the response window. */
export interface ErrorRates {
  window_s: number;
  tool_calls: { count: number; errors: number; rate: number | null };
  probes: { name: string; count: number; errors: number; rate: number | null; last_error?: string }[];
  oom_kills_since_last_check?: number;
}

export type RecoveryStatusMetric =
  | {
      last: { id: string; operation_type: string; status: string; finished_at: string } | null;
      last_hour: { recovered: number; failed: number; escalated: number };
    }
  | { last: null; note: string };
