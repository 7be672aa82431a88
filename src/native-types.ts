/**
 * The TypeScript shape of the native binding (native/napi/). Plain data only: every number is a
 * count, bytes, jiffies (clock ticks, see `clockTicksPerSecond`) or a fraction in [0, 1] where named so.
 */

/** Why a part of a sample is missing on this machine (no PSI, no cgroup mount, EACCES, ...). */
export interface Reason {
  code: string;
  message: string;
  path?: string;
}

export interface MemorySample {
  total: number;
  free: number;
  /** MemAvailable: what can be allocated without swapping. */
  available: number;
  /** total - available, as free(1) and psutil >= 7.1. */
  used: number;
  buffers: number;
  cached: number;
  swapCached: number;
  active: number;
  inactive: number;
  sReclaimable: number;
  sUnreclaim: number;
  shmem: number;
  anon: number;
  mapped: number;
  dirty: number;
  writeback: number;
  swapTotal: number;
  swapFree: number;
  commitLimit: number;
  committedAs: number;
  hugePagesTotal: number;
  hugePagesFree: number;
  hugePagesRsvd: number;
  hugePageSize: number;
  /** true on kernels without MemAvailable, where `available` is estimated. */
  availableEstimated: boolean;
}

export interface CpuTimes {
  cpu?: number;
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  guest: number;
  guestNice: number;
}

/** Fractions of the interval since the previous sample of the same reader. */
export interface CpuUtilization {
  cpu?: number;
  /** (total - idle - iowait) / total */
  busy: number;
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  guest: number;
}

export interface CpuSample {
  total: CpuTimes;
  perCpu: CpuTimes[];
  ctxt: number;
  processes: number;
  procsRunning: number;
  procsBlocked: number;
  btime: number;
  /** null on a reader's first sample (no previous sample to take a delta from). */
  utilization: CpuUtilization | null;
  perCpuUtilization: CpuUtilization[] | null;
  intervalSec: number;
}

export interface LoadSample {
  load1: number;
  load5: number;
  load15: number;
  runnable: number;
  threads: number;
  lastPid: number;
}

export interface PsiLine {
  /** Percent of wall time stalled over 10 s, 60 s, 300 s. */
  avg10: number;
  avg60: number;
  avg300: number;
  totalUs: number;
}

export interface Psi {
  some: PsiLine | null;
  /** null for cpu on kernels before 5.13. */
  full: PsiLine | null;
}

export interface CgroupMemory {
  source: 'v1' | 'v2';
  usage: number | null;
  /** null = no limit */
  limit: number | null;
  high: number | null;
  /** usage - inactive file pages (cAdvisor's working set) */
  workingSet: number | null;
  swapUsage: number | null;
  swapLimit: number | null;
  failcnt: number | null;
  maxUsage: number | null;
  events: { low: number; high: number; max: number; oom: number; oomKill: number; underOom: boolean } | null;
  stat: { anon: number; file: number; inactiveFile: number; activeFile: number; shmem: number } | null;
}

export interface CgroupCpu {
  source: 'v1' | 'v2';
  quotaUs: number | null;
  periodUs: number | null;
  limitCores: number | null;
  nrPeriods: number | null;
  nrThrottled: number | null;
  throttledUs: number | null;
  usageUs: number | null;
}

export interface CgroupSample {
  layout: 'v1' | 'v2' | 'hybrid';
  v2Path: string | null;
  v2Dir: string | null;
  v1MemoryDir: string | null;
  v1CpuDir: string | null;
  v1CpuacctDir: string | null;
  memory: CgroupMemory | null;
  cpu: CgroupCpu | null;
  pressure: { cpu: Psi | null; memory: Psi | null; io: Psi | null } | null;
  /** Cgroup files that could not be read, by field. */
  unavailable: Record<string, Reason>;
}

export interface FilesystemSample {
  path: string;
  totalBytes?: number;
  freeBytes?: number;
  availableBytes?: number;
  usedBytes?: number;
  totalInodes?: number;
  freeInodes?: number;
  availableInodes?: number;
  fsid?: number;
  readOnly?: boolean;
  error?: Reason;
}

export interface HostSample {
  timeMs: number;
  monotonicMs: number;
  memory: MemorySample | null;
  cpu: CpuSample | null;
  load: LoadSample | null;
  uptime: { uptimeSec: number; idleSec: number } | null;
  psi: { cpu: Psi | null; memory: Psi | null; io: Psi | null } | null;
  cgroup: CgroupSample | null;
  filesystems: FilesystemSample[];
  /** Parts that are null above, and why. */
  unavailable: Record<string, Reason>;
}

export interface HostSampleOptions {
  cpu?: boolean;
  perCpu?: boolean;
  memory?: boolean;
  load?: boolean;
  psi?: boolean;
  cgroup?: boolean;
  /** Process whose cgroup is read; 0 or absent = this process. */
  cgroupPid?: number;
  /** Filesystems to statvfs. */
  paths?: string[];
}

export interface IoCounters {
  rchar: number;
  wchar: number;
  syscr: number;
  syscw: number;
  readBytes: number;
  writeBytes: number;
  cancelledWriteBytes: number;
}

export interface ProcessSample {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  ttyNr: number;
  comm: string;
  /** R running, S sleeping, D uninterruptible, Z zombie, T stopped, t traced, I idle, X dead */
  state: string;
  kernelThread: boolean;
  /** clock ticks */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** clock ticks after boot; (pid, starttime) names one process even when pids are reused */
  starttime: number;
  priority: number;
  nice: number;
  threads: number;
  vsize: number;
  rss: number;
  minflt: number;
  majflt: number;
  processor: number;
  blkioTicks: number;
  uid: number | null;
  euid: number | null;
  gid: number | null;
  voluntaryCtxSwitches: number | null;
  nonvoluntaryCtxSwitches: number | null;
  swap: number | null;
  statm?: { size: number; resident: number; shared: number; text: number; data: number };
  /** null when unreadable (other users' processes; pid 1 even as root) — see ioError */
  io?: IoCounters | null;
  ioError?: Reason;
  wchan?: string;
  cmdline?: string[];
}

export interface ProcessReadOptions {
  statm?: boolean;
  io?: boolean;
  wchan?: boolean;
  cmdline?: boolean;
}

export interface ProcessScanOptions extends ProcessReadOptions {
  /** Read /proc/<pid>/status (uid, context switches, swap). Default true. */
  status?: boolean;
  /** Only the descendants of this pid. */
  descendantsOf?: number;
  /** With descendantsOf: include the root process itself. */
  includeRoot?: boolean;
}

/** One packed group's fields in order (native/napi/host_layout.h): kinds n number, u count, b boolean, o optional. */
export interface PackedGroupLayout {
  names: string[];
  kinds: string;
}

/** The raw binding class: only the packed form (readers/host.ts builds the objects). */
export interface NativeHostReaderBinding {
  /**
   * The numbers alone while the strings are unchanged; with `meta` (the strings) when they changed.
   * The array is the reader's own, rewritten by its next sample.
   */
  samplePacked(
    flags: number,
    cgroupPid: number,
    paths?: string[],
  ): Float64Array | { numbers: Float64Array; meta: import('./readers/packed-host.js').PackedMeta };
  resetCpuBaseline(): void;
}

export interface NativeHostReader {
  sample(options?: HostSampleOptions): HostSample;
  /** The same sample as numbers in a fixed order, plus the strings when they changed (see readers/packed-host.ts). */
  samplePacked(
    flags: number,
    cgroupPid: number,
    paths?: string[],
  ): { numbers: Float64Array; meta?: import('./readers/packed-host.js').PackedMeta };
  resetCpuBaseline(): void;
}

/** A packed scan: the same form as the sampler's process rows. */
export type PackedScan = PackedProcessRows;

export interface NativeProcessTable {
  scan(options?: ProcessScanOptions & { packed?: false }): ProcessSample[];
  scan(options: ProcessScanOptions & { packed: true }): PackedScan;
  scanAsync(options?: ProcessScanOptions & { packed?: false }): Promise<ProcessSample[]>;
  scanAsync(options: ProcessScanOptions & { packed: true }): Promise<PackedScan>;
  cachedPids(): number;
  clearCache(): void;
}

export interface TreeEntry {
  path: string;
  bytes: number;
  /** blocks * 512: what deleting it frees */
  allocated: number;
  mtimeMs: number;
}

export interface WalkResult {
  files: TreeEntry[];
  skippedSymlinks: number;
  skippedMounts: number;
  skippedOther: number;
  errors: number;
  errorSamples: string[];
  truncated: boolean;
}

export interface DeleteOutcome {
  path: string;
  deleted: boolean;
  freed: number;
  skipped?: string;
}

/** The /proc parsers applied to given text (for layouts a test machine does not have). */
export interface NativeParsers {
  cgroupPaths(
    procCgroup: string,
    mountinfo: string,
  ): {
    layout: string;
    v2Dir: string;
    v2Path: string;
    v1MemoryDir: string;
    v1CpuDir: string;
    v1CpuacctDir: string;
  } | null;
  procStat(
    text: string,
  ): Pick<
    ProcessSample,
    'pid' | 'comm' | 'state' | 'ppid' | 'utime' | 'stime' | 'starttime' | 'vsize' | 'rss' | 'threads' | 'kernelThread'
  > | null;
  meminfo(text: string): {
    total: number;
    free: number;
    available: number;
    used: number;
    availableEstimated: boolean;
    hugePagesTotal: number;
  } | null;
  psi(text: string): Psi | null;
}

/** An NVML return code, by name, with the driver's text. */
export interface NvmlError {
  code: string;
  message: string;
}

export interface GpuProcess {
  pid: number;
  /** null when the driver cannot say (NVML_VALUE_NOT_AVAILABLE) */
  usedMemory: number | null;
}

/** One GPU. A field the driver cannot answer is null, with its NVML code in `errors[field]`. */
export interface GpuDeviceSample {
  index: number;
  uuid?: string | null;
  name?: string | null;
  busId?: string | null;
  /** fractions in [0, 1] */
  utilization?: { gpu: number; memory: number } | null;
  memory?: { total: number; used: number; free: number; reserved: number | null } | null;
  temperatureC?: number | null;
  slowdownTemperatureC?: number | null;
  shutdownTemperatureC?: number | null;
  maxOperatingTemperatureC?: number | null;
  powerW?: number | null;
  powerLimitW?: number | null;
  smClockMhz?: number | null;
  memClockMhz?: number | null;
  graphicsClockMhz?: number | null;
  clocksEventReasons?: { mask: number; names: string[] } | null;
  eccCorrectedVolatile?: number | null;
  eccUncorrectedVolatile?: number | null;
  eccCorrectedAggregate?: number | null;
  eccUncorrectedAggregate?: number | null;
  retiredPagesSingleBit?: number | null;
  retiredPagesDoubleBit?: number | null;
  retiredPagesPending?: boolean | null;
  remappedRows?: { correctable: number; uncorrectable: number; pending: boolean; failure: boolean } | null;
  pcieReplayCounter?: number | null;
  performanceState?: number | null;
  persistenceMode?: boolean | null;
  computeMode?: string | null;
  processes?: GpuProcess[] | null;
  /** The driver's recommended recovery action (none, gpu_reset, node_reboot, drain_p2p, drain_and_reset). */
  recoveryAction?: string | null;
  /** Full samples: the populated NVLink links; null with errors.nvlinks NVML_ERROR_NOT_SUPPORTED on a PCIe-only GPU. */
  nvlinks?: NvLinkSample[] | null;
  /**
   * Full samples: NVSwitch fabric registration; null with errors.fabric NVML_ERROR_NOT_SUPPORTED outside NVSwitch
   * systems.
   */
  fabric?: GpuFabricSample | null;
  /** true when the driver says the GPU is lost (NVML_ERROR_GPU_IS_LOST) */
  lost: boolean;
  sampleUs?: number;
  errors: Record<string, NvmlError>;
}

export type GpuSampleResult =
  | {
      available: true;
      driverVersion: string;
      nvmlVersion: string;
      deviceCount: number;
      initMs: number;
      totalUs: number;
      devices: GpuDeviceSample[];
    }
  | {
      available: false;
      reason: string;
      code: string;
      detail?: string;
      libraryPath?: string;
      initMs?: number;
    };

export interface GpuActionResult {
  action: string;
  gpuIndex: number;
  ok: boolean;
  code: string;
  message: string;
}

export interface NativeGpuWorker {
  sample(jobId: number, options?: { quick?: boolean; processes?: boolean; indices?: number[] }): void;
  action(jobId: number, gpuIndex: number, action: string, value?: number): void;
  busyForMs(): number;
  stop(): void;
}

export interface NativeGpuEvent {
  timeMs: number;
  type: string;
  eventType?: number;
  gpuIndex?: number;
  uuid?: string;
  data?: number;
  xid?: number;
  error?: NvmlError;
  where?: string;
}

export interface NativeGpuEventWatcher {
  stop(): void;
}

export interface NvmlInfo {
  loaded: boolean;
  libraryPath: string;
  error?: string;
  /** Which symbol each entry point resolved to (null = this driver lacks it). */
  functions: Record<string, string | null>;
  processInfoStride: number;
}

export interface ChannelStats {
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface NativeSamplerReport {
  signals: Record<string, ChannelStats>;
  samples: number;
  missedDeadlines: number;
  dropped: number;
  durationMs: number;
  /** CPU time of the sampler thread. */
  threadCpuMs: number;
  /** Achieved gap between samples, microseconds. */
  intervalUs: ChannelStats;
  warnings: string[];
  /** How often each signal group was read (µs); between reads a channel repeats its last value. */
  readIntervalsUs: Partial<Record<'memory' | 'cpu' | 'psi' | 'cgroup' | 'pids' | 'gpu' | 'processes', number>>;
  /** Process scans published (periodic and on demand). */
  processScans: number;
  /** CPU time of the process scanner's thread (known once stopped). */
  processThreadCpuMs: number;
}

export interface NativeProcessChannelOptions {
  /** Descendants of this pid (0: every process). */
  descendantsOf: number;
  /** Scan every this many µs on the scanner's thread; 0: only on demand. */
  intervalUs?: number;
  /** Scans kept for a reader that falls behind (default 16). */
  keep?: number;
  /** Read /proc/<pid>/io (default true). */
  io?: boolean;
}

export interface NativeSamplerOptions {
  intervalUs?: number;
  memory?: boolean;
  cpu?: boolean;
  psi?: boolean;
  cgroup?: boolean;
  pids?: number[];
  gpus?: number[];
  allGpus?: boolean;
  gpuIntervalUs?: number;
  cpuIntervalUs?: number;
  psiIntervalUs?: number;
  cgroupIntervalUs?: number;
  ringSize?: number;
  realtime?: boolean;
  processes?: NativeProcessChannelOptions;
}

export interface NativeSampler {
  start(): void;
  stop(): NativeSamplerReport;
  snapshot(): NativeSamplerReport;
  read(): { count: number; width: number; timestamps: Float64Array; values: Float64Array; lost: number };
  window(windowMs: number): { count: number; signals: Record<string, ChannelStats> };
  channels(): string[];
  running(): boolean;
  readProcesses(): { scans: { monotonicMs: number; processes: PackedProcessRows }[]; lost: number };
  scanProcesses(): Promise<void>;
  /** Rows of the published process scans not read yet (read scans are not kept). */
  heldProcessRows(): number;
}

/** The packed form of process rows (decoded by src/readers/packed-processes.ts). */
export interface PackedProcessRows {
  numbers: Float64Array;
  /** Every row's comm, NUL-separated (a comm cannot contain NUL): one string instead of one per row. */
  comms: string;
  rows: number;
  fields: number;
}

export interface PsiTriggerSpec {
  /** A system-wide resource (/proc/pressure/<resource>), when no path is given. */
  resource?: 'memory' | 'cpu' | 'io';
  /** Any pressure file, e.g. a cgroup v2 <cgroup>/memory.pressure. */
  path?: string;
  /** What events call this file (default: the resource, else the path). */
  name?: string;
  /** false: only polled (no kernel trigger written). */
  arm?: boolean;
  full?: boolean;
  stallUs?: number;
  /** A multiple of 2 s without CAP_SYS_RESOURCE. */
  windowUs?: number;
}

/** A trigger's wake-up: the kernel's ("trigger"), the polled totals' ("poll"), or a failure ("error"). */
export interface PsiTriggerEvent {
  name: string;
  path: string;
  kind: 'trigger' | 'poll' | 'error';
  /** Stall measured within the window from the polled totals (0 when not known). */
  stallUs: number;
  windowUs: number;
  error?: Reason;
}

/** One pressure file's stall over a window, from the polled totals. */
export interface PsiStall {
  name: string;
  path: string;
  known: boolean;
  totalUs: number;
  stallUs: number;
  /** The span the stall is over (less than the window asked for while the history is short). */
  coveredUs: number;
  /** Age of the newest total. */
  ageUs: number;
}

/** One InfiniBand (or RoCE) port from sysfs: <root>/class/infiniband/<device>/ports/<port>. */
export interface IbPortSample {
  port: number;
  /** 4 = ACTIVE (null when `state` was unreadable; see error) */
  state: number | null;
  stateName: string | null;
  /** 5 = LinkUp */
  physState: number | null;
  physStateName: string | null;
  /** signalling rate, Gb/s ("200 Gb/sec (4X HDR)" -> 200) */
  rateGbps: number | null;
  rateText: string;
  /** "InfiniBand" or "Ethernet" */
  linkLayer: string;
  /** every numeric file under counters/, by file name (symbol_error, link_downed, ...) */
  counters: Record<string, number>;
  error?: Reason;
}

export interface IbDeviceSample {
  name: string;
  boardId: string;
  firmwareVersion: string;
  hcaType: string;
  ports: IbPortSample[];
}

/** One line of /proc/self/mountinfo. */
export interface MountSample {
  mountPoint: string;
  fsType: string;
  source: string;
  mountOptions: string;
  superOptions: string;
  readOnly: boolean;
}

export interface ProcessFdSample {
  pid: number;
  /** null when /proc/<pid>/fd was unreadable (see error) */
  open: number | null;
  /** RLIMIT_NOFILE soft limit; null when unlimited or unknown */
  softLimit: number | null;
  error?: Reason;
}

export interface NvLinkSample {
  link: number;
  active: boolean;
  version?: number | null;
  /** PCI bus id of the other end (a GPU or an NVSwitch) */
  remoteBusId?: string | null;
  replayErrors?: number | null;
  recoveryErrors?: number | null;
  crcFlitErrors?: number | null;
  crcDataErrors?: number | null;
  errors: Record<string, NvmlError>;
}

export interface GpuFabricSample {
  state: 'not_supported' | 'not_started' | 'in_progress' | 'completed' | 'unknown';
  stateId: number;
  /** The registration's result, once completed (code NVML_SUCCESS when it worked) */
  status: NvmlError | null;
  cliqueId: number;
  clusterUuid: string;
  /** NVML_GPU_FABRIC_HEALTH_MASK_* (2-bit fields), from nvmlDeviceGetGpuFabricInfoV only */
  healthMask: number | null;
}

/** One /dev/kmsg record (native/kmsg/). */
export interface KmsgRecord {
  seq: number;
  /** 0 (emerg) .. 7 (debug) */
  level: number;
  /** 0 kern, 1 user (lines root wrote to /dev/kmsg), 3 daemon, ... */
  facility: number;
  /** CLOCK_MONOTONIC at logging time, µs */
  monoUs: number;
  text: string;
  subsystem?: string;
  device?: string;
}

/** What the kernel-log reader thread delivers at once. */
export interface KmsgBatch {
  records: KmsgRecord[];
  /** Sequence ranges overwritten before they were read (EPIPE) or while no reader ran. */
  lost: { from: number; to: number }[];
  overruns: number;
  /** The file ended (a regular file given as the path). */
  ended: boolean;
  /** True on the first batch after which nothing more was waiting (the log is drained). */
  caughtUp: boolean;
  /** The reader stopped on this error. */
  error?: Error & { code?: string };
}

export interface KernelLogReaderOptions {
  /** Skip records up to this sequence number (resume in the same boot). */
  afterSeq?: number;
  /** Only records logged from now on. */
  fromEnd?: boolean;
  batchMax?: number;
}

export interface NativeBinding {
  /** Opens the log on the JS thread (throws its EPERM/EACCES/ENOENT) and reads it on its own thread. */
  KernelLogReader: new (
    path: string,
    options: KernelLogReaderOptions,
    onBatch: (b: KmsgBatch) => void,
  ) => { stop(): void };
  PsiTriggers: new (
    specs: PsiTriggerSpec[],
    onEvent: (name: string, error: Reason | null, event: PsiTriggerEvent) => void,
    options?: { pollUs?: number },
  ) => { stop(): void; stalls(windowUs: number): PsiStall[] };
  /** sd_notify(3) to $NOTIFY_SOCKET; false when not running under systemd. */
  sdNotify(message: string): boolean;
  /** mallopt(M_ARENA_MAX, arenas) for threads that allocate from now on; false where malloc is not glibc's. */
  limitMallocArenas(arenas: number): boolean;
  /**
   * malloc_trim(0) on a worker thread: gives the free pages inside malloc's heap back; false where malloc
   * is not glibc's.
   */
  trimMalloc(): Promise<boolean>;
  /**
   * madvise(MADV_DONTNEED) on this process's clean, read-only, private file mappings (see
   * native/proc/file_pages.h) on a worker thread; `releasedKb` is what they had resident.
   */
  releaseFilePages(): Promise<{ areas: number; releasedKb: number }>;
  Sampler: new (options?: NativeSamplerOptions) => NativeSampler;
  parsers: NativeParsers & {
    gpuProcesses(buf: Buffer, count: number, stride: number, memTotal: number): GpuProcess[] | null;
    /** Parses one /dev/kmsg record ("prio,seq,ts,flags;text\n KEY=value"); null if malformed. */
    kmsgRecord(record: string): KmsgRecord | null;
    /** The areas of a /proc/<pid>/smaps text that releaseFilePages would drop. */
    releasableFileAreas(smaps: string): { start: number; end: number; rssKb: number; path: string }[];
  };
  GpuWorker: new (
    onResult: (jobId: number, result: GpuSampleResult | GpuActionResult, elapsedUs: number) => void,
  ) => NativeGpuWorker;
  GpuEventWatcher: new (
    onEvent: (e: NativeGpuEvent) => void,
    options?: { mask?: number; pollMs?: number },
  ) => NativeGpuEventWatcher;
  nvmlInfo(): NvmlInfo;
  /** pidfd-based, pid-reuse-safe signal (starttime 0: no check). Only src/policy/ calls it. */
  signalProcess(pid: number, starttime: number, signal: number): void;
  /** Regular files under root: no symlink followed, no mount crossed (a worker-thread walk). */
  walkTree(root: string, options?: { maxEntries?: number; maxDepth?: number }): Promise<WalkResult>;
  /** Deletes files (relative to root) the tmpfiles way; only the policy gate's acts call it. */
  deleteUnder(root: string, paths: string[]): Promise<DeleteOutcome[]>;
  /** Creates a file and fallocates `bytes` real blocks (ENOSPC if they are not there). */
  reserveSpace(path: string, bytes: number): Promise<void>;
  /**
   * Copies `source` to the absolute `target` following no symlink on the way (openat O_NOFOLLOW
   * from "/"), written beside it, verified and renamed over it. `refusedAt` names the component
   * that was a symlink or not a directory.
   */
  restoreFile(source: string, target: string): Promise<{ ok: boolean; error?: string; refusedAt?: string }>;
  /** Resolves true once the process exited (or was already gone), false on timeout. */
  waitForExit(pid: number, starttime: number, timeoutMs: number): Promise<boolean>;
  /** InfiniBand devices and ports under <sysfsRoot>/class/infiniband (ENOENT: none on this node). */
  readInfiniband(sysfsRoot: string): Promise<IbDeviceSample[]>;
  /** The mount table (normally /proc/self/mountinfo). */
  readMounts(mountinfoPath: string): Promise<MountSample[]>;
  /** The kernel's file table: <procRoot>/sys/fs/file-nr. */
  readFileNr(procRoot: string): Promise<{ allocated: number; unused: number; max: number }>;
  /** Open descriptors and RLIMIT_NOFILE of each pid. */
  readProcessFds(pids: number[]): Promise<ProcessFdSample[]>;
  HostReader: new () => NativeHostReaderBinding;
  /** The packed host sample's field tables, by group (native/napi/host_layout.h). */
  hostLayout: Record<string, PackedGroupLayout>;
  /** samplePacked's option bits by option name. */
  hostOptionBits: Record<string, number>;
  ProcessTable: new () => NativeProcessTable;
  readProcess(pid: number, options?: ProcessReadOptions): ProcessSample;
  clockTicksPerSecond: number;
  pageSize: number;
  /** The packed process row's fields and the io counters after them (native/napi/process_packed.h). */
  processLayout: { row: PackedGroupLayout; io: PackedGroupLayout };
  abiVersion: number;
}
