/**
 * The healthCheck report's output schema, field by field (src/health/report.ts is the TypeScript
 * side). Objects stay open (looseObject) so a field added to the report is not a protocol error, and
 * a reading is "a number or null": a non-finite reading (NaN, Infinity) is JSON null on the wire,
 * so it validates as null here rather than failing the whole call.
 */
import { z } from 'zod';

/** A measured value: null when not available; NaN/Infinity count as null (JSON.stringify writes them so). */
export const reading = z.preprocess(
  (v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
  z.number().nullable(),
);

const gpuDevice = z.looseObject({
  index: z.number().int(),
  uuid: z.string().nullable(),
  name: z.string().nullable(),
  status: z.enum(['healthy', 'degraded', 'failed']),
  reasons: z.array(z.string()),
  notes: z.array(z.string()).optional(),
  memory_used_fraction: reading,
  memory_used_bytes: reading,
  memory_total_bytes: reading,
  utilization_gpu: reading,
  temperature_c: reading,
  power_w: reading,
  throttle_reasons: z.array(z.string()).optional(),
  processes: z.number().int().optional(),
});

/** Either the GPUs were read (with one verdict per device) or they could not be (with the reason). */
export const gpuHealthSchema = z.discriminatedUnion('available', [
  z.looseObject({
    available: z.literal(true),
    driver_version: z.string(),
    device_count: z.number().int(),
    devices: z.array(gpuDevice),
    xid_window_s: z.number().optional(),
    recent_xids: z
      .array(
        z.looseObject({
          gpuIndex: z.number().int(),
          xid: z.number().int(),
          timeMs: z.number(),
          cause: z.string(),
          severity: z.string(),
          action: z.string(),
          description: z.string(),
        }),
      )
      .optional(),
    sample_ms: reading,
  }),
  z.looseObject({
    available: z.literal(false),
    reason: z.string(),
    code: z.string().optional(),
    timed_out: z.literal(true).optional(),
  }),
]);

export const memoryStatusSchema = z.looseObject({
  host: z
    .looseObject({ total_bytes: reading, available_bytes: reading, used_bytes: reading, used_fraction: reading })
    .nullable(),
  cgroup: z
    .looseObject({
      usage_bytes: reading,
      working_set_bytes: reading,
      limit_bytes: reading,
      used_fraction: reading,
      oom_kills: reading,
      source: z.string(),
    })
    .nullable(),
  effective: z
    .looseObject({ used_fraction: reading, available_bytes: reading, source: z.enum(['host', 'cgroup']) })
    .nullable(),
  swap: z.looseObject({ total_bytes: reading, used_bytes: reading }).nullable(),
  pressure_some_avg10: reading,
  pressure_full_avg10: reading,
  unavailable: z.record(z.string(), z.string()).optional(),
});

export const cpuSchema = z.looseObject({
  cpus: z.number().int(),
  busy_fraction: reading,
  iowait_fraction: reading,
  steal_fraction: reading,
  interval_s: reading,
  load1: reading,
  load5: reading,
  load15: reading,
  load1_per_cpu: reading,
  procs_running: reading,
  procs_blocked: reading,
  busy_last_60s: z.looseObject({ mean: reading, p95: reading, max: reading, samples: z.number().int() }).optional(),
});

const psiLine = z.looseObject({ some_avg10: reading, some_avg60: reading, full_avg10: reading }).nullable();
export const pressureSchema = z.looseObject({
  available: z.boolean(),
  cpu: psiLine,
  memory: psiLine,
  io: psiLine,
  reason: z.string().optional(),
});

export const cgroupSchema = z.discriminatedUnion('available', [
  z.looseObject({
    available: z.literal(true),
    layout: z.string(),
    path: z.string().nullable().optional(),
    memory_limit_bytes: reading,
    memory_usage_bytes: reading,
    cpu_limit_cores: reading,
    cpu_throttled_periods: reading,
    oom_kills: reading,
  }),
  z.looseObject({ available: z.literal(false), reason: z.string() }),
]);

export const diskSchema = z.array(
  z.looseObject({
    path: z.string(),
    error: z.string().optional(),
    used_fraction: reading.optional(),
    available_bytes: reading.optional(),
    total_bytes: reading.optional(),
    inodes_used_fraction: reading.optional(),
    read_only: z.boolean().optional(),
  }),
);

const latency = { count: z.number().int(), p50_ms: reading, p95_ms: reading, p99_ms: reading };
export const responseTimesSchema = z.looseObject({
  window_s: z.number(),
  tool_calls: z.looseObject(latency),
  probes: z.array(z.looseObject({ name: z.string(), target: z.string(), ...latency })),
});

export const errorRatesSchema = z.looseObject({
  window_s: z.number(),
  tool_calls: z.looseObject({ count: z.number().int(), errors: z.number().int(), rate: reading }),
  probes: z.array(
    z.looseObject({
      name: z.string(),
      count: z.number().int(),
      errors: z.number().int(),
      rate: reading,
      last_error: z.string().optional(),
    }),
  ),
  oom_kills_since_last_check: z.number().int().optional(),
});

export const recoveryStatusSchema = z.looseObject({
  last: z
    .looseObject({ id: z.string(), operation_type: z.string(), status: z.string(), finished_at: z.string() })
    .nullable(),
  last_hour: z
    .looseObject({ recovered: z.number().int(), failed: z.number().int(), escalated: z.number().int() })
    .optional(),
  note: z.string().optional(),
});

const slimProcess = z.looseObject({
  pid: z.number().int(),
  comm: z.string(),
  state: z.string(),
  rss_bytes: reading,
  cpu_fraction: reading,
});
export const processesSchema = z.looseObject({
  by_memory: z.array(slimProcess),
  by_cpu: z.array(slimProcess),
  total: z.number().int(),
});

export const suspectsSchema = z.looseObject({
  memory_leaks: z.array(
    z.looseObject({
      pid: z.number().int(),
      comm: z.string(),
      rss_bytes: reading,
      slope_bytes_per_min: reading,
      r2: reading,
      seconds_to_exhaustion: reading,
    }),
  ),
  hangs: z.array(
    z.looseObject({
      pid: z.number().int(),
      comm: z.string(),
      state: z.string(),
      reason: z.string(),
      no_progress_sec: reading,
    }),
  ),
  stalled_tasks: z.array(
    z.looseObject({
      task_id: z.string(),
      current_stage: z.string().nullable(),
      last_checkpoint_at: z.string(),
      stalled_for_sec: reading,
    }),
  ),
});

export const recoveryCheckSchema = z.looseObject({
  last_recovery: z
    .looseObject({
      id: z.string(),
      operation_type: z.string(),
      status: z.string(),
      finished_at: z.string(),
      target: z.looseObject({ pid: z.number().optional(), gpu: z.number().optional() }).nullable(),
    })
    .nullable(),
  problem_resolved: z.boolean().nullable(),
  explanation: z.string(),
  status_before: z.string().optional(),
  status_now: z.enum(['healthy', 'degraded', 'critical']).optional(),
  memory_used_fraction: z.looseObject({ before: reading, now: reading }).optional(),
  still_breached: z.array(z.string()).optional(),
  gpus_still_unhealthy: z.array(z.number().int()).optional(),
  target_still_suspect: z.boolean().optional(),
});

export const criticalFaultsSchema = z.array(z.looseObject({ subject: z.string(), summary: z.string() }));
