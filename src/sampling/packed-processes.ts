/**
 * Unpacks the native scan's packed form (one Float64Array row per process) into ProcessSample
 * objects. The row layout is fixed by native/napi/process_packed.cc.
 */
import type { PackedProcessRows, ProcessSample } from '../native.js';

export type PackedProcesses = PackedProcessRows;

const nullIfNaN = (v: number): number | null => (Number.isNaN(v) ? null : v);

export function unpackProcesses(p: PackedProcesses): ProcessSample[] {
  const n = p.comms.length;
  const f = p.fields;
  const d = p.numbers;
  const out: ProcessSample[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * f;
    out[i] = {
      pid: d[o]!,
      ppid: d[o + 1]!,
      pgid: d[o + 2]!,
      sid: d[o + 3]!,
      ttyNr: d[o + 4]!,
      comm: p.comms[i]!,
      state: String.fromCharCode(d[o + 5]!),
      kernelThread: d[o + 6] === 1,
      utime: d[o + 7]!,
      stime: d[o + 8]!,
      cutime: d[o + 9]!,
      cstime: d[o + 10]!,
      starttime: d[o + 11]!,
      priority: d[o + 12]!,
      nice: d[o + 13]!,
      threads: d[o + 14]!,
      vsize: d[o + 15]!,
      rss: d[o + 16]!,
      minflt: d[o + 17]!,
      majflt: d[o + 18]!,
      processor: d[o + 19]!,
      blkioTicks: d[o + 20]!,
      uid: nullIfNaN(d[o + 21]!),
      euid: nullIfNaN(d[o + 22]!),
      gid: nullIfNaN(d[o + 23]!),
      voluntaryCtxSwitches: nullIfNaN(d[o + 24]!),
      nonvoluntaryCtxSwitches: nullIfNaN(d[o + 25]!),
      swap: nullIfNaN(d[o + 26]!),
    };
    // Rows of 34 carry the io counters (NaN: not read, or not readable for this process).
    if (f >= 34 && !Number.isNaN(d[o + 27]!)) {
      out[i]!.io = { rchar: d[o + 27]!, wchar: d[o + 28]!, syscr: d[o + 29]!, syscw: d[o + 30]!, readBytes: d[o + 31]!, writeBytes: d[o + 32]!, cancelledWriteBytes: d[o + 33]! };
    }
  }
  return out;
}
