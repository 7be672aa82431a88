/**
 * Uniform validation messages: the field, the value received, what is allowed, and a hint
 * (after sharp's invalidParameterError). Used by the configuration loader and the MCP tools.
 */
import { closest } from 'fastest-levenshtein';
import type { z } from 'zod';

/** How many characters of a bad value a message echoes; the rest is summarised by its length. */
export const ECHO_MAX = 60;

/**
 * Caps a piece of text for a message: at most ECHO_MAX characters, then "…" and the full length,
 * so a 10 MB key gives a short error that still says how long it was.
 */
export function capText(s: string, max = ECHO_MAX): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length} characters)` : s;
}

/**
 * Renders a value for a message: short, JSON-ish, never huge. Strings are cut before they are
 * quoted (a 10 MB string is never copied whole), and objects too deep to stringify are named
 * as such instead of throwing.
 */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'string')
    return v.length > ECHO_MAX
      ? `${JSON.stringify(v.slice(0, ECHO_MAX)).slice(0, -1)}…" (${v.length} characters)`
      : JSON.stringify(v);
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    if (Array.isArray(v)) s = 'an array';
    else if (typeof v === 'object' && v !== null) s = 'an object';
  }
  // Left for String: what JSON cannot write (functions, symbols, bigints, an object whose toJSON gives nothing).
  /* eslint-disable-next-line @typescript-eslint/no-base-to-string --
     those have their own toString, or nothing better to show */
  return capText(s ?? String(v));
}

export function invalidParameter(field: string, received: unknown, allowed: string, hint?: string): string {
  return `${field}: got ${describeValue(received)}; expected ${allowed}${hint ? ` (${hint})` : ''}`;
}

/** A "did you mean" for an unknown key among the allowed ones (edit distance <= 3). */
export function didYouMean(key: string, allowed: readonly string[]): string | undefined {
  // A key far longer than any allowed one is no typo (and edit distance on it is costly).
  if (!allowed.length || key.length > 64) return undefined;
  const best = closest(key, allowed);
  const d = levenshteinSmall(key.toLowerCase(), best.toLowerCase());
  return d <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function levenshteinSmall(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/**
 * Paths of secret values, '*' for any array index or key. A message about a value at (or inside) one
 * says what is wrong with it (type, length, character classes) and never echoes any of it: errors go
 * to stderr, journald, Slurm's node reason and NPD's status line, which more people read than the file.
 */
export type SecretPath = readonly string[];

function matches(pattern: SecretPath, path: readonly PropertyKey[], upTo = pattern.length): boolean {
  for (let i = 0; i < upTo; i++) if (pattern[i] !== '*' && pattern[i] !== String(path[i])) return false;
  return true;
}

/** True when `path` is a secret path or lies under one. */
export function isSecretPath(path: readonly PropertyKey[], secrets: readonly SecretPath[]): boolean {
  return secrets.some((p) => path.length >= p.length && matches(p, path));
}

/** True when a secret path lies strictly under `path`. */
function leadsToSecret(path: readonly PropertyKey[], secrets: readonly SecretPath[]): boolean {
  return secrets.some((p) => p.length > path.length && matches(p, path, path.length));
}

/** A secret described without any of its characters: its type, length and the classes of characters in it. */
export function describeSecret(v: unknown): string {
  if (Array.isArray(v)) return `a secret array (not shown) of ${v.length} items`;
  if (typeof v !== 'string') return `a secret value (not shown) of type ${v === null ? 'null' : typeof v}`;
  const classes = (
    [
      [/[a-z]/, 'lowercase letters'],
      [/[A-Z]/, 'uppercase letters'],
      [/\d/, 'digits'],
      [/\s/, 'whitespace'],
      [/[^a-zA-Z\d\s]/, 'other characters'],
    ] as const
  )
    .filter(([re]) => re.test(v))
    .map(([, name]) => name);
  return `a secret string (not shown) of ${v.length} characters${classes.length ? `: ${classes.join(', ')}` : ''}`;
}

/** A copy of `root` with every value at a secret path replaced by its description (for containers' messages). */
function redact(root: unknown, secrets: readonly SecretPath[], path: PropertyKey[] = []): unknown {
  if (isSecretPath(path, secrets)) return `[${describeSecret(root)}]`;
  // Only containers on the way to a secret are copied; everything else is returned as it is, but a
  // string where a container of secrets belongs is most likely the secret put one level too high.
  if (!leadsToSecret(path, secrets)) return root;
  if (typeof root === 'string' && path.length > 0) return `[${describeSecret(root)}]`;
  if (root === null || typeof root !== 'object') return root;
  const out: Record<string, unknown> | unknown[] = Array.isArray(root) ? [] : {};
  for (const [k, v] of Object.entries(root)) (out as Record<string, unknown>)[k] = redact(v, secrets, [...path, k]);
  return out;
}

/** A value at a path of an object. */
function at(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * Formats zod issues as uniform lines. `root` is the validated input, so the received value can
 * be named; `prefix` names where it came from ("config", "thresholds").
 */
export function formatIssues(
  error: z.ZodError,
  root: unknown,
  prefix = '',
  schema?: z.ZodType,
  secrets: readonly SecretPath[] = [],
): string[] {
  const lines: string[] = [];
  const shown = secrets.length ? redact(root, secrets) : root;
  for (const issue of error.issues) {
    // The root has no name of its own: "(top level)" rather than an empty field.
    const dotted = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    const path = dotted || '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? keysAt(schema, issue.path) : [];
      for (const k of issue.keys) {
        const guess = didYouMean(k, known);
        const hint = guess ? `; did you mean "${guess}"?` : '';
        const listed = known.length ? ` (known keys: ${known.join(', ')})` : '';
        lines.push(`${dotted ? `${dotted}.` : ''}${capText(k)}: unknown key${hint}${listed}`);
      }
      continue;
    }
    const value = at(root, issue.path);
    // A string where a container of secrets belongs is treated as the secret (see redact).
    const secret =
      isSecretPath(issue.path, secrets) ||
      (typeof value === 'string' && issue.path.length > 0 && leadsToSecret(issue.path, secrets));
    const received = secret ? describeSecret(value) : describeValue(at(shown, issue.path));
    // Messages we wrote ourselves already carry the value (never at a secret path: see SecretPath); zod's
    // own get it added.
    if (issue.message.startsWith('got ') && !secret) lines.push(`${path}: ${issue.message}`);
    // A message of ours at a secret path would hold the value: only the description is kept then.
    else if (issue.message.startsWith('got ')) lines.push(`${path}: got ${received}; not a valid value here`);
    else lines.push(`${path}: got ${received}; ${issue.message}`);
  }
  return lines;
}

/** The keys an object schema allows at a path (unwrapping optional, default, nullable, arrays). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  const unwrap = (x: unknown): unknown => {
    for (let i = 0; i < 10; i++) {
      const def = (x as { _zod?: { def?: { innerType?: unknown; type?: string; element?: unknown; in?: unknown } } })
        ?._zod?.def;
      if (!def) return x;
      if (def.innerType) x = def.innerType;
      else if (def.type === 'pipe' && def.in) x = def.in;
      else return x;
    }
    return x;
  };
  for (const k of path) {
    s = unwrap(s);
    const def = (s as { _zod?: { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } } })?._zod
      ?.def;
    if (def?.type === 'object' && def.shape) s = def.shape[String(k)];
    else if (def?.type === 'array') s = def.element;
    else return [];
  }
  s = unwrap(s);
  const def = (s as { _zod?: { def?: { type?: string; shape?: Record<string, unknown> } } })?._zod?.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

export class ValidationError extends Error {
  readonly code = 'ERR_OVERNIGHT_INVALID';
  constructor(
    readonly lines: string[],
    where: string,
  ) {
    super(`${where}:\n  - ${lines.join('\n  - ')}`);
    this.name = 'ValidationError';
  }
}
