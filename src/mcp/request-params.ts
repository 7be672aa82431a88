/**
 * Checks the params of the non-tool requests this server handles (logging/setLevel,
 * resources/read, the list methods, ...) against the SDK's own request schemas, before the SDK
 * does. The SDK validates them inside its request dispatch and answers a failure with -32603
 * (internal error) and zod's JSON issue dump; a careless client deserves -32602 (invalid params)
 * naming the field, a bounded echo of the value and what is allowed. Runs on the main thread.
 */
import { specTypeSchemas, type SpecTypeName } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import { describeValue, formatIssues } from '../config/validation.js';

/** The request methods we serve, and the SDK schema each one's params must match. */
const SCHEMA_OF: Readonly<Record<string, SpecTypeName>> = {
  initialize: 'InitializeRequest',
  ping: 'PingRequest',
  'logging/setLevel': 'SetLevelRequest',
  'resources/list': 'ListResourcesRequest',
  'resources/templates/list': 'ListResourceTemplatesRequest',
  'resources/read': 'ReadResourceRequest',
  'tools/list': 'ListToolsRequest',
  'tools/call': 'CallToolRequest',
};

/** At most this many problems are listed; the rest are counted. */
const MAX_LINES = 4;

interface SafeParser {
  safeParse(v: unknown): { success: boolean; error?: { issues: z.core.$ZodIssue[] } };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * tools/call is the hot path (healthCheck quick every few seconds): its full schema runs only when
 * a cheap look says the envelope is wrong; tool arguments are each tool's own business.
 */
/** Longer than any URI this server lists or accepts (its resources are overnight://events and overnight://report). */
const MAX_URI_CHARS = 512;

function callLooksRight(params: unknown): boolean {
  if (!isPlainObject(params)) return false;
  const args = params.arguments;
  return typeof params.name === 'string' && (args === undefined || isPlainObject(args));
}

/**
 * Why a request's params are invalid for its method ("params.level: got \"verbose\"; ..."), or
 * undefined when they are valid, the message is no request, or the method is not one we check
 * (unknown methods keep the SDK's -32601 "Method not found").
 */
export function paramsRefusal(message: unknown): string | undefined {
  if (!isPlainObject(message) || typeof message.method !== 'string' || message.id === undefined) return undefined;
  const name = Object.hasOwn(SCHEMA_OF, message.method) ? SCHEMA_OF[message.method] : undefined;
  if (!name) return undefined;
  if (name === 'CallToolRequest' && callLooksRight(message.params)) return undefined;
  // The SDK's "Resource not found" echoes the URI whole (twice); ours are short, so a long one is refused here.
  const uri = isPlainObject(message.params) ? message.params.uri : undefined;
  if (name === 'ReadResourceRequest' && typeof uri === 'string' && uri.length > MAX_URI_CHARS)
    return (
      `invalid params for resources/read: params.uri: got ${describeValue(uri)}; expected a resource URI of at ` +
      `most ${MAX_URI_CHARS} characters (resources/list names them)`
    );
  const request = { method: message.method, params: message.params };
  const result = (specTypeSchemas[name] as unknown as SafeParser).safeParse(request);
  if (result.success || !result.error) return undefined;
  const lines = formatIssues(result.error as z.ZodError, request);
  const shown = lines.slice(0, MAX_LINES).join('; ');
  const more = lines.length > MAX_LINES ? `; and ${lines.length - MAX_LINES} more` : '';
  return `invalid params for ${message.method}: ${shown}${more}`;
}
