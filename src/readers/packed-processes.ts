/**
 * Unpacks the native scan's packed form (one Float64Array row per process) into ProcessSample
 * objects. The row's fields are defined once, in native/napi/process_packed.h (exported as
 * `processLayout`); the readers here are compiled from that table.
 */
import { loadNative, type PackedProcessRows, type ProcessSample } from '../native.js';
import { compileReader, type PackedReader } from './packed-layout.js';

export type PackedProcesses = PackedProcessRows;

interface ProcessReaders {
  row: PackedReader;
  io: PackedReader;
  rowFields: number;
  ioFields: number;
}

let readers: ProcessReaders | undefined;
function processReaders(): ProcessReaders {
  if (readers) return readers;
  const { row, io } = loadNative().processLayout;
  return (readers = {
    // comm is placed in the row's literal: set afterwards, it cost every row a map transition and
    // an out-of-object property store (one more allocation per process for the scavenger).
    // Tagged fields: a row's small integers are stored unboxed (see compileReader), so 5,000 rows
    // are ~1.5 MB instead of ~3.5 MB for the scavenger to copy while a scan is being decoded.
    row: compileReader(row, 'process row', { after: ['comm'], taggedFields: true }),
    io: compileReader(io, 'process io', { taggedFields: true }),
    rowFields: row.names.length,
    ioFields: io.names.length,
  });
}

/** The process row's and io counters' field names as the addon defines them (for the layout test). */
export function processLayoutNames(): { row: string[]; io: string[] } {
  const { row, io } = loadNative().processLayout;
  return { row: row.names, io: io.names };
}

function checked(p: PackedProcesses): { r: ProcessReaders; comms: string[] } {
  const r = processReaders();
  if (p.fields !== r.rowFields + r.ioFields)
    throw new Error(
      `packed process rows of ${p.fields} fields, but the layout has ${r.rowFields + r.ioFields}: rebuild the addon`,
    );
  const comms = p.rows === 0 ? [] : p.comms.split('\0');
  if (comms.length !== p.rows) throw new Error(`packed process rows: ${p.rows} rows but ${comms.length} comms`);
  return { r, comms };
}

function decodeRows(
  p: PackedProcesses,
  r: ProcessReaders,
  comms: string[],
  out: ProcessSample[],
  from: number,
  to: number,
) {
  const d = p.numbers;
  for (let i = from; i < to; i++) {
    const o = i * p.fields;
    const s = r.row(d, o, comms[i]!) as unknown as ProcessSample;
    // The io counters are NaN when they were not read, or are not readable for this process.
    if (!Number.isNaN(d[o + r.rowFields]!))
      s.io = r.io(d, o + r.rowFields) as unknown as NonNullable<ProcessSample['io']>;
    out[i] = s;
  }
}

export function unpackProcesses(p: PackedProcesses): ProcessSample[] {
  const { r, comms } = checked(p);
  const out = new Array<ProcessSample>(p.rows);
  decodeRows(p, r, comms, out, 0, p.rows);
  return out;
}

/**
 * Rows decoded per turn of the event loop by unpackProcessesChunked: ~0.3 ms of work on these
 * machines (a row is ~1 µs), so a 5,000-process scan never holds the loop for long.
 */
export const ROWS_PER_CHUNK = 250;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The same rows as unpackProcesses, decoded ROWS_PER_CHUNK at a time with a yield to the event loop
 * in between (timers and I/O run between chunks). For scans delivered to async callers.
 */
export async function unpackProcessesChunked(
  p: PackedProcesses,
  rowsPerChunk = ROWS_PER_CHUNK,
): Promise<ProcessSample[]> {
  const { r, comms } = checked(p);
  const out = new Array<ProcessSample>(p.rows);
  for (let from = 0; from < p.rows; from += rowsPerChunk) {
    if (from > 0) await nextTurn();
    decodeRows(p, r, comms, out, from, Math.min(p.rows, from + rowsPerChunk));
  }
  return out;
}
