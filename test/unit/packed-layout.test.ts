import { describe, expect, it } from 'vitest';
import type {
  CgroupCpu,
  CgroupMemory,
  CpuTimes,
  CpuUtilization,
  FilesystemSample,
  HostSample,
  IoCounters,
  MemorySample,
  ProcessSample,
  PsiLine,
} from '../../src/native.js';
import { loadNative } from '../../src/native.js';
import { hostLayoutNames, HOST_GROUPS } from '../../src/readers/packed-host.js';
import { sampleHost } from '../../src/readers/host.js';
import { processLayoutNames } from '../../src/readers/packed-processes.js';
import { listProcesses } from '../../src/readers/processes.js';

// Each object below must name exactly the keys of its TypeScript type (the compiler checks that
// through `satisfies`); the test checks the native tables name the same fields. Together they make
// the C++ table (native/napi/host_layout.h) and the TypeScript types one definition that cannot drift.
type Keys<T> = Record<keyof T, true>;
const memory = {
  total: true,
  free: true,
  available: true,
  used: true,
  buffers: true,
  cached: true,
  swapCached: true,
  active: true,
  inactive: true,
  sReclaimable: true,
  sUnreclaim: true,
  shmem: true,
  anon: true,
  mapped: true,
  dirty: true,
  writeback: true,
  swapTotal: true,
  swapFree: true,
  commitLimit: true,
  committedAs: true,
  hugePagesTotal: true,
  hugePagesFree: true,
  hugePagesRsvd: true,
  hugePageSize: true,
  availableEstimated: true,
} satisfies Keys<MemorySample>;
const cpuTimes = {
  user: true,
  nice: true,
  system: true,
  idle: true,
  iowait: true,
  irq: true,
  softirq: true,
  steal: true,
  guest: true,
  guestNice: true,
} satisfies Keys<Omit<CpuTimes, 'cpu'>>;
const cpuUtil = {
  busy: true,
  user: true,
  nice: true,
  system: true,
  idle: true,
  iowait: true,
  irq: true,
  softirq: true,
  steal: true,
  guest: true,
} satisfies Keys<Omit<CpuUtilization, 'cpu'>>;
const load = { load1: true, load5: true, load15: true, runnable: true, threads: true, lastPid: true } satisfies Keys<
  NonNullable<HostSample['load']>
>;
const uptime = { uptimeSec: true, idleSec: true } satisfies Keys<NonNullable<HostSample['uptime']>>;
const psiLine = { avg10: true, avg60: true, avg300: true, totalUs: true } satisfies Keys<PsiLine>;
const cgroupMemory = {
  usage: true,
  limit: true,
  high: true,
  workingSet: true,
  swapUsage: true,
  swapLimit: true,
  failcnt: true,
  maxUsage: true,
} satisfies Keys<Omit<CgroupMemory, 'source' | 'events' | 'stat'>>;
const cgroupEvents = { low: true, high: true, max: true, oom: true, oomKill: true, underOom: true } satisfies Keys<
  NonNullable<CgroupMemory['events']>
>;
const cgroupStat = { anon: true, file: true, inactiveFile: true, activeFile: true, shmem: true } satisfies Keys<
  NonNullable<CgroupMemory['stat']>
>;
const cgroupCpu = {
  quotaUs: true,
  periodUs: true,
  limitCores: true,
  nrPeriods: true,
  nrThrottled: true,
  throttledUs: true,
  usageUs: true,
} satisfies Keys<Omit<CgroupCpu, 'source'>>;
const filesystem = {
  totalBytes: true,
  freeBytes: true,
  availableBytes: true,
  usedBytes: true,
  totalInodes: true,
  freeInodes: true,
  availableInodes: true,
  fsid: true,
  readOnly: true,
} satisfies Keys<Omit<Required<FilesystemSample>, 'path' | 'error'>>;
const cpuCounts = { ctxt: true, processes: true, procsRunning: true, procsBlocked: true, btime: true } satisfies Keys<
  Pick<NonNullable<HostSample['cpu']>, 'ctxt' | 'processes' | 'procsRunning' | 'procsBlocked' | 'btime'>
>;

const processRow = {
  pid: true,
  ppid: true,
  pgid: true,
  sid: true,
  ttyNr: true,
  state: true,
  kernelThread: true,
  utime: true,
  stime: true,
  cutime: true,
  cstime: true,
  starttime: true,
  priority: true,
  nice: true,
  threads: true,
  vsize: true,
  rss: true,
  minflt: true,
  majflt: true,
  processor: true,
  blkioTicks: true,
  uid: true,
  euid: true,
  gid: true,
  voluntaryCtxSwitches: true,
  nonvoluntaryCtxSwitches: true,
  swap: true,
  // those four: object-form reads only
} satisfies Keys<Omit<ProcessSample, 'comm' | 'io' | 'statm' | 'ioError' | 'wchan' | 'cmdline'>>;
const processIo = {
  rchar: true,
  wchar: true,
  syscr: true,
  syscw: true,
  readBytes: true,
  writeBytes: true,
  cancelledWriteBytes: true,
} satisfies Keys<IoCounters>;

const typed: Record<(typeof HOST_GROUPS)[number], Record<string, true>> = {
  memory,
  cpuCounts,
  cpuTimes,
  cpuUtil,
  load,
  uptime,
  psiLine,
  cgroupMemory,
  cgroupEvents,
  cgroupStat,
  cgroupCpu,
  filesystem,
};

describe('the packed process row', () => {
  it('names in C++ exactly the fields ProcessSample declares (besides comm, sent as a string)', () => {
    const native = processLayoutNames();
    expect([...native.row].sort()).toEqual(Object.keys(processRow).sort());
    expect([...native.io].sort()).toEqual(Object.keys(processIo).sort());
  });

  it('decodes this process from a packed scan as the object-form scan reports it', () => {
    const me = listProcesses().find((p) => p.pid === process.pid)!; // packed rows
    const obj = listProcesses({ io: true }).find((p) => p.pid === process.pid)!; // objects built natively
    expect(me.ppid).toBe(process.ppid);
    expect(me.comm).toBe(obj.comm);
    expect(me.state).toMatch(/^[RSD]$/);
    expect(me.kernelThread).toBe(false);
    expect(me.uid).toBe(process.getuid!());
    for (const k of ['pid', 'ppid', 'pgid', 'sid', 'starttime', 'priority', 'nice', 'uid', 'euid', 'gid'] as const)
      expect(me[k], k).toBe(obj[k]);
    expect(obj.io!.rchar).toBeGreaterThan(0);
  });
});

describe('the packed host layout', () => {
  it('names in C++ exactly the fields the TypeScript types declare, group by group', () => {
    const native = hostLayoutNames();
    expect(Object.keys(loadNative().hostLayout).sort()).toEqual([...HOST_GROUPS].sort());
    for (const g of HOST_GROUPS) expect([...native[g]].sort(), g).toEqual(Object.keys(typed[g]).sort());
  });

  it('exports one option bit per sampling option, all distinct', () => {
    const bits = loadNative().hostOptionBits;
    expect(Object.keys(bits).sort()).toEqual(['cgroup', 'cpu', 'load', 'memory', 'perCpu', 'psi']);
    expect(new Set(Object.values(bits)).size).toBe(6);
  });

  it('decodes a real sample whole: every group consumed, and the options honoured', () => {
    const s = sampleHost({ paths: ['/'] });
    expect(s.memory!.total).toBeGreaterThan(s.memory!.available);
    expect(s.memory!.used).toBe(s.memory!.total - s.memory!.available);
    expect(s.cpu!.perCpu.length).toBeGreaterThan(0);
    expect(s.cpu!.perCpu[0].cpu).toBe(0);
    expect(s.cpu!.total.cpu).toBeUndefined();
    expect(s.load!.load1).toBeGreaterThanOrEqual(0);
    expect(s.filesystems[0].path).toBe('/');
    expect(s.filesystems[0].usedBytes).toBe(s.filesystems[0].totalBytes! - s.filesystems[0].freeBytes!);
    const bare = sampleHost({ cpu: false, memory: false, load: false, psi: false, cgroup: false });
    expect(bare.memory).toBeNull();
    expect(bare.cpu).toBeNull();
    expect(bare.psi).toBeNull();
  });
});
