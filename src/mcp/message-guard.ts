/**
 * Checks on one inbound JSON-RPC message, shared by the stdio and HTTP transports, made before
 * the SDK or a tool walks the message: nesting deeper than MAX_NESTING is refused with the field
 * it happened in (a 10,000-deep value would otherwise reach recursive code — JSON.stringify in a
 * log line or an error text — and end as "Maximum call stack size exceeded" without a field).
 * Runs on the main thread; the walk is iterative, so no depth can overflow the stack here.
 */
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
