/**
 * Builds a HostSample from the native packed form (native/napi/host_packed.cc writes the numbers in
 * exactly the order this file reads them). `meta` (strings and reasons) arrives only when it
 * changed; the caller keeps the last one.
 */
import type { CgroupSample, CpuTimes, CpuUtilization, FilesystemSample, HostSample, HostSampleOptions, Psi, PsiLine, Reason } from '../native.js';

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

class Cursor {
  i = 0;
  constructor(private readonly d: Float64Array) {}
  n(): number {
    return this.d[this.i++]!;
  }
  b(): boolean {
    return this.d[this.i++] === 1;
  }
  /** NaN (absent) as null. */
  o(): number | null {
    const v = this.d[this.i++]!;
    return Number.isNaN(v) ? null : v;
  }
  psiLine(): PsiLine | null {
    const present = this.b();
    const l = { avg10: this.n(), avg60: this.n(), avg300: this.n(), totalUs: this.n() };
    return present ? l : null;
  }
  psi(): Psi | null {
    const present = this.b();
    const some = this.psiLine();
    const full = this.psiLine();
    return present ? { some, full } : null;
  }
  times(): CpuTimes {
    const cpu = this.n();
    const t: CpuTimes = { user: this.n(), nice: this.n(), system: this.n(), idle: this.n(), iowait: this.n(), irq: this.n(), softirq: this.n(), steal: this.n(), guest: this.n(), guestNice: this.n() };
    return cpu >= 0 ? { cpu, ...t } : t;
  }
  util(): CpuUtilization {
    const cpu = this.n();
    const u: CpuUtilization = { busy: this.n(), user: this.n(), nice: this.n(), system: this.n(), idle: this.n(), iowait: this.n(), irq: this.n(), softirq: this.n(), steal: this.n(), guest: this.n() };
    return cpu >= 0 ? { cpu, ...u } : u;
  }
}

export function unpackHostSample(d: Float64Array, meta: PackedMeta, opts: HostSampleOptions = {}): HostSample {
  const c = new Cursor(d);
  const timeMs = c.n();
  const monotonicMs = c.n();
  const hasMem = c.b();
  const mem = {
    total: c.n(), free: c.n(), available: c.n(), used: c.n(), buffers: c.n(), cached: c.n(), swapCached: c.n(),
    active: c.n(), inactive: c.n(), sReclaimable: c.n(), sUnreclaim: c.n(), shmem: c.n(), anon: c.n(), mapped: c.n(),
    dirty: c.n(), writeback: c.n(), swapTotal: c.n(), swapFree: c.n(), commitLimit: c.n(), committedAs: c.n(),
    hugePagesTotal: c.n(), hugePagesFree: c.n(), hugePagesRsvd: c.n(), hugePageSize: c.n(), availableEstimated: c.b(),
  };
  const hasCpu = c.b();
  const total = c.times();
  const ctxt = c.n();
  const processes = c.n();
  const procsRunning = c.n();
  const procsBlocked = c.n();
  const btime = c.n();
  const hasUtil = c.b();
  const utilization = c.util();
  const intervalSec = c.n();
  const nCpu = c.n();
  const perCpu: CpuTimes[] = [];
  for (let i = 0; i < nCpu; i++) perCpu.push(c.times());
  const nUtil = c.n();
  const perCpuUtilization: CpuUtilization[] = [];
  for (let i = 0; i < nUtil; i++) perCpuUtilization.push(c.util());
  const hasLoad = c.b();
  const load = { load1: c.n(), load5: c.n(), load15: c.n(), runnable: c.n(), threads: c.n(), lastPid: c.n() };
  const hasUptime = c.b();
  const uptime = { uptimeSec: c.n(), idleSec: c.n() };
  const psiWanted = c.b();
  const psiCpu = c.psi();
  const psiMemory = c.psi();
  const psiIo = c.psi();
  const hasCg = c.b();
  const hasCgMem = c.b();
  const usage = c.o(), limit = c.o(), high = c.o(), workingSet = c.o(), swapUsage = c.o(), swapLimit = c.o(), failcnt = c.o(), maxUsage = c.o();
  const hasEvents = c.b();
  const events = { low: c.n(), high: c.n(), max: c.n(), oom: c.n(), oomKill: c.n(), underOom: c.b() };
  const hasStat = c.b();
  const stat = { anon: c.n(), file: c.n(), inactiveFile: c.n(), activeFile: c.n(), shmem: c.n() };
  const hasCgCpu = c.b();
  const cgCpu = { quotaUs: c.o(), periodUs: c.o(), limitCores: c.o(), nrPeriods: c.o(), nrThrottled: c.o(), throttledUs: c.o(), usageUs: c.o() };
  const pCpu = c.psi();
  const pMem = c.psi();
  const pIo = c.psi();
  const nFs = c.n();
  const filesystems: FilesystemSample[] = [];
  for (let i = 0; i < nFs; i++) {
    const ok = c.b();
    const f = { totalBytes: c.n(), freeBytes: c.n(), availableBytes: c.n(), usedBytes: c.n(), totalInodes: c.n(), freeInodes: c.n(), availableInodes: c.n(), fsid: c.n(), readOnly: c.b() };
    const path = meta.paths[i] ?? opts.paths?.[i] ?? '';
    filesystems.push(ok ? { path, ...f } : { path, error: meta.fsErrors[path] ?? { code: 'EIO', message: 'unavailable' } });
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
        memory: hasCgMem ? { source: m.memorySource ?? 'v2', usage, limit, high, workingSet, swapUsage, swapLimit, failcnt, maxUsage, events: hasEvents ? events : null, stat: hasStat ? stat : null } : null,
        cpu: hasCgCpu ? { source: m.cpuSource ?? 'v2', ...cgCpu } : null,
        pressure: pCpu || pMem || pIo ? { cpu: pCpu, memory: pMem, io: pIo } : null,
        unavailable: m.unavailable,
      }
    : null;
  return {
    timeMs,
    monotonicMs,
    memory: hasMem ? mem : null,
    cpu: hasCpu ? { total, perCpu, ctxt, processes, procsRunning, procsBlocked, btime, utilization: hasUtil ? utilization : null, perCpuUtilization: hasUtil ? perCpuUtilization : null, intervalSec } : null,
    load: hasLoad ? load : null,
    uptime: hasUptime ? uptime : null,
    psi: psiWanted && (psiCpu || psiMemory || psiIo) ? { cpu: psiCpu, memory: psiMemory, io: psiIo } : null,
    cgroup,
    filesystems,
    unavailable: meta.unavailable,
  };
}
