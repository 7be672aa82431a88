/**
 * Builds a HostSample from the native packed form (native/napi/host_packed.cc). Each group's fields
 * are read by the names native/napi/host_layout.h defines (exported as `hostLayout`), so a field
 * is listed once, in C++; this file keeps only the sequence of groups. `meta` (strings and reasons)
 * arrives only when it changed; the caller keeps the last one.
 */
import { loadNative } from '../native.js';
import { compileReader } from './packed-layout.js';
import type {
  CgroupSample,
  CpuTimes,
  CpuUtilization,
  FilesystemSample,
  HostSample,
  HostSampleOptions,
  MemorySample,
  Psi,
  PsiLine,
  Reason,
} from '../native.js';

type CgroupMemory = NonNullable<CgroupSample['memory']>;
type CgroupMemoryEvents = NonNullable<CgroupMemory['events']>;
type CgroupMemoryStat = NonNullable<CgroupMemory['stat']>;
type LoadSample = NonNullable<HostSample['load']>;
type UptimeSample = NonNullable<HostSample['uptime']>;

export interface PackedMeta {
  unavailable: Record<string, Reason>;
  cgroup: {
    layout: CgroupSample['layout'];
    v2Path: string | null;
    v2Dir: string | null;
    v1MemoryDir: string | null;
    v1CpuDir: string | null;
    v1CpuacctDir: string | null;
    memorySource: 'v1' | 'v2' | null;
    cpuSource: 'v1' | 'v2' | null;
    unavailable: Record<string, Reason>;
  };
  paths: string[];
  fsErrors: Record<string, Reason>;
}

type Field = number | boolean | null;
type Group = Record<string, Field>;

/** The group names of native/napi/host_layout.h (OVN_HOST_GROUPS) this decoder reads. */
export const HOST_GROUPS = [
  'memory',
  'cpuCounts',
  'cpuTimes',
  'cpuUtil',
  'load',
  'uptime',
  'psiLine',
  'cgroupMemory',
  'cgroupEvents',
  'cgroupStat',
  'cgroupCpu',
  'filesystem',
] as const;
export type HostGroup = (typeof HOST_GROUPS)[number];

interface CompiledLayout {
  names: Record<HostGroup, string[]>;
  width: Record<HostGroup, number>;
  /** One decoder per group, compiled from the native table: an object literal of fixed shape. */
  read: Record<HostGroup, (d: Float64Array, i: number) => Group>;
  /** CPU times and utilization of one CPU: the cpu number (the slot before the group) as their first field. */
  cpuTimesOf: (d: Float64Array, i: number) => CpuTimes;
  cpuUtilOf: (d: Float64Array, i: number) => CpuUtilization;
  cgroupMemory: (d: Float64Array, i: number, source: string, events: unknown, stat: unknown) => CgroupMemory;
  cgroupCpu: (d: Float64Array, i: number, source: string) => NonNullable<CgroupSample['cpu']>;
  filesystem: (d: Float64Array, i: number, path: string) => FilesystemSample;
}

let layoutCache: CompiledLayout | undefined;
function hostLayout(): CompiledLayout {
  if (layoutCache) return layoutCache;
  const l = loadNative().hostLayout;
  const names = {} as Record<HostGroup, string[]>;
  const width = {} as Record<HostGroup, number>;
  const read = {} as CompiledLayout['read'];
  for (const g of HOST_GROUPS) {
    const group = l[g];
    if (!group)
      throw new Error(`the native addon exports no host layout group "${g}": rebuild it (npm run build:native)`);
    names[g] = group.names;
    width[g] = group.names.length;
    read[g] = compileReader(group, `host ${g}`) as (d: Float64Array, i: number) => Group;
  }
  const withCpu = (g: 'cpuTimes' | 'cpuUtil') =>
    compileReader({ names: ['cpu', ...l[g]!.names], kinds: `n${l[g]!.kinds}` }, `host ${g}`);
  return (layoutCache = {
    names,
    width,
    read,
    cpuTimesOf: withCpu('cpuTimes') as unknown as CompiledLayout['cpuTimesOf'],
    cpuUtilOf: withCpu('cpuUtil') as unknown as CompiledLayout['cpuUtilOf'],
    cgroupMemory: compileReader(l.cgroupMemory!, 'host cgroupMemory', {
      before: ['source'],
      after: ['events', 'stat'],
    }) as unknown as CompiledLayout['cgroupMemory'],
    cgroupCpu: compileReader(l.cgroupCpu!, 'host cgroupCpu', {
      before: ['source'],
    }) as unknown as CompiledLayout['cgroupCpu'],
    filesystem: compileReader(l.filesystem!, 'host filesystem', {
      before: ['path'],
    }) as unknown as CompiledLayout['filesystem'],
  });
}

/** The packed groups' field names, for a test that they match the TypeScript types. */
export function hostLayoutNames(): Record<HostGroup, string[]> {
  return hostLayout().names;
}

/** PSI of one resource: [present, [present, line], [present, line]]; returns the next index. */
function readPsi(L: CompiledLayout, d: Float64Array, i: number, out: { psi: Psi | null }): number {
  const w = L.width.psiLine;
  const present = d[i] === 1;
  const someAt = i + 1;
  const fullAt = someAt + 1 + w;
  if (present) {
    const some = d[someAt] === 1 ? (L.read.psiLine(d, someAt + 1) as unknown as PsiLine) : null;
    const full = d[fullAt] === 1 ? (L.read.psiLine(d, fullAt + 1) as unknown as PsiLine) : null;
    out.psi = { some, full };
  } else {
    out.psi = null;
  }
  return fullAt + 1 + w;
}

/**
 * The sequence of groups mirrors packHostSample (native/napi/host_packed.cc). A group whose
 * presence flag is off is skipped, not decoded: a cgroup-only sample builds no memory or CPU objects.
 */
export function unpackHostSample(d: Float64Array, meta: PackedMeta, opts: HostSampleOptions = {}): HostSample {
  const L = hostLayout();
  const W = L.width;
  const R = L.read;
  let i = 0;
  const timeMs = d[i++]!;
  const monotonicMs = d[i++]!;
  const hasMem = d[i++] === 1;
  const memory = hasMem ? (R.memory(d, i) as unknown as MemorySample) : null;
  i += W.memory;
  const hasCpu = d[i++] === 1;
  const totalAt = i + 1; // after the -1 that stands for "all CPUs"
  i = totalAt + W.cpuTimes;
  const countsAt = i;
  i += W.cpuCounts;
  const hasUtil = d[i++] === 1;
  const utilAt = i + 1;
  i = utilAt + W.cpuUtil;
  const intervalSec = d[i++]!;
  const nCpu = d[i++]!;
  const perCpuAt = i;
  i += nCpu * (1 + W.cpuTimes);
  const nUtil = d[i++]!;
  const perUtilAt = i;
  i += nUtil * (1 + W.cpuUtil);
  let cpu: HostSample['cpu'] = null;
  if (hasCpu) {
    const perCpu: CpuTimes[] = new Array<CpuTimes>(nCpu);
    for (let k = 0; k < nCpu; k++) perCpu[k] = L.cpuTimesOf(d, perCpuAt + k * (1 + W.cpuTimes));
    let perCpuUtilization: CpuUtilization[] | null = null;
    if (hasUtil) {
      perCpuUtilization = new Array<CpuUtilization>(nUtil);
      for (let k = 0; k < nUtil; k++) perCpuUtilization[k] = L.cpuUtilOf(d, perUtilAt + k * (1 + W.cpuUtil));
    }
    const counts = R.cpuCounts(d, countsAt) as {
      ctxt: number;
      processes: number;
      procsRunning: number;
      procsBlocked: number;
      btime: number;
    };
    cpu = {
      total: R.cpuTimes(d, totalAt) as unknown as CpuTimes,
      perCpu,
      ctxt: counts.ctxt,
      processes: counts.processes,
      procsRunning: counts.procsRunning,
      procsBlocked: counts.procsBlocked,
      btime: counts.btime,
      utilization: hasUtil ? (R.cpuUtil(d, utilAt) as unknown as CpuUtilization) : null,
      perCpuUtilization,
      intervalSec,
    };
  }
  const hasLoad = d[i++] === 1;
  const load = hasLoad ? (R.load(d, i) as unknown as LoadSample) : null;
  i += W.load;
  const hasUptime = d[i++] === 1;
  const uptime = hasUptime ? (R.uptime(d, i) as unknown as UptimeSample) : null;
  i += W.uptime;
  const psiWanted = d[i++] === 1;
  const p1 = { psi: null as Psi | null };
  const p2 = { psi: null as Psi | null };
  const p3 = { psi: null as Psi | null };
  i = readPsi(L, d, i, p1);
  i = readPsi(L, d, i, p2);
  i = readPsi(L, d, i, p3);
  const psi = psiWanted && (p1.psi || p2.psi || p3.psi) ? { cpu: p1.psi, memory: p2.psi, io: p3.psi } : null;
  const hasCg = d[i++] === 1;
  let cgroup: CgroupSample | null = null;
  if (hasCg) {
    const m = meta.cgroup;
    const hasCgMem = d[i++] === 1;
    const memAt = i;
    i += W.cgroupMemory;
    const hasEvents = d[i++] === 1;
    const events = hasEvents ? (R.cgroupEvents(d, i) as unknown as CgroupMemoryEvents) : null;
    i += W.cgroupEvents;
    const hasStat = d[i++] === 1;
    const stat = hasStat ? (R.cgroupStat(d, i) as unknown as CgroupMemoryStat) : null;
    i += W.cgroupStat;
    const hasCgCpu = d[i++] === 1;
    const cgCpu = hasCgCpu ? L.cgroupCpu(d, i, m.cpuSource ?? 'v2') : null;
    i += W.cgroupCpu;
    const c1 = { psi: null as Psi | null };
    const c2 = { psi: null as Psi | null };
    const c3 = { psi: null as Psi | null };
    i = readPsi(L, d, i, c1);
    i = readPsi(L, d, i, c2);
    i = readPsi(L, d, i, c3);
    cgroup = {
      layout: m.layout,
      v2Path: m.v2Path,
      v2Dir: m.v2Dir,
      v1MemoryDir: m.v1MemoryDir,
      v1CpuDir: m.v1CpuDir,
      v1CpuacctDir: m.v1CpuacctDir,
      memory: hasCgMem ? L.cgroupMemory(d, memAt, m.memorySource ?? 'v2', events, stat) : null,
      cpu: cgCpu,
      pressure: c1.psi || c2.psi || c3.psi ? { cpu: c1.psi, memory: c2.psi, io: c3.psi } : null,
      unavailable: m.unavailable,
    };
  } else {
    // The cgroup groups are there (zeros) even when the cgroup part was not read.
    i += 1 + W.cgroupMemory + 1 + W.cgroupEvents + 1 + W.cgroupStat + 1 + W.cgroupCpu;
    i += 3 * (1 + 2 * (1 + W.psiLine));
  }
  const nFs = d[i++]!;
  const filesystems: FilesystemSample[] = new Array<FilesystemSample>(nFs);
  for (let k = 0; k < nFs; k++) {
    const ok = d[i++] === 1;
    const path = meta.paths[k] ?? opts.paths?.[k] ?? '';
    filesystems[k] = ok
      ? L.filesystem(d, i, path)
      : { path, error: meta.fsErrors[path] ?? { code: 'EIO', message: 'unavailable' } };
    i += W.filesystem;
  }
  return {
    timeMs,
    monotonicMs,
    memory,
    cpu,
    load,
    uptime,
    psi,
    cgroup,
    filesystems,
    unavailable: meta.unavailable,
  };
}
