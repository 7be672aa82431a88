/**
 * The Sampler's options, checked in TypeScript before the native thread is made, with the uniform
 * messages of the rest of the project (field, value received, what is allowed, did-you-mean for
 * unknown keys). This is the one definition of what is allowed: the binding's own range checks (a
 * second line for callers that bypass this module) use the same ranges, e.g. ringSize 16..1000000.
 */
import { z } from 'zod';
import { formatIssues, ValidationError } from '../config/validation.js';

const MAX_US = 3_600_000_000;
const micros = (what: string, min: number) =>
  z
    .number({ error: `expected ${what}` })
    .int(`expected whole microseconds`)
    .min(min, `expected ${what}`)
    .max(MAX_US, `expected ${what}`);
const readInterval = micros(`microseconds in [0, ${MAX_US}] (0: every sample)`, 0);

export const samplerOptionsSchema = z.strictObject({
  intervalUs: z
    .number({ error: 'expected microseconds >= 50' })
    .min(50, 'expected microseconds >= 50')
    .max(MAX_US, `expected microseconds <= ${MAX_US}`),
  signals: z
    .array(z.enum(['memory', 'cpu', 'psi', 'cgroup'], { error: 'expected one of memory, cpu, psi, cgroup' }))
    .optional(),
  pids: z
    .array(z.number({ error: 'expected a pid > 0' }).int('expected a pid > 0').positive('expected a pid > 0'), {
      error: 'expected an array of pids',
    })
    .max(256, 'expected at most 256 pids')
    .optional(),
  gpus: z
    .union(
      [
        z.literal('all'),
        z.array(
          z
            .number({ error: 'expected a GPU index >= 0' })
            .int('expected a GPU index >= 0')
            .min(0, 'expected a GPU index >= 0'),
        ),
      ],
      { error: "expected 'all' or an array of GPU indices" },
    )
    .optional(),
  gpuIntervalUs: readInterval.optional(),
  cpuIntervalUs: readInterval.optional(),
  psiIntervalUs: readInterval.optional(),
  cgroupIntervalUs: readInterval.optional(),
  ringSize: z
    .number()
    .int('expected a whole number of samples')
    .min(16, 'expected 16 to 1000000 samples')
    .max(1_000_000, 'expected 16 to 1000000 samples')
    .optional(),
  realtime: z.boolean({ error: 'expected true or false' }).optional(),
  processes: z
    .strictObject(
      {
        descendantsOf: z
          .number({ error: 'expected a pid (0: every process)' })
          .int()
          .min(0, 'expected a pid (0: every process)'),
        intervalUs: micros(`microseconds in [0, ${MAX_US}] (0: on demand only)`, 0).optional(),
        keep: z
          .number()
          .int('expected an integer in [1, 1024]')
          .min(1, 'expected an integer in [1, 1024]')
          .max(1024, 'expected an integer in [1, 1024]')
          .optional(),
        io: z.boolean({ error: 'expected true or false' }).optional(),
      },
      { error: 'expected { descendantsOf, intervalUs?, keep?, io? }' },
    )
    .optional(),
});

/** Throws a ValidationError listing every bad option. */
export function checkSamplerOptions(options: unknown): void {
  const r = samplerOptionsSchema.safeParse(options);
  if (!r.success)
    throw new ValidationError(formatIssues(r.error, options, '', samplerOptionsSchema), 'invalid Sampler options');
}
