/**
 * Checks on one inbound JSON-RPC message, shared by the stdio and HTTP transports, made before
 * the SDK or a tool walks the message: nesting deeper than MAX_NESTING is refused with the field
 * it happened in (a 10,000-deep value would otherwise reach recursive code — JSON.stringify in a
 * log line or an error text — and end as "Maximum call stack size exceeded" without a field).
 * Runs on the main thread; the walk is iterative, so no depth can overflow the stack here.
 */
import { isJSONRPCErrorResponse, isJSONRPCResultResponse } from '@modelcontextprotocol/server';
import { capText, describeValue } from '../config/validation.js';
import { paramsRefusal } from './request-params.js';

/** Deepest nesting of objects/arrays accepted inside a message's params (tool arguments included). */
export const MAX_NESTING = 64;

/** The longest tool name the MCP naming rules (SEP-986) allow. */
export const MAX_TOOL_NAME = 128;

/** JSON-RPC "Invalid Request" and "Invalid params". */
export const INVALID_REQUEST = -32600;
export const INVALID_PARAMS = -32602;

interface Frame {
  value: unknown;
  depth: number;
  key: string;
  parent: Frame | undefined;
}

function pathOf(frame: Frame): string {
  const keys: string[] = [];
  for (let f: Frame | undefined = frame; f; f = f.parent) keys.push(f.key);
  keys.reverse();
  const shown = keys.length > 8 ? [...keys.slice(0, 8), '…'] : keys;
  return shown.map((k) => capText(k, 40)).join('.');
}

/**
 * The path of the first value nested more than `max` levels below `root` (the root object is
 * level 1), or undefined when the whole value is within the limit.
 */
export function deeperThan(root: unknown, rootName: string, max = MAX_NESTING): string | undefined {
  const stack: Frame[] = [{ value: root, depth: 1, key: rootName, parent: undefined }];
  while (stack.length) {
    const f = stack.pop()!;
    if (f.value === null || typeof f.value !== 'object') continue;
    if (f.depth > max) return pathOf(f);
    if (Array.isArray(f.value))
      f.value.forEach((v, i) => stack.push({ value: v, depth: f.depth + 1, key: String(i), parent: f }));
    else
      for (const [k, v] of Object.entries(f.value))
        if (v !== null && typeof v === 'object') stack.push({ value: v, depth: f.depth + 1, key: k, parent: f });
  }
  return undefined;
}

/**
 * Why a parsed inbound message must be refused, or undefined when it may pass. Tool arguments
 * are measured from "arguments" (the names a tool's caller knows); anything else from "params".
 */
export function refusalOf(message: unknown): string | undefined {
  if (message === null || typeof message !== 'object') return undefined;
  const m = message as { method?: unknown; params?: { arguments?: unknown; name?: unknown } };
  if (m.params === null || typeof m.params !== 'object') return paramsRefusal(message);
  // The SDK's "tool not found" error echoes the name whole: a name past the 128 characters a tool
  // name may have (SEP-986) is refused here with a bounded echo instead.
  if (m.method === 'tools/call' && typeof m.params.name === 'string' && m.params.name.length > MAX_TOOL_NAME) {
    return `params.name: got ${describeValue(m.params.name)}; a tool name is at most ${MAX_TOOL_NAME} characters`;
  }
  const isCall = m.method === 'tools/call' && m.params.arguments !== undefined;
  // arguments sit one level below params: measure them on their own so "64" is what the caller sees.
  const where = isCall ? deeperThan(m.params.arguments, 'arguments') : deeperThan(m.params, 'params', MAX_NESTING + 1);
  if (!where) return paramsRefusal(message);
  return (
    `${where}: nested deeper than ${MAX_NESTING} levels; no overnight-ops input needs more, so the request ` +
    `is refused (flatten the value, or send data as a file path)`
  );
}

/** The id of a request (to answer it), or undefined for a notification. */
export function requestIdOf(message: unknown): string | number | undefined {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}

/**
 * Why a parsed value is no JSON-RPC 2.0 message, or undefined when it is one: the envelope checks
 * both wires make before the SDK (whose own guards drop such a message with a zod dump on stderr
 * and no answer on stdio, and a vague 400 on HTTP).
 */
export function envelopeProblem(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return `a JSON-RPC message is an object; got ${describeValue(v)}`;
  const m = v as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return `jsonrpc: got ${describeValue(m.jsonrpc)}; expected "2.0"`;
  if ('method' in m && typeof m.method !== 'string') return `method: got ${describeValue(m.method)}; expected a string`;
  if ('id' in m && typeof m.id !== 'string' && typeof m.id !== 'number')
    return `id: got ${describeValue(m.id)}; expected a string or a number`;
  // JSON.parse rounds integers past 2^53 (2^60 comes back as 1152921504606847000): such an id cannot
  // be answered as sent, and the SDK drops fractional ones without an answer.
  if (typeof m.id === 'number' && !Number.isSafeInteger(m.id))
    return (
      `id: got ${describeValue(m.id)}${Math.abs(m.id) > Number.MAX_SAFE_INTEGER ? ' (as parsed)' : ''}; ` +
      `expected a string or an integer within ±${Number.MAX_SAFE_INTEGER}`
    );
  if ('params' in m && (m.params === null || typeof m.params !== 'object'))
    return `params: got ${describeValue(m.params)}; expected an object`;
  const meta = (m.params as { _meta?: unknown } | undefined)?._meta;
  if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta)))
    return `params._meta: got ${describeValue(meta)}; expected an object`;
  const token = (meta as { progressToken?: unknown } | undefined)?.progressToken;
  if (token !== undefined && typeof token !== 'string' && !Number.isSafeInteger(token))
    return `params._meta.progressToken: got ${describeValue(token)}; expected a string or an integer`;
  // A request or notification passed the checks above; the SDK's guards (zod, ~µs each) judge the rest.
  if (typeof m.method === 'string')
    return 'result' in m || 'error' in m ? 'a message has "method" or "result"/"error", not both' : undefined;
  const ok = isJSONRPCResultResponse(v) || isJSONRPCErrorResponse(v);
  return ok
    ? undefined
    : 'not a JSON-RPC request, notification or response (no "method", or "id" with "result"/"error")';
}

/** The id to answer a refused value with: its own when usable as sent, else null (JSON-RPC's "unknown"). */
export function answerableId(v: unknown): string | number | null {
  const id = (v as { id?: unknown } | null)?.id;
  return typeof id === 'string' || (typeof id === 'number' && Math.abs(id) <= Number.MAX_SAFE_INTEGER) ? id : null;
}
