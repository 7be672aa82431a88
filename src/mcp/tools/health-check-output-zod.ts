/**
 * healthCheck's result schema, in zod: the one definition. tools/list shows its JSON Schema; the
 * check of every result runs a validator that scripts/build-validators.mjs compiles from that same
 * JSON Schema at build time (Ajv standalone code), because the SDK's per-call zod parse of a full
 * report cost more than the health check itself. This module imports only zod and the field
 * schemas, so the build script can load it before the compiled validator exists.
 */
import { z } from 'zod';
import {
  cgroupSchema,
  cpuSchema,
  criticalFaultsSchema,
  diskSchema,
  errorRatesSchema,
  gpuHealthSchema,
  memoryStatusSchema,
  pressureSchema,
  processesSchema,
  recoveryCheckSchema,
  recoveryStatusSchema,
  responseTimesSchema,
  suspectsSchema,
} from './report-schemas.js';

export const healthCheckOutput = z.looseObject({
  status: z.enum(['healthy', 'degraded', 'critical']),
  check_type: z.enum(['quick', 'full', 'recovery']),
  timestamp: z.string(),
  duration_ms: z.number(),
  /** How old the host reading is (ms); a quick check reuses one for up to one sampler tick (≤ 1 s). */
  sample_age_ms: z.number().optional(),
  thresholds: z.looseObject({ memory: z.number(), gpu: z.number(), responseTime: z.number() }),
  metrics: z.looseObject({
    gpu_health: gpuHealthSchema,
    memory_status: memoryStatusSchema,
    response_times: responseTimesSchema,
    error_rates: errorRatesSchema,
    recovery_status: recoveryStatusSchema,
    cpu: cpuSchema,
    pressure: pressureSchema,
    cgroup: cgroupSchema,
    disk: diskSchema,
    /** full checks: the largest consumers by memory and CPU */
    processes: processesSchema.optional(),
    /** full checks: leak and hang suspects, stalled tasks */
    suspects: suspectsSchema.optional(),
    /** full checks: InfiniBand, mounts, daemons, users, zombies, descriptors, operators' checks */
    node_checks: z
      .looseObject({
        infiniband: z.looseObject({ available: z.boolean() }),
        mounts: z.looseObject({ available: z.boolean() }),
        services: z.array(z.looseObject({ name: z.string(), running: z.boolean() })),
        zombies: z.looseObject({ count: z.number() }),
        file_descriptors: z.looseObject({}),
        operator_checks: z.array(
          z.looseObject({ name: z.string(), outcome: z.enum(['ok', 'problem', 'unknown']), message: z.string() }),
        ),
        findings: z.array(
          z.looseObject({
            check: z.string(),
            severity: z.enum(['critical', 'degraded']),
            subject: z.string(),
            message: z.string(),
          }),
        ),
      })
      .optional(),
  }),
  breached: z.array(z.looseObject({ metric: z.string(), observed: z.number(), limit: z.number() })),
  critical_faults: criticalFaultsSchema,
  recommendations: z.array(z.looseObject({ severity: z.string(), message: z.string() })),
  recovery_check: recoveryCheckSchema.optional(),
});
