/**
 * Decoders for the addon's packed layouts. The native side defines each group of fields once
 * (X-macro tables in native/napi/host_layout.h and process_packed.h) and exports their names and
 * kinds; this compiles one reader per group from that table, so a field is listed in one place and
 * decoding is still a single fixed-shape object literal (as fast as hand-written reads).
 */
import type { PackedGroupLayout } from '../native.js';

export type PackedValue = number | boolean | string | null;
export type PackedReader = (d: Float64Array, i: number, ...extra: unknown[]) => Record<string, PackedValue>;

/** Properties passed in as arguments around the packed ones: `before` come first, `after` last. */
export interface ExtraFields {
  before?: string[];
  after?: string[];
  /**
   * Store small integers unboxed. Numbers read from a Float64Array make V8 give the literal's fields
   * the "double" representation, where every value, 0 included, is a separate 16-byte heap number:
   * a 28-field process row was ~700 bytes instead of ~300. For readers whose objects are made by
   * the thousand (process rows), the compiled reader is called once with nulls, which turns the
   * fields into tagged ones: integers that fit a small integer (pids, ticks, pages, ids) are then
   * stored in place, and only larger ones are boxed. Less to allocate and, above all, less for the
   * scavenger to copy while a scan's rows are alive (its pauses were the loop's stalls).
   */
  taggedFields?: boolean;
}

const checkName = (name: string, what: string) => {
  // The names come from our own addon, but they are spliced into code: accept identifiers only.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new Error(`bad field name in the ${what} layout: ${JSON.stringify(name)}`);
};

/**
 * kinds: n number, u count, b boolean (1/0), o optional (NaN → null), c a character code (→ string).
 * With `extra`, the reader takes those values as further arguments (d, i, ...before, ...after) and
 * places them in the same literal: one fixed-shape object instead of a spread into a second one.
 */
export function compileReader(group: PackedGroupLayout, what: string, extra: ExtraFields = {}): PackedReader {
  const before = extra.before ?? [];
  const after = extra.after ?? [];
  for (const name of [...before, ...after]) checkName(name, what);
  const fields = group.names.map((name, k) => {
    checkName(name, what);
    const v = `d[i + ${k}]`;
    switch (group.kinds[k]) {
      case 'b':
        return `${name}: ${v} === 1`;
      case 'o':
        return `${name}: Number.isNaN(${v}) ? null : ${v}`;
      case 'c':
        return `${name}: String.fromCharCode(${v})`;
      case 'n':
      case 'u':
        return `${name}: ${v}`;
      default:
        throw new Error(`unknown field kind ${JSON.stringify(group.kinds[k])} for ${what}.${name}`);
    }
  });
  const props = [...before, ...fields, ...after];
  /* eslint-disable-next-line @typescript-eslint/no-implied-eval --
     compiling the reader is the point (see above); the names are checked to be identifiers */
  const reader = new Function('d', 'i', ...before, ...after, `return { ${props.join(', ')} };`) as PackedReader;
  // One object with null in every packed field generalises the literal's fields to tagged (kinds
  // decode null harmlessly: b → false, o → null, c → "\0"); its result is dropped.
  if (extra.taggedFields) reader(new Array(group.names.length).fill(null) as unknown as Float64Array, 0);
  return reader;
}
