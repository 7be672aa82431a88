// Decoded process rows must stay small: the async scan's worst event-loop stalls at 5,000 processes
// were scavenges copying the rows decoded so far, and a row whose numbers were each a boxed heap
// number (~700 bytes) cost the scavenger 2.4x what a row with unboxed small integers (~300) does.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native.js';
import { unpackProcesses, unpackProcessesChunked } from '../../src/readers/packed-processes.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ROWS = 5000;

const BIG_VSIZE = 12 * 2 ** 30; // a JVM's or a GPU job's address space: beyond a small integer

/**
 * A packed table shaped as the addon's layout, with small-integer values (as most of /proc's are)
 * and, as on a real node, one process whose vsize does not fit a small integer (it is what turned
 * the fields' representation into boxed doubles).
 */
function table(withIo: boolean) {
  const { row, io } = loadNative().processLayout;
  const fields = row.names.length + io.names.length;
  const numbers = new Float64Array(ROWS * fields);
  for (let i = 0; i < ROWS; i++) {
    for (let k = 0; k < row.names.length; k++) {
      const kind = row.kinds[k];
      numbers[i * fields + k] = kind === 'c' ? 83 : kind === 'b' ? 0 : 1000 + ((i * 31 + k) % 90_000);
    }
    if (i === 0) numbers[row.names.indexOf('vsize')] = BIG_VSIZE;
    for (let k = 0; k < io.names.length; k++)
      numbers[i * fields + row.names.length + k] = withIo ? 4096 * (i + k) : NaN;
  }
  const comms = Array.from({ length: ROWS }, (_, i) => (i % 2 ? 'sleep' : `worker-${i % 7}`)).join('\0');
  return { numbers, comms, rows: ROWS, fields, rowNames: row.names };
}

/** Heap bytes that stay allocated per row after decoding `ROWS` rows (kept alive until measured). */
function measureOnce(decode: () => unknown[]): number {
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const rows = decode();
  gc(); // only the rows survive: what remains is what a scan's result costs to keep and to copy
  const used = process.memoryUsage().heapUsed - before;
  expect(rows).toHaveLength(ROWS);
  return used / ROWS;
}

/** The median of three measurements, each in its own call (so one's rows are dead before the next). */
function bytesPerRow(decode: () => unknown[]): number {
  // Warm up: the readers are compiled on first use and optimised after a few thousand rows; the
  // optimised code is what a long-running agent runs (and where boxing showed).
  for (let i = 0; i < 20; i++) decode();
  const m = [measureOnce(decode), measureOnce(decode), measureOnce(decode)].sort((a, b) => a - b);
  return m[1];
}

describe('decoded process rows', () => {
  it('store small integers unboxed: under 450 heap bytes a row (~700 with every number boxed)', () => {
    const t = table(false);
    const rows = unpackProcesses(t);
    // The values are the packed ones, unchanged.
    const r = rows[1234] as unknown as Record<string, unknown>;
    expect(r.state).toBe('S');
    expect(r.kernelThread).toBe(false);
    expect(r.comm).toBe('worker-2');
    expect(r.pid).toBe(1000 + ((1234 * 31) % 90_000));
    expect(r[t.rowNames[t.rowNames.length - 1]]).toBe(1000 + ((1234 * 31 + t.rowNames.length - 1) % 90_000));
    expect(rows[0].io).toBeUndefined();
    expect(rows[0].vsize).toBe(BIG_VSIZE);
    const perRow = bytesPerRow(() => unpackProcesses(t));
    expect(perRow).toBeLessThan(450);
  });

  it('stay as small when decoded in chunks, and with io counters', async () => {
    const t = table(false);
    for (let i = 0; i < 20; i++) await unpackProcessesChunked(t);
    const chunked = async () => {
      gc();
      gc();
      const before = process.memoryUsage().heapUsed;
      const rows = await unpackProcessesChunked(t);
      gc();
      return { rows, perRow: (process.memoryUsage().heapUsed - before) / ROWS };
    };
    const { rows, perRow } = await chunked();
    expect(perRow).toBeLessThan(450);
    expect(rows).toEqual(unpackProcesses(t));
    const io = table(true);
    const withIo = unpackProcesses(io);
    expect(withIo[10].io).toMatchObject({ rchar: 4096 * 10 });
    // An io object of 7 counters adds ~80 bytes unboxed (~190 boxed).
    expect(bytesPerRow(() => unpackProcesses(io))).toBeLessThan(560);
  });
});
