/**
 * One definition of each field type that several inputs share — task id, pid, timestamp, size,
 * count, GPU index — so every MCP tool (and the library entry points that take the same input)
 * accepts and refuses the same values with the same message: the field, a bounded echo of the
 * value, and what is allowed. Tools pass the field's full name ("context.pid") so the message
 * names it as the caller wrote it.
 */
import { z } from 'zod';
import { describeValue } from './validation.js';

export const FIELD_LIMITS = {
  taskIdMax: 256,
  pidMax: 4_194_304, // PID_MAX_LIMIT on 64-bit Linux
  /** Timestamps are ms since the epoch between 2000-01-01 and 2100-01-01: anything else is a unit mistake. */
  timestampMin: Date.UTC(2000, 0, 1),
  timestampMax: Date.UTC(2100, 0, 1),
} as const;

// eslint-disable-next-line no-control-regex -- matching control characters is the point: task ids must not contain them
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A task id: 1-256 characters, not blank, no control characters (NUL, newline, ...). */
export function taskIdField(field: string) {
  return z
    .string({ error: (iss) => `got ${describeValue(iss.input)}; ${field} must be a string` })
    .superRefine((s, ctx) => {
      if (!s.trim().length)
        ctx.addIssue({ code: 'custom', message: `got ${describeValue(s)}; ${field} must not be empty` });
      else if (s.length > FIELD_LIMITS.taskIdMax)
        ctx.addIssue({
          code: 'custom',
          message: `got a ${field} of ${s.length} characters; at most ${FIELD_LIMITS.taskIdMax} are allowed`,
        });
      else if (CONTROL.test(s))
        ctx.addIssue({
          code: 'custom',
          message: `got ${describeValue(s)}; ${field} must not contain control characters (NUL, newline, ...)`,
        });
    });
}

/** An integer in [min, max]; `unit` says what it counts ("GPUs", "a process id"). */
export function integerField(field: string, min: number, max: number, unit: string) {
  return z
    .number({
      error: (iss) => `got ${describeValue(iss.input)}; ${field} must be ${unit}, an integer in [${min}, ${max}]`,
    })
    .superRefine((v, ctx) => {
      if (!Number.isInteger(v) || v < min || v > max)
        ctx.addIssue({
          code: 'custom',
          message: `got ${describeValue(v)}; ${field} is ${unit}, an integer in [${min}, ${max}]`,
        });
    });
}

/** A process id (2 .. PID_MAX_LIMIT: pid 1 is init and never a target). */
export function pidField(field: string) {
  return integerField(field, 2, FIELD_LIMITS.pidMax, 'a process id');
}

/** A count of things (GPUs, processes, ...). */
export function countField(field: string, min: number, max: number, what: string) {
  return integerField(field, min, max, `a count of ${what}`);
}

/** A GPU index as NVML numbers them. */
export function gpuIndexField(field: string) {
  return integerField(field, 0, 63, 'a GPU index');
}

/** Milliseconds since the epoch, within this century; seconds get a "did you mean" hint. */
export function timestampField(field: string) {
  const { timestampMin: lo, timestampMax: hi } = FIELD_LIMITS;
  return z
    .number({
      error: (iss) => `got ${describeValue(iss.input)}; ${field} must be a number of milliseconds since the epoch`,
    })
    .superRefine((v, ctx) => {
      if (Number.isInteger(v) && v >= lo && v <= hi) return;
      const hint =
        Number.isFinite(v) && v * 1000 >= lo && v * 1000 <= hi
          ? `; did you mean ${Math.round(v * 1000)} (that looks like seconds)?`
          : '';
      ctx.addIssue({
        code: 'custom',
        message:
          `got ${describeValue(v)}; ${field} is milliseconds since the epoch, an integer in [${lo}, ` +
          `${hi}] (${new Date(lo).toISOString()} .. ${new Date(hi).toISOString()})${hint}`,
      });
    });
}

const SIZE_TEXT = /^\s*\d+(\.\d+)?\s*([kKmMgGtT]i?[bB]?|[bB])?\s*$/;

/** A size: a whole number of bytes, or text like "512M", "8G", "1.5T" (binary units). */
export function sizeField(field: string) {
  const allowed = 'a whole number of bytes (0 .. 2^53-1) or a size like "512M", "8G", "1.5T"';
  return z
    .union([z.number(), z.string()], { error: (iss) => `got ${describeValue(iss.input)}; ${field} must be ${allowed}` })
    .superRefine((v, ctx) => {
      const good = typeof v === 'number' ? Number.isSafeInteger(v) && v >= 0 : v.length <= 32 && SIZE_TEXT.test(v);
      if (!good) ctx.addIssue({ code: 'custom', message: `got ${describeValue(v)}; ${field} is ${allowed}` });
    });
}
