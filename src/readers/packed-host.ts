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
type CgroupMemoryNumbers = Omit<CgroupMemory, 'source' | 'events' | 'stat'>;
type CgroupMemoryEvents = NonNullable<CgroupMemory['events']>;
type CgroupMemoryStat = NonNullable<CgroupMemory['stat']>;
type CgroupCpuNumbers = Omit<NonNullable<CgroupSample['cpu']>, 'source'>;
type FilesystemNumbers = Omit<Required<FilesystemSample>, 'path' | 'error'>;
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
  /** One decoder per group, compiled from the native table: an object literal of fixed shape. */
  read: Record<HostGroup, (d: Float64Array, i: number) => Group>;
}

let layoutCache: CompiledLayout | undefined;
function hostLayout(): CompiledLayout {
  if (layoutCache) return layoutCache;
  const l = loadNative().hostLayout;
  const names = {} as Record<HostGroup, string[]>;
  const read = {} as CompiledLayout['read'];
  for (const g of HOST_GROUPS) {
    const group = l[g];
    if (!group)
      throw new Error(`the native addon exports no host layout group "${g}": rebuild it (npm run build:native)`);
    names[g] = group.names;
    read[g] = compileReader(group, `host ${g}`) as (d: Float64Array, i: number) => Group;
  }
  return (layoutCache = { names, read });
}

/** Reads the packed numbers group by group, each field under the name the native table gives it. */
class Cursor {
  i = 0;
  constructor(
    private readonly d: Float64Array,
    private readonly layout: CompiledLayout,
  ) {}
  n(): number {
    return this.d[this.i++]!;
  }
  b(): boolean {
    return this.d[this.i++] === 1;
  }
  group(name: HostGroup): Group {
    const out = this.layout.read[name](this.d, this.i);
    this.i += this.layout.names[name].length;
    return out;
  }
  psiLine(): PsiLine | null {
    const present = this.b();
    const line = this.group('psiLine') as unknown as PsiLine;
    return present ? line : null;
  }
  psi(): Psi | null {
    const present = this.b();
    const some = this.psiLine();
    const full = this.psiLine();
    return present ? { some, full } : null;
  }
  /** CPU times or utilization: `cpu` is -1 for the all-CPU line, which carries no cpu field. */
  perCpu(name: 'cpuTimes'): CpuTimes;
  perCpu(name: 'cpuUtil'): CpuUtilization;
  perCpu(name: 'cpuTimes' | 'cpuUtil'): CpuTimes | CpuUtilization {
    const cpu = this.n();
    const rest = this.group(name);
    return (cpu >= 0 ? { cpu, ...rest } : rest) as unknown as CpuTimes | CpuUtilization;
  }
}

/** The packed groups' field names, for a test that they match the TypeScript types. */
export function hostLayoutNames(): Record<HostGroup, string[]> {
  return hostLayout().names;
}

/** The sequence of groups mirrors packHostSample (native/napi/host_packed.cc). */
export function unpackHostSample(d: Float64Array, meta: PackedMeta, opts: HostSampleOptions = {}): HostSample {
  const c = new Cursor(d, hostLayout());
  const timeMs = c.n();
  const monotonicMs = c.n();
  const hasMem = c.b();
  const mem = c.group('memory') as unknown as MemorySample;
  const hasCpu = c.b();
  const total = c.perCpu('cpuTimes');
  const counts = c.group('cpuCounts') as {
    ctxt: number;
    processes: number;
    procsRunning: number;
    procsBlocked: number;
    btime: number;
  };
  const hasUtil = c.b();
  const utilization = c.perCpu('cpuUtil');
  const intervalSec = c.n();
  const nCpu = c.n();
  const perCpu: CpuTimes[] = [];
  for (let i = 0; i < nCpu; i++) perCpu.push(c.perCpu('cpuTimes'));
  const nUtil = c.n();
  const perCpuUtilization: CpuUtilization[] = [];
  for (let i = 0; i < nUtil; i++) perCpuUtilization.push(c.perCpu('cpuUtil'));
  const hasLoad = c.b();
  const load = c.group('load') as unknown as LoadSample;
  const hasUptime = c.b();
  const uptime = c.group('uptime') as unknown as UptimeSample;
  const psiWanted = c.b();
  const psiCpu = c.psi();
  const psiMemory = c.psi();
  const psiIo = c.psi();
  const hasCg = c.b();
  const hasCgMem = c.b();
  const cgMem = c.group('cgroupMemory') as unknown as CgroupMemoryNumbers;
  const hasEvents = c.b();
  const events = c.group('cgroupEvents') as unknown as CgroupMemoryEvents;
  const hasStat = c.b();
  const stat = c.group('cgroupStat') as unknown as CgroupMemoryStat;
  const hasCgCpu = c.b();
  const cgCpu = c.group('cgroupCpu') as unknown as CgroupCpuNumbers;
  const pCpu = c.psi();
  const pMem = c.psi();
  const pIo = c.psi();
  const nFs = c.n();
  const filesystems: FilesystemSample[] = [];
  for (let i = 0; i < nFs; i++) {
    const ok = c.b();
    const f = c.group('filesystem') as unknown as FilesystemNumbers;
    const path = meta.paths[i] ?? opts.paths?.[i] ?? '';
    filesystems.push(
      ok ? { path, ...f } : { path, error: meta.fsErrors[path] ?? { code: 'EIO', message: 'unavailable' } },
    );
  }
  const m = meta.cgroup;
  const cgroup: CgroupSample | null = hasCg
    ? {
        layout: m.layout,
        v2Path: m.v2Path,
        v2Dir: m.v2Dir,
        v1MemoryDir: m.v1MemoryDir,
        v1CpuDir: m.v1CpuDir,
        v1CpuacctDir: m.v1CpuacctDir,
        memory: hasCgMem
          ? { source: m.memorySource ?? 'v2', ...cgMem, events: hasEvents ? events : null, stat: hasStat ? stat : null }
          : null,
        cpu: hasCgCpu ? { source: m.cpuSource ?? 'v2', ...cgCpu } : null,
        pressure: pCpu || pMem || pIo ? { cpu: pCpu, memory: pMem, io: pIo } : null,
        unavailable: m.unavailable,
      }
    : null;
  return {
    timeMs,
    monotonicMs,
    memory: hasMem ? mem : null,
    cpu: hasCpu
      ? {
          total,
          perCpu,
          ...counts,
          utilization: hasUtil ? utilization : null,
          perCpuUtilization: hasUtil ? perCpuUtilization : null,
          intervalSec,
        }
      : null,
    load: hasLoad ? load : null,
    uptime: hasUptime ? uptime : null,
    psi: psiWanted && (psiCpu || psiMemory || psiIo) ? { cpu: psiCpu, memory: psiMemory, io: psiIo } : null,
    cgroup,
    filesystems,
    unavailable: meta.unavailable,
  };
}
