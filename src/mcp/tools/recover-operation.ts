/**
 * recoverOperation — the design's "Recover from operational issues": memory_leak, gpu_reset,
 * process_hang. Destructive: every act passes the policy gate and the audit log; dryRun shows
 * exactly what would be done.
 */
import { z } from 'zod';
import type { RecoveryManager } from '../../recovery/recovery-manager.js';
import type { LatencyWindow } from '../../health/latency-window.js';
import { gpuIndexField, integerField, pidField, taskIdField, timestampField } from '../../config/fields.js';
import { enumOf, instrumented, ok, strictShape } from '../tool-kit.js';
import type { McpServerLike } from '../server-types.js';
import { gpuHealthSchema, memoryStatusSchema, reading, suspectsSchema } from './report-schemas.js';

export const recoverOperationInput = strictShape(
  {
    operationType: enumOf(
      ['memory_leak', 'gpu_reset', 'process_hang'],
      'memory_leak: end the leaking process (context.pid, else the strongest leak suspect: steady RSS growth, ranked ' +
        'by time to exhaustion). process_hang: capture diagnostics, then end the hung process (stopped, D state too ' +
        'long, no progress, stale heartbeat; never a busy one). gpu_reset: end allowed processes holding the faulty ' +
        'GPU, reset clocks, reset the GPU (root, policy permitting), verify; unfixable Xids (79) escalate.',
    ),
    context: strictShape(
      {
        taskId: taskIdField('context.taskId')
          .optional()
          .describe('The task this recovery is for (recorded in the audit log).'),
        errorType: z
          .string()
          .max(256)
          .optional()
          .describe('What the caller saw (e.g. "CUDA out of memory", "Xid 48").'),
        timestamp: timestampField('context.timestamp')
          .optional()
          .describe('When the caller saw it (ms since the epoch).'),
        pid: pidField('context.pid')
          .optional()
          .describe("Extra: the process to act on (it must be in the policy's scope: your descendants, same user)."),
        gpu: gpuIndexField('context.gpu')
          .optional()
          .describe('Extra: the GPU index for gpu_reset (default: every unhealthy GPU).'),
        xid: integerField('context.xid', 0, 1000, 'an Xid')
          .optional()
          .describe('Extra: the Xid that triggered this, if known (79 and other unresettable Xids escalate).'),
      },
      'context',
    )
      .optional()
      .describe('What the caller knows; all recorded in the audit log.'),
    dryRun: z
      .boolean()
      .optional()
      .describe(
        'Extra: say exactly what would be done, and do nothing. A tool argument can only ask for less than the ' +
          'policy allows, never more.',
      ),
    force: z
      .boolean()
      .optional()
      .describe(
        'Extra: end the process named by context.pid even without the evidence otherwise needed (no leak slope for ' +
          'memory_leak, busy for process_hang); audited as forced. Never overrides the policy (scope, protected ' +
          'names, budget).',
      ),
  },
  'arguments',
);

export const recoverOperationOutput = z.looseObject({
  status: z.enum(['recovered', 'failed', 'escalated', 'refused', 'dry_run']),
  dry_run: z.boolean(),
  operation_type: z.string(),
  message: z.string(),
  nothing_to_do: z.boolean(),
  /** What was acted on: a process (pid, comm, its leak or hang evidence) or GPUs. */
  target: z
    .looseObject({
      pid: z.number().int().optional(),
      comm: z.string().optional(),
      gpu: z.number().int().optional(),
      gpus: z.array(z.number().int()).optional(),
    })
    .nullable(),
  actions_taken: z.array(z.looseObject({ step: z.string(), outcome: z.string(), detail: z.string() })),
  /** The state after the recovery, as healthCheck reports it (which parts depends on the operation). */
  new_state: z.looseObject({
    gpu_health: gpuHealthSchema.optional(),
    memory_status: memoryStatusSchema.optional(),
    freed_bytes: reading.optional(),
    leak_suspects: suspectsSchema.shape.memory_leaks.optional(),
    hang_suspects: suspectsSchema.shape.hangs.optional(),
  }),
});

export function registerRecoverOperation(server: McpServerLike, recovery: RecoveryManager, calls: LatencyWindow): void {
  server.registerTool(
    'recoverOperation',
    {
      title: 'Recover from an operational issue',
      description:
        'Recover from operational issues on this node: a memory leak, a hung process, or a faulty GPU. Acts only on ' +
        "processes the operator's policy allows (by default your own descendants; never PID 1, system daemons, other " +
        'users), writes every decision to the audit log, verifies the problem is gone and escalates what it cannot ' +
        'fix. Use dryRun first to see what it would do. Result: status recovered | failed | escalated | refused | ' +
        'dry_run (with dry_run: true, a dry run the real run would see refused says "refused"), actions_taken, ' +
        'new_state. Afterwards run healthCheck with checkType "recovery".',
      inputSchema: recoverOperationInput,
      outputSchema: recoverOperationOutput,
      annotations: {
        title: 'Recover from an operational issue',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    instrumented(calls, 'recoverOperation', async (args: z.infer<typeof recoverOperationInput>) => {
      const result = await recovery.recoverOperation(args.operationType, args.context ?? {}, {
        dryRun: args.dryRun ?? false,
        force: args.force ?? false,
      });
      return ok(result);
    }),
  );
}
