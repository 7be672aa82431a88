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
/** Member names seen, as written before a value (`"name":` and its escape); tool results use a few dozen. */
const names = new Map<string, Fragment>();
const MAX_NAMES = 4096;

/**
 * How deep unfrozen objects are walked looking for frozen parts (a report and its metrics); below
 * that, JSON.stringify as a whole.
 */
const WALK_DEPTH = 2;

const escapeJson = (json: string) => JSON.stringify(json).slice(1, -1);

/** The text being written: both forms grow together (V8 ropes make the appends cheap). */
let json = '';
let escaped = '';

/** Appends text that is the same in both forms (punctuation, numbers). */
function append(same: string): void {
  json += same;
  escaped += same;
}

/** Appends JSON.stringify(value); false where JSON.stringify would leave a member out. */
function writeLeaf(value: unknown): boolean {
  const j = JSON.stringify(value) as string | undefined;
  if (j === undefined) return false;
  json += j;
  // Numbers, booleans and null escape to themselves.
  escaped += typeof value === 'number' || typeof value === 'boolean' || value === null ? j : escapeJson(j);
  return true;
}

function memberName(k: string): Fragment {
  let f = names.get(k);
  if (f === undefined) {
    const j = `${JSON.stringify(k)}:`;
    f = { json: j, escaped: escapeJson(j) };
    if (names.size < MAX_NAMES) names.set(k, f);
  }
  return f;
}

/** Appends the JSON of `value`; false where JSON.stringify would leave the member out. */
function write(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object') return writeLeaf(value);
  const kept = frozenJson.get(value);
  if (kept !== undefined) {
    json += kept.json;
    escaped += kept.escaped;
    return true;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return writeLeaf(value);
  const frozen = Object.isFrozen(value);
  if (!frozen && depth <= 0) return writeLeaf(value);
  // A frozen part is written on its own, then kept and appended.
  const outer = frozen ? [json, escaped] : null;
  if (outer) json = escaped = '';
  if (Array.isArray(value)) {
    json += '[';
    escaped += '[';
    for (let i = 0; i < value.length; i++) {
      if (i) append(',');
      if (!write(value[i], depth - 1)) append('null');
    }
    json += ']';
    escaped += ']';
  } else {
    json += '{';
    escaped += '{';
    let first = true;
    for (const k of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[k];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      if (!first) append(',');
      const n = memberName(k);
      json += n.json;
      escaped += n.escaped;
      write(v, depth - 1);
      first = false;
    }
    json += '}';
    escaped += '}';
  }
  if (outer) {
    // Kept only when nothing inside can change either (Object.freeze is shallow).
    if (deeplyFrozen(value)) frozenJson.set(value, { json, escaped });
    json = outer[0]! + json;
    escaped = outer[1]! + escaped;
  }
  return true;
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
  json = escaped = '';
  if (!write(value, WALK_DEPTH)) return { json: 'null', escaped: 'null' };
  const out = { json, escaped };
  json = escaped = '';
  return out;
}
