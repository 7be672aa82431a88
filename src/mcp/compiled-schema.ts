/**
 * A tool's output schema whose per-call check is a validator compiled at build time
 * (scripts/build-validators.mjs, Ajv standalone code) from the zod schema's own JSON Schema.
 *
 * Why: the SDK checks every result against the output schema; for healthCheck the zod parse of a
 * full report cost more than the health check itself. The zod schema stays the one definition:
 * tools/list shows its JSON Schema (asked of zod, byte for byte what it showed before), the
 * compiled code was generated from that JSON Schema, and a result the compiled code refuses is
 * parsed by zod for the issues, so a client reads zod's messages, naming the field, as before.
 *
 * The SDK only asks the check for success or issues; it sends the handler's own object, never the
 * checked value, so the validator transforms nothing (zod's NaN → null on readings changed only
 * its discarded copy; JSON.stringify writes a non-finite number as null anyway).
 */
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import type { z } from 'zod';

/** The function Ajv's standalone code exports: true or false, with the first error on `.errors`. */
export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: readonly { instancePath: string; message?: string }[] | null;
}

/**
 * `schema`'s JSON Schema with `check` as its validate(). Runs on the thread that calls validate
 * (the main thread); `check` is synchronous, so the SDK's await costs one microtask.
 */
export function compiledSchema<S extends z.ZodType>(
  schema: S,
  check: CompiledValidator,
  name: string,
): StandardSchemaWithJSON<z.input<S>, z.output<S>> {
  const std = schema['~standard'] as unknown as StandardSchemaWithJSON<z.input<S>, z.output<S>>['~standard'];
  let warned = false;
  return {
    '~standard': {
      version: 1,
      vendor: 'overnight-ops',
      jsonSchema: std.jsonSchema,
      validate(value) {
        if (check(value)) return { value: value as z.output<S> };
        // Refused: zod, the definition, says why. Were zod to accept what the compiled code refused,
        // the generated file is out of date with the schema: zod's verdict stands, and it is said once.
        const parsed = schema.safeParse(value);
        if (parsed.success) {
          if (!warned) {
            warned = true;
            const at = check.errors?.[0];
            process.stderr.write(
              `overnight: the compiled ${name} validator refused a result zod accepts ` +
                `(${at ? `${at.instancePath || '/'} ${at.message ?? ''}` : 'no detail'}); ` +
                'rebuild with `npm run build` to regenerate it\n',
            );
          }
          return { value: value as z.output<S> };
        }
        return std.validate(value);
      },
    },
  };
}
