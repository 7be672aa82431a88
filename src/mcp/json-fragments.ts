/**
 * JSON.stringify for tool results whose parts repeat from call to call, with the text's own JSON
 * string escape made alongside. A healthCheck quick report is ~2 KB of mostly numbers, and most of
 * it (thresholds, memory, cgroup, disks, pressure, events) is the same objects for a whole sampler
 * tick: the engines hand out frozen sections for that. Formatting those numbers again on every
 * call, and then escaping the whole text once more for the `text` content block, cost more than
 * the check itself. Frozen objects can never change, so their JSON (and its escape) is kept by
 * identity; everything else is serialised afresh. The output is JSON.stringify's, byte for byte
 * (tests compare them), for the plain data tool results are: objects, arrays, strings, numbers,
 * booleans, null; a value with toJSON is left to JSON.stringify whole.
 */

interface Fragment {
  json: string;
  /** `json` as it appears inside a JSON string: JSON.stringify(json) without its quotes. */
  escaped: string;
}

/** Frozen objects' JSON, by identity (collected with them). */
const frozenJson = new WeakMap<object, Fragment>();
/** Member names seen, with their JSON and escape (tool results use a few dozen names). */
const names = new Map<string, Fragment>();
const MAX_NAMES = 4096;

/** How deep unfrozen objects are walked looking for frozen parts; below that, JSON.stringify as a whole. */
const WALK_DEPTH = 3;

const escapeJson = (json: string) => JSON.stringify(json).slice(1, -1);

function leaf(value: unknown): Fragment | undefined {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? undefined : { json, escaped: escapeJson(json) };
}

function nameFragment(k: string): Fragment {
  let f = names.get(k);
  if (f === undefined) {
    f = leaf(k)!;
    if (names.size < MAX_NAMES) names.set(k, f);
  }
  return f;
}

/** The fragment of `value`, or undefined where JSON.stringify would leave the member out. */
function fragment(value: unknown, depth: number): Fragment | undefined {
  if (value === null || typeof value !== 'object') return leaf(value);
  const kept = frozenJson.get(value);
  if (kept !== undefined) return kept;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return leaf(value);
  const frozen = Object.isFrozen(value);
  if (!frozen && depth <= 0) return leaf(value);
  let json: string;
  let escaped: string;
  if (Array.isArray(value)) {
    json = '[';
    escaped = '[';
    for (let i = 0; i < value.length; i++) {
      const f = fragment(value[i], depth - 1);
      const sep = i ? ',' : '';
      json += sep + (f ? f.json : 'null');
      escaped += sep + (f ? f.escaped : 'null');
    }
    json += ']';
    escaped += ']';
  } else {
    json = '{';
    escaped = '{';
    let first = true;
    for (const k of Object.keys(value)) {
      const f = fragment((value as Record<string, unknown>)[k], depth - 1);
      if (f === undefined) continue;
      const n = nameFragment(k);
      const sep = first ? '' : ',';
      json += `${sep}${n.json}:${f.json}`;
      escaped += `${sep}${n.escaped}:${f.escaped}`;
      first = false;
    }
    json += '}';
    escaped += '}';
  }
  const out = { json, escaped };
  // Kept only when nothing inside can change either (Object.freeze is shallow).
  if (frozen && deeplyFrozen(value)) frozenJson.set(value, out);
  return out;
}

function deeplyFrozen(value: object): boolean {
  if (!Object.isFrozen(value)) return false;
  for (const v of Object.values(value) as unknown[])
    if (v !== null && typeof v === 'object' && !deeplyFrozen(v)) return false;
  return true;
}

/**
 * JSON.stringify(value) and its escape as a JSON string's content (JSON.stringify(json) without
 * the quotes), reusing what frozen parts of `value` serialised to before.
 */
export function jsonWithEscape(value: object): Fragment {
  return fragment(value, WALK_DEPTH) ?? { json: 'null', escaped: 'null' };
}
