/**
 * What every tool file shares: the result shape (structuredContent plus the same JSON as text),
 * error results that say what went wrong and what to do next, input schema helpers with uniform
 * messages, latency recording, and progress notifications.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { capText, describeValue, didYouMean, ValidationError } from '../config/validation.js';
import type { LatencyWindow } from '../health/latency-window.js';
import { jsonWithEscape } from './json-fragments.js';
import { noteResultJson } from './result-json.js';
import type { ToolContext } from './server-types.js';

export interface ToolResult {
  [key: string]: unknown;
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export function ok(structured: object): ToolResult {
  const text = JSON.stringify(structured);
  // The stdio transport writes this text for the object too, instead of serialising it again.
  noteResultJson(structured, text);
  return { content: [{ type: 'text', text }], structuredContent: structured as Record<string, unknown> };
}

/**
 * ok() for a result called hundreds of times a second whose parts are frozen between calls (a
 * healthCheck report): those parts' JSON and the text's escape are made once (json-fragments.ts).
 */
export function okRepeated(structured: object): ToolResult {
  const { json: text, escaped } = jsonWithEscape(structured);
  noteResultJson(structured, text, escaped);
  return { content: [{ type: 'text', text }], structuredContent: structured as Record<string, unknown> };
}

/** An isError result: what went wrong, and what to do next. */
export function toolError(message: string, next?: string): ToolResult {
  return { content: [{ type: 'text', text: next ? `${message}\nWhat to do: ${next}` : message }], isError: true };
}

/** A strict object whose unknown keys are reported with a did-you-mean hint. */
export function strictShape<T extends z.ZodRawShape>(shape: T, where: string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') {
        // A flood of unknown keys is summarised: the first few are named, the rest counted.
        const shown = iss.keys.slice(0, 5);
        const more = iss.keys.length - shown.length;
        return (
          shown
            .map((k: string) => {
              const guess = didYouMean(k, known);
              return (
                `${where}: unknown property "${capText(k)}"${guess ? `; did you mean "${guess}"?` : ''} ` +
                `(allowed: ${known.join(', ')})`
              );
            })
            .join('; ') + (more > 0 ? `; and ${more} more unknown properties` : '')
        );
      }
      if (iss.code === 'invalid_type') return `got ${describeValue(iss.input)}; ${where} must be an object`;
      return undefined;
    },
  });
}

/** An enum whose error names the value received and the allowed ones. */
export function enumOf<const T extends readonly [string, ...string[]]>(values: T, description: string) {
  return z
    .enum(values, {
      error: (iss) => `got ${describeValue(iss.input)}; expected one of ${values.map((v) => `"${v}"`).join(', ')}`,
    })
    .describe(description);
}

/** A fraction in (0, 1] with the "did you mean 0.8?" hint for percentages. */
export function fractionArg(field: string, description: string) {
  return z
    .number({ error: (iss) => `got ${describeValue(iss.input)}; ${field} must be a number` })
    .superRefine((v, ctx) => {
      if (!Number.isFinite(v) || v <= 0 || v > 1) {
        const hint = Number.isFinite(v) && v > 1 && v <= 100 ? `; did you mean ${v / 100}?` : '';
        ctx.addIssue({ code: 'custom', message: `got ${v}; ${field} is a fraction of capacity in (0, 1]${hint}` });
      }
    })
    .describe(description);
}

export function boundedNumber(field: string, min: number, max: number, unit: string, description: string) {
  return z
    .number({ error: (iss) => `got ${describeValue(iss.input)}; ${field} must be a number of ${unit}` })
    .superRefine((v, ctx) => {
      if (!Number.isFinite(v) || v < min || v > max)
        ctx.addIssue({ code: 'custom', message: `got ${v}; ${field} is ${unit} in [${min}, ${max}]` });
    })
    .describe(description);
}

/**
 * Sends notifications/progress when the client asked for them (a progressToken in _meta).
 * `flush()` waits until every notification is written, so none arrives after the result.
 */
export function progressReporter(ctx: ToolContext | undefined): {
  report?: (done: number, total: number, message: string) => void;
  flush: () => Promise<void>;
} {
  const token = ctx?.mcpReq?._meta?.progressToken;
  const pending: Promise<void>[] = [];
  if (token === undefined) return { flush: async () => undefined };
  return {
    report: (progress, total, message) => {
      pending.push(
        ctx!.mcpReq
          .notify({ method: 'notifications/progress', params: { progressToken: token, progress, total, message } })
          .catch(() => undefined),
      );
    },
    flush: async () => {
      await Promise.all(pending);
      // The SDK client dispatches notifications in a microtask but results synchronously: a result
      // read in the same chunk as the last notifications would overtake them and they would be
      // dropped. A short pause puts the result in a later read. Only paid when progress was asked for.
      if (pending.length) await delay(15);
    },
  };
}

/**
 * Wraps a handler: records its latency and outcome (for response_times / error_rates), and turns
 * an exception into an isError result so a bad request never takes the server down.
 */
export function instrumented<A, C>(
  calls: LatencyWindow,
  tool: string,
  handler: (args: A, ctx: C) => Promise<ToolResult>,
) {
  return async (args: A, ctx: C): Promise<ToolResult> => {
    const t0 = performance.now();
    try {
      const r = await handler(args, ctx);
      calls.record(performance.now() - t0, !r.isError, r.isError ? r.content[0]?.text : undefined);
      return r;
    } catch (err) {
      const e = err as Error;
      calls.record(performance.now() - t0, false, e.message);
      if (e.name === 'AbortError') return toolError(`${tool} was cancelled`, 'call it again when you need the result');
      // Bad input found past the schema (an engine's own check, e.g. an artifact outside the roots):
      // the message names each field; nothing failed on the server's side.
      if (e instanceof ValidationError) return toolError(e.message, 'correct the fields named above and call again');
      process.stderr.write(`overnight: ${tool} failed: ${e.stack ?? e.message}\n`);
      return toolError(`${tool} failed: ${e.message}`, 'check the server log (stderr); the server is still running');
    }
  };
}
