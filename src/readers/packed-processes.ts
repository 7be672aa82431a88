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
    row: compileReader(row, 'process row'),
    io: compileReader(io, 'process io'),
    rowFields: row.names.length,
    ioFields: io.names.length,
  });
}

/** The process row's and io counters' field names as the addon defines them (for the layout test). */
export function processLayoutNames(): { row: string[]; io: string[] } {
  const { row, io } = loadNative().processLayout;
  return { row: row.names, io: io.names };
}

export function unpackProcesses(p: PackedProcesses): ProcessSample[] {
  const r = processReaders();
  if (p.fields !== r.rowFields + r.ioFields)
    throw new Error(
      `packed process rows of ${p.fields} fields, but the layout has ${r.rowFields + r.ioFields}: rebuild the addon`,
    );
  const n = p.comms.length;
  const d = p.numbers;
  const out = new Array<ProcessSample>(n);
  for (let i = 0; i < n; i++) {
    const o = i * p.fields;
    const s = r.row(d, o) as unknown as ProcessSample;
    s.comm = p.comms[i]!;
    // The io counters are NaN when they were not read, or are not readable for this process.
    if (!Number.isNaN(d[o + r.rowFields]!))
      s.io = r.io(d, o + r.rowFields) as unknown as NonNullable<ProcessSample['io']>;
    out[i] = s;
  }
  return out;
}
