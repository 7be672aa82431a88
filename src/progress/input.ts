/**
 * The shape and limits of trackProgress input, checked the same way for the MCP tool and the
 * library. Bad input is refused whole: nothing of the call is stored.
 */
import path from 'node:path';
import { z } from 'zod';
import { taskIdField } from '../config/fields.js';
import { describeValue } from '../config/validation.js';

export const LIMITS = { taskIdMax: 256, stageMax: 256, checkpointsMax: 100, artifactsMax: 100, pathMax: 4096 } as const;

// eslint-disable-next-line no-control-regex -- matching control characters is the point: stages must not contain them
const noControl = (s: string) => !/[\u0000-\u001f\u007f]/.test(s);

export const taskIdSchema = taskIdField('taskId').describe(
  "Your task's id (1-256 characters). Several agents may write the same task; each call is atomic.",
);

const artifactPath = z.string().superRefine((s, ctx) => {
  if (!s.length) ctx.addIssue({ code: 'custom', message: 'got ""; an artifact path must not be empty' });
  else if (s.includes('\u0000'))
    ctx.addIssue({ code: 'custom', message: `got ${describeValue(s)}; an artifact path must not contain NUL` });
  else if (s.length > LIMITS.pathMax)
    ctx.addIssue({ code: 'custom', message: `got a path of ${s.length} characters; at most ${LIMITS.pathMax}` });
});

export const artifactSchema = z.union([
  artifactPath,
  z.strictObject({
    path: artifactPath,
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, { error: 'sha256 must be 64 hexadecimal characters' })
      .optional()
      .describe('The hash you expect; recorded and checked against the file.'),
  }),
]);

export const checkpointSchema = z.strictObject({
  stage: z
    .string({ error: (iss) => `got ${describeValue(iss.input)}; stage must be a string` })
    .min(1, { error: 'stage must not be empty' })
    .max(LIMITS.stageMax, { error: `stage is at most ${LIMITS.stageMax} characters` })
    .refine(noControl, { error: 'stage must not contain control characters' })
    .describe('The stage this checkpoint belongs to ("plan", "implement", "test", ...).'),
  completion: z
    .number({ error: (iss) => `got ${describeValue(iss.input)}; completion must be a number` })
    .superRefine((v, ctx) => {
      if (!Number.isFinite(v) || v < 0 || v > 1) {
        const hint = Number.isFinite(v) && v > 1 && v <= 100 ? `; did you mean ${v / 100}?` : '';
        ctx.addIssue({
          code: 'custom',
          message: `got ${v}; completion is the task's overall completion, a fraction in [0, 1]${hint}`,
        });
      }
    })
    .describe("The whole task's completion at this checkpoint, a fraction in [0, 1]."),
  artifacts: z
    .array(artifactSchema)
    .max(LIMITS.artifactsMax, { error: `at most ${LIMITS.artifactsMax} artifacts per checkpoint` })
    .optional()
    .describe(
      'Files this checkpoint produced: a path, or { path, sha256 }. Relative paths are resolved against the ' +
        "server's working directory.",
    ),
});

export const checkpointsSchema = z
  .array(checkpointSchema)
  .max(LIMITS.checkpointsMax, { error: `at most ${LIMITS.checkpointsMax} checkpoints per call` })
  .describe("Checkpoints to record, oldest first. Omit to read the task's progress.");

export type CheckpointInput = z.infer<typeof checkpointSchema>;

export interface NormalizedArtifact {
  path: string;
  expectedSha256?: string | undefined;
}

export function normalizeArtifacts(a: CheckpointInput['artifacts']): NormalizedArtifact[] {
  return (a ?? []).map((x) =>
    typeof x === 'string'
      ? { path: path.resolve(x) }
      : { path: path.resolve(x.path), expectedSha256: x.sha256?.toLowerCase() },
  );
}
