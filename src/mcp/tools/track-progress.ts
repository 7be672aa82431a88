/**
 * trackProgress — the design's "Track and report coding progress": durable checkpoints, an ETA,
 * verified artifacts. Calling with only taskId reads the task's progress.
 */
import { z } from 'zod';
import type { LatencyWindow } from '../../health/latency-window.js';
import { checkpointsSchema, taskIdSchema } from '../../progress/input.js';
import type { ProgressTracker } from '../../progress/progress-tracker.js';
import { instrumented, ok, strictShape } from '../tool-kit.js';
import type { McpServerLike } from '../server-types.js';

export const trackProgressInput = strictShape(
  { taskId: taskIdSchema, checkpoints: checkpointsSchema.optional() },
  'arguments',
);

export const trackProgressOutput = z.looseObject({
  task_id: z.string(),
  stages_completed: z.number(),
  current_stage: z.looseObject({ stage: z.string(), completion: z.number() }).nullable(),
  estimated_completion: z
    .looseObject({ eta: z.string(), seconds_remaining: z.number(), method: z.string() })
    .nullable(),
  artifacts_generated: z.array(z.looseObject({ path: z.string(), exists: z.boolean() })),
  validation_status: z.looseObject({ valid: z.boolean(), reasons: z.array(z.string()) }),
});

export function registerTrackProgress(server: McpServerLike, tracker: ProgressTracker, calls: LatencyWindow): void {
  server.registerTool(
    'trackProgress',
    {
      title: 'Track task progress',
      description:
        'Record checkpoints of your task and read its progress. Each checkpoint is { stage, completion (the whole ' +
        'task, a fraction in [0, 1]), artifacts (paths, or { path, sha256 }) }; a call is stored atomically and ' +
        'acknowledged only once it is on disk, so after a crash at 3 a.m. the morning knows exactly what was done. ' +
        'Returns task_id, stages_completed, current_stage, estimated_completion (ISO time, seconds remaining, ' +
        'method, confidence band; null with the reason until there is enough data), artifacts_generated (exists, ' +
        'bytes, sha256 then and now) and validation_status (completion going backwards, missing or changed ' +
        'artifacts, stages out of order). Call with only taskId to read.',
      inputSchema: trackProgressInput,
      outputSchema: trackProgressOutput,
      annotations: {
        title: 'Track task progress',
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    instrumented(calls, 'trackProgress', async (args: z.infer<typeof trackProgressInput>) =>
      ok(await tracker.trackCodingProgress(args.taskId, args.checkpoints)),
    ),
  );
}
