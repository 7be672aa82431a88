/**
 * manageResources — the design's "Manage system resources for overnight operation": optimize,
 * clean up or reserve GPU, memory and disk. Changes pass the policy gate and the audit log;
 * dryRun lists exactly what would happen.
 */
import { z } from 'zod';
import { memoryStatusSchema, reading } from './report-schemas.js';
import { describeValue } from '../../config/validation.js';
import type { LatencyWindow } from '../../health/latency-window.js';
import type { ResourceManager } from '../../resources/resource-manager.js';
import { countField, gpuIndexField, sizeField, taskIdField } from '../../config/fields.js';
import { boundedNumber, enumOf, instrumented, ok, strictShape } from '../tool-kit.js';
import type { McpServerLike } from '../server-types.js';

/** What parameters.threshold allows, with the field for what the caller probably meant on this resource. */
function thresholdRule(v: number, resourceType: string): string {
  const rule = 'parameters.threshold is a fraction in (0, 1]';
  if (!Number.isFinite(v) || v <= 0) return rule;
  const amount =
    resourceType === 'gpu'
      ? 'a GPU count goes in parameters.count'
      : 'give bytes as parameters.size (a number, or "8G")';
  if (v > 100) return `${rule}; ${amount}`;
  // Looks like a percentage: say what that percentage is as a fraction.
  const fraction = Number((v / 100).toPrecision(12));
  return `${rule}; did you mean ${fraction}? (${v} % is ${fraction}${resourceType === 'gpu' ? `; ${amount}` : ''})`;
}

export const manageResourcesInput = strictShape(
  {
    resourceType: enumOf(['gpu', 'memory', 'disk'], 'Which resource.'),
    action: enumOf(
      ['optimize', 'cleanup', 'reserve'],
      'optimize: report (and, policy permitting, apply safe settings: GPU persistence/clock resets, cache drop). ' +
        'cleanup: bring usage under parameters.threshold (end orphaned/hung/leaking allowed processes; delete oldest ' +
        'files under configured roots). reserve: lease GPUs, admit a memory reservation, or fallocate disk space for ' +
        'a task.',
    ),
    parameters: strictShape(
      {
        threshold: z
          .number({ error: (iss) => `got ${describeValue(iss.input)}; parameters.threshold must be a number` })
          // The range is checked with resourceType in view (below): its hint names that resource's amount field.
          .optional()
          .describe(
            'A fraction in (0, 1], never an amount; not with parameters.size. cleanup: the usage fraction ' +
              'to bring the resource under (default: the configured threshold). reserve: the share of capacity ' +
              'to reserve (memory: of MemTotal; disk: of the filesystem; GPUs: of the GPUs, at least one). ' +
              'Amounts: parameters.size (bytes or "8G") for memory/disk, parameters.count for GPUs.',
          ),
        priority: enumOf(
          ['low', 'normal', 'high', 'critical'],
          'low: report only, leak suspects only, files older than 7 days, 20 % memory headroom. normal (default): ' +
            'apply safe settings, + hung processes, files older than 1 day, 10 % headroom. high: + largest processes ' +
            'in scope, files older than 1 hour, 5 % headroom. critical: any age, no headroom.',
        ).optional(),
        size: sizeField('parameters.size')
          .optional()
          .describe('Extra: explicit size for a memory or disk reservation (bytes, or "8G").'),
        count: countField('parameters.count', 1, 64, 'GPUs').optional().describe('Extra: how many GPUs to lease.'),
        gpus: z
          .array(gpuIndexField('parameters.gpus[]'))
          .max(64)
          .optional()
          .describe('Extra: lease exactly these GPU indices (reserve), or clean only these (cleanup).'),
        taskId: taskIdField('parameters.taskId').optional().describe('Extra: the task a reservation is for.'),
        durationSec: boundedNumber(
          'parameters.durationSec',
          1,
          7 * 86400,
          'seconds',
          'Extra: how long a reservation lasts (default 3600); it is released at expiry.',
        ).optional(),
        release: z
          .uuid({ error: 'a lease id' })
          .optional()
          .describe('Extra: release this lease (returned by an earlier reserve) instead of acting.'),
        path: z.string().min(1).max(4096).optional().describe('Extra (disk): one of the configured cleanup roots.'),
      },
      'parameters',
    ).optional(),
    dryRun: z.boolean().optional().describe('Extra: list exactly what would happen, and do nothing.'),
  },
  'arguments',
).superRefine((args, ctx) => {
  const p = args.parameters;
  const t = p?.threshold;
  // The design's threshold is a fraction (alert_threshold = 0.8); amounts have their own fields.
  if (t !== undefined && !(Number.isFinite(t) && t > 0 && t <= 1))
    ctx.addIssue({
      code: 'custom',
      path: ['parameters', 'threshold'],
      message: `got ${t}; ${thresholdRule(t, args.resourceType)}`,
    });
  // Two amounts for one request: refused rather than one silently ignored.
  if (t !== undefined && p?.size !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['parameters'],
      message:
        `got both parameters.size (${describeValue(p.size)}) and parameters.threshold (${t}); give one: size is ` +
        'an amount (bytes or "8G"), threshold a fraction of capacity in (0, 1]',
    });
});

/** One filesystem under a cleanup root or a watched path (disk). */
const filesystemUsage = z.looseObject({
  path: z.string(),
  total_bytes: z.number(),
  available_bytes: z.number(),
  used_fraction: z.number(),
  inodes_used_fraction: z.number(),
});
/** One GPU as a lease sees it (gpu). */
const gpuUsage = z.looseObject({
  index: z.number().int(),
  uuid: z.string().nullable(),
  memory_used_fraction: reading,
  utilization_gpu: reading,
  processes: z.number().int().nullable(),
  leased: z.boolean(),
});
/**
 * Usage by resource: memory (the effective fraction and its source, with the host and cgroup parts),
 * gpu (each GPU, or available: false without NVML), disk (each filesystem); empty when the call was
 * refused before anything was read.
 */
const resourceUsageSchema = z.looseObject({
  used_fraction: reading.optional(),
  source: z.enum(['host', 'cgroup']).nullable().optional(),
  host: memoryStatusSchema.shape.host.optional(),
  cgroup: memoryStatusSchema.shape.cgroup.optional(),
  gpus: z.array(gpuUsage).optional(),
  available: z.boolean().optional(),
  filesystems: z.array(filesystemUsage).optional(),
});
/** What is left: memory bytes (and what reservations hold), free GPUs, each filesystem's available bytes. */
const resourceAvailableSchema = z.looseObject({
  bytes: reading.optional(),
  reserved_bytes: z.number().optional(),
  unreserved_bytes: reading.optional(),
  gpus: z.number().int().optional(),
  indices: z.array(z.number().int()).optional(),
  filesystems: z.array(z.looseObject({ path: z.string(), available_bytes: z.number() })).optional(),
});

export const manageResourcesOutput = z.looseObject({
  status: z.enum(['success', 'partial', 'refused', 'failed', 'dry_run']),
  dry_run: z.boolean().optional(),
  resource_type: z.string(),
  action: z.string(),
  message: z.string(),
  current_usage: resourceUsageSchema,
  available: resourceAvailableSchema,
  actions: z.array(z.looseObject({ step: z.string(), outcome: z.string() })),
});

export function registerManageResources(server: McpServerLike, resources: ResourceManager, calls: LatencyWindow): void {
  server.registerTool(
    'manageResources',
    {
      title: 'Manage GPU, memory and disk',
      description:
        'Optimize, clean up or reserve GPU, memory and disk for overnight work, without harming anyone: only ' +
        "processes and paths the operator's policy allows are touched, one at a time with verification, every " +
        'decision audited. Reservations (GPU leases with the CUDA_VISIBLE_DEVICES to use, memory admission, ' +
        'fallocated disk) expire and never oversubscribe. Use dryRun to preview (a dry run the real run would see ' +
        'refused says status "refused", with dry_run: true). Result: status, current_usage, available, actions, and ' +
        'the lease for reservations.',
      inputSchema: manageResourcesInput,
      outputSchema: manageResourcesOutput,
      annotations: {
        title: 'Manage GPU, memory and disk',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    instrumented(calls, 'manageResources', async (args: z.infer<typeof manageResourcesInput>) =>
      ok(
        await resources.manageResources(args.resourceType, args.action, args.parameters ?? {}, {
          dryRun: args.dryRun ?? false,
        }),
      ),
    ),
  );
}
