/** Process reader: one pid, the whole table, or a process tree. */
import {
  loadNative,
  type NativeProcessTable,
  type ProcessReadOptions,
  type ProcessSample,
  type ProcessScanOptions,
} from '../native.js';
import { unpackProcesses, unpackProcessesChunked } from './packed-processes.js';

let defaultTable: ProcessTable | undefined;

/** The extras that the packed (typed-array) form of a scan does not carry. */
const needsObjects = (o?: ProcessScanOptions) => !!(o?.statm || o?.io || o?.wchan || o?.cmdline);

/**
 * A process table with its own cache of kept-open /proc/<pid> files. Scans without extras travel
 * from C++ as typed arrays and become objects here (much cheaper than building them through N-API).
 */
export interface ProcessTable extends Pick<NativeProcessTable, 'cachedPids' | 'clearCache'> {
  scan(options?: ProcessScanOptions): ProcessSample[];
  scanAsync(options?: ProcessScanOptions): Promise<ProcessSample[]>;
}

export function createProcessTable(): ProcessTable {
  const { ProcessTable } = loadNative();
  const t = new ProcessTable();
  return {
    scan: (o) => (needsObjects(o) ? t.scan(o) : unpackProcesses(t.scan({ ...o, packed: true }))),
    // Packed on the worker thread, decoded here in chunks that yield: the loop is never held for
    // the whole table (a 5,000-process scan as objects in one go stalled it 34-45 ms).
    scanAsync: async (o) =>
      needsObjects(o) ? t.scanAsync(o) : unpackProcessesChunked(await t.scanAsync({ ...o, packed: true })),
    cachedPids: () => t.cachedPids(),
    clearCache: () => t.clearCache(),
  };
}

function table(): ProcessTable {
  defaultTable ??= createProcessTable();
  return defaultTable;
}

/**
 * Reads one process (stat, status, statm, io, wchan; cmdline on request).
 * Throws an Error with code ESRCH and `pid` when it does not exist.
 */
export function readProcess(pid: number, options?: ProcessReadOptions): ProcessSample {
  return loadNative().readProcess(pid, options);
}

/** The whole process table, synchronously (fine for hundreds of processes; see listProcessesAsync). */
export function listProcesses(options?: ProcessScanOptions): ProcessSample[] {
  return table().scan(options);
}

/** The whole process table, scanned on a worker thread: a 10,000-process scan never blocks the event loop. */
export function listProcessesAsync(options?: ProcessScanOptions): Promise<ProcessSample[]> {
  return table().scanAsync(options);
}

/** Descendants of `pid` (breadth first, not including it unless includeRoot). */
export function listDescendants(pid: number, options?: Omit<ProcessScanOptions, 'descendantsOf'>): ProcessSample[] {
  return table().scan({ ...options, descendantsOf: pid });
}

/** Clock ticks per second, the unit of utime/stime/starttime. */
export function clockTicksPerSecond(): number {
  return loadNative().clockTicksPerSecond;
}

/** CPU seconds (user + system) of a process sample. */
export function cpuSeconds(p: Pick<ProcessSample, 'utime' | 'stime'>): number {
  return (p.utime + p.stime) / clockTicksPerSecond();
}

/** True when the error says the process no longer exists. */
export function isGone(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ESRCH';
}
