/**
 * The design's HealthMonitor: `checkSystemHealth(checkType, thresholds)` returns
 * { status, metrics, recommendations, breached, ... } from native samples, evaluated against
 * thresholds with a sustain window and hysteresis. Takes its clock, host reader, GPU sampler and
 * process table as parameters (tests inject them; defaults are the real ones).
 */
import { parseConfig } from '../config/load.js';
import { DEFAULT_THRESHOLDS, type OvernightConfig, type Thresholds } from '../config/schema.js';
import { GpuHealthTracker, type GpuVerdict } from '../gpu/verdict.js';
import { classifyXid } from '../gpu/xid.js';
import type { GpuSampleOptions, GpuSampleOutcome } from '../gpu/gpu-sampler.js';
import type { SamplerOptions } from '../sampler/sampler.js';
import type { HostSample, HostSampleOptions, NativeHostReader, ProcessSample, ProcessScanOptions } from '../native.js';
import { monotonicNowMs, systemClock, type Clock } from '../util/clock.js';
import { round } from '../util/stats.js';
import { LatencyWindow } from './latency-window.js';
import { cgroupStatus, cpuStatus, diskStatus, gpuDeviceSummary, memoryStatus, pressureStatus, topProcesses, type MemoryStatus } from './metrics.js';
import { ProbeRunner } from './probes.js';
import { recommendations, type Recommendation } from './recommendations.js';
import { compareWithLastRecovery } from './recovery-check.js';
import type { RecoveryJournal, StalledTaskSource, SuspectSource } from './sources.js';
import { ThresholdTracker, type Breach } from './thresholds.js';

export type CheckType = 'quick' | 'full' | 'recovery';
export type HealthStatus = 'healthy' | 'degraded' | 'critical';

export interface HealthReport {
  status: HealthStatus;
  check_type: CheckType;
  timestamp: string;
  duration_ms: number;
  thresholds: Required<Thresholds>;
  metrics: {
    gpu_health: Record<string, unknown>;
    memory_status: MemoryStatus;
    response_times: Record<string, unknown>;
    error_rates: Record<string, unknown>;
    recovery_status: Record<string, unknown>;
    cpu: ReturnType<typeof cpuStatus>;
    pressure: ReturnType<typeof pressureStatus>;
    cgroup: ReturnType<typeof cgroupStatus>;
    disk: ReturnType<typeof diskStatus>;
    processes?: ReturnType<typeof topProcesses>;
    suspects?: { memory_leaks: unknown[]; hangs: unknown[]; stalled_tasks: unknown[] };
  };
  breached: Breach[];
  /** What makes the status critical, one entry per subject (a GPU, a filesystem, memory). */
  critical_faults: CriticalFault[];
  recommendations: Recommendation[];
  /** `recovery` checks: whether the problem the last recovery addressed is gone. */
  recovery_check?: Record<string, unknown>;
}

export interface CriticalFault {
  /** Stable per subject: `memory`, `oom_kill`, `memory_pressure`, `gpu:<uuid>`, `disk:<path>`. */
  subject: string;
  summary: string;
}

export interface GpuSource {
  sample(options?: GpuSampleOptions): Promise<GpuSampleOutcome>;
}

export interface HealthMonitorOptions {
  config?: OvernightConfig;
  clock?: Clock;
  hostReader?: NativeHostReader;
  /** null: this node has no GPUs to look at. */
  gpu?: GpuSource | null;
  processTable?: Pick<import('../sampling/processes.js').ProcessTable, 'scanAsync'>;
  /** Latencies of this server's own tool calls (the server records into it). */
  toolCalls?: LatencyWindow;
  suspects?: SuspectSource;
  recoveries?: RecoveryJournal;
  tasks?: StalledTaskSource;
  /** Whose cgroup to read (default: this process). */
  cgroupPid?: number;
  /**
   * The background readings, when the caller owns them (a test's scripted readings, a harness's
   * own Sampler); start() then makes none and stop() leaves it running. Timestamps are CLOCK_MONOTONIC ms.
   */
  sampler?: BackgroundReadings;
}

/** What the thresholds need of a Sampler: its new readings and rolling statistics. */
export type BackgroundReadings = Pick<import('../sampler/sampler.js').Sampler, 'read' | 'window'>;

export interface CheckOptions {
  signal?: AbortSignal;
  /** Called as a long check makes progress (the MCP tool turns these into notifications). */
  onProgress?: (done: number, total: number, message: string) => void;
}

const abortError = () => Object.assign(new Error('the health check was cancelled'), { name: 'AbortError' });

export class HealthMonitor {
  readonly config: OvernightConfig;
  readonly toolCalls: LatencyWindow;
  private readonly clock: Clock;
  private readonly tracker: ThresholdTracker;
  private readonly gpuTracker: GpuHealthTracker;
  private readonly probes: ProbeRunner;
  private hostReader: NativeHostReader | undefined;
  private gpu: GpuSource | null | undefined;
  private processTable: Pick<import('../sampling/processes.js').ProcessTable, 'scanAsync'> | undefined;
  private prevCpu = new Map<number, { cpuSec: number; starttime: number; t: number }>();
  private lastOomKills: number | null = null;
  private background: NodeJS.Timeout | undefined;
  private lastGpu: { at: number; outcome: GpuSampleOutcome } | null = null;
  private lastHost: HostSample | null = null;
  private sampler: BackgroundReadings | undefined;
  private ownSampler: import('../sampler/sampler.js').Sampler | undefined;
  private samplerModule: typeof import('../sampler/sampler.js') | undefined;

  constructor(private readonly options: HealthMonitorOptions = {}) {
    this.config = options.config ?? parseConfig({});
    this.clock = options.clock ?? systemClock;
    this.tracker = new ThresholdTracker(this.clock, this.config.hysteresis);
    this.gpuTracker = new GpuHealthTracker({ xidWindowMs: this.config.gpu.xidWindowSec * 1000 });
    this.toolCalls = options.toolCalls ?? new LatencyWindow(this.clock, this.config.responseWindowMs);
    this.probes = new ProbeRunner(this.config.probes, this.clock, this.config.responseWindowMs);
    this.hostReader = options.hostReader;
    this.gpu = options.gpu;
    this.processTable = options.processTable;
  }

  /** Lets later engines plug in (the server wires recovery and progress after construction). */
  attach(sources: Pick<HealthMonitorOptions, 'suspects' | 'recoveries' | 'tasks'>): void {
    Object.assign(this.options, sources);
  }

  private async reader(): Promise<NativeHostReader> {
    if (!this.hostReader) this.hostReader = (await import('../sampling/host.js')).createHostReader();
    return this.hostReader;
  }

  private async gpuSource(): Promise<GpuSource | null> {
    if (this.gpu === undefined) {
      const { gpuSampler, nvmlInfo } = await import('../gpu/gpu-sampler.js');
      // No library: no GPU work at all (and no GPU thread).
      this.gpu = nvmlInfo().loaded ? gpuSampler() : null;
    }
    return this.gpu;
  }

  /**
   * Samples in the background so that sustain windows see real history: the native Sampler thread
   * takes memory, CPU, PSI and cgroup samples; an unref'd timer feeds each into the thresholds
   * (with its own timestamp) and checks disks. With `processes`, the same Sampler also scans the
   * agent's processes for the ProcessWatch (see `backgroundSampler`). Call prepareBackground() first.
   */
  start(intervalMs = this.config.sampleIntervalMs, extra: Pick<SamplerOptions, 'processes'> = {}): void {
    if (this.background) return;
    const { Sampler } = this.samplerModule ?? {};
    if (this.options.sampler) this.sampler = this.options.sampler;
    else if (Sampler) {
      this.sampler = this.ownSampler = new Sampler({ intervalUs: intervalMs * 1000, signals: ['memory', 'cpu', 'psi', 'cgroup'], ringSize: 4096, ...extra }).start();
    }
    this.background = setInterval(() => {
      try {
        this.feedFromSampler();
      } catch {
        /* a sampler hiccup must not stop the monitor */
      }
    }, intervalMs);
    this.background.unref();
    this.probes.start();
  }

  /** The background Sampler (one per server or monitor process), while started. */
  get backgroundSampler(): import('../sampler/sampler.js').Sampler | undefined {
    return this.ownSampler;
  }

  /** Loads the sampler module (kept lazy so that library users who never start() do not load it). */
  async prepareBackground(): Promise<void> {
    this.samplerModule ??= await import('../sampler/sampler.js');
  }

  /**
   * Feeds the readings the Sampler took since the last feed into the thresholds, each at its own
   * time (monotonic sample times mapped onto the clock), judged against `th` (the check's limits
   * when a check asks, the configuration's on the timer). Returns whether a sampler is running.
   */
  private feedFromSampler(th: Required<Thresholds> = this.effectiveThresholds()): boolean {
    if (!this.sampler) return false;
    const b = this.sampler.read();
    if (!b.count) return true;
    const col = (n: string) => (b.channels.includes(n) ? b.column(n) : null);
    const used = col('mem_used_bytes');
    const avail = col('mem_available_bytes');
    const ws = col('cg_mem_working_set_bytes');
    const lim = col('cg_mem_limit_bytes');
    const busy = col('cpu_busy');
    const psi = col('psi_memory_some_avg10');
    const psiCpu = col('psi_cpu_some_avg10');
    const monoNow = monotonicNowMs();
    const now = this.clock.now();
    for (let i = 0; i < b.count; i++) {
      const at = now - Math.max(0, monoNow - b.timestamps[i]!);
      if (used && avail) {
        let frac = used[i]! / (used[i]! + avail[i]!);
        if (ws && lim && Number.isFinite(lim[i]!) && Number.isFinite(ws[i]!)) frac = Math.max(frac, ws[i]! / lim[i]!);
        if (Number.isFinite(frac)) this.tracker.observe('memory', frac, th.memory, 'fraction', undefined, at);
      }
      if (busy && Number.isFinite(busy[i]!)) this.tracker.observe('cpu', busy[i]!, th.cpu, 'fraction', undefined, at);
      if (psi && Number.isFinite(psi[i]!)) this.tracker.observe('memoryPressure', psi[i]!, th.memoryPressure, 'percent', undefined, at);
      if (psiCpu && Number.isFinite(psiCpu[i]!)) this.tracker.observe('cpuPressure', psiCpu[i]!, th.cpuPressure, 'percent', undefined, at);
    }
    return true;
  }

  /** Recent statistics from the background sampler (null when it is not running). */
  recentWindow(windowMs: number) {
    return this.sampler?.window(windowMs) ?? null;
  }

  stop(): void {
    if (this.background) clearInterval(this.background);
    this.background = undefined;
    this.ownSampler?.stop();
    this.sampler = this.ownSampler = undefined;
    this.probes.stop();
  }

  private effectiveThresholds(overrides?: Partial<Thresholds>): Required<Thresholds> {
    const out = { ...DEFAULT_THRESHOLDS } as Required<Thresholds>;
    for (const src of [this.config.thresholds, overrides ?? {}]) {
      for (const [k, v] of Object.entries(src)) if (v !== undefined) (out as Record<string, number>)[k] = v;
    }
    return out;
  }

  private async observeHost(t: Partial<Thresholds>, opts: HostSampleOptions = {}): Promise<{ sample: HostSample; memory: MemoryStatus; breaches: Breach[] }> {
    const th = this.effectiveThresholds(t);
    const sample = (await this.reader()).sample({ ...opts, ...(this.options.cgroupPid ? { cgroupPid: this.options.cgroupPid } : {}) });
    const breaches: Breach[] = [];
    const add = (b: Breach | null) => b && breaches.push(b);
    const mem = memoryStatus(sample);
    const memDetail = mem.effective ? `memory (${mem.effective.source})` : undefined;
    // Sustain windows run over the background sampler's readings when it runs: a check adds no
    // reading of its own (its CPU figure covers only the time since the previous check).
    if (this.feedFromSampler(th)) {
      add(this.tracker.current('memory', th.memory, 'fraction', memDetail));
      add(this.tracker.current('cpu', th.cpu, 'fraction'));
      add(this.tracker.current('memoryPressure', th.memoryPressure, 'percent'));
      add(this.tracker.current('cpuPressure', th.cpuPressure, 'percent'));
    } else {
      const judge = this.judgeCheckReading.bind(this);
      if (mem.effective) add(judge('memory', mem.effective.used_fraction, th.memory, 'fraction', memDetail));
      const busy = sample.cpu?.utilization?.busy;
      if (busy !== undefined) add(judge('cpu', busy, th.cpu, 'fraction'));
      const psi = sample.psi?.memory?.some?.avg10;
      if (psi !== undefined) add(judge('memoryPressure', psi, th.memoryPressure, 'percent'));
      const psiCpu = sample.psi?.cpu?.some?.avg10;
      if (psiCpu !== undefined) add(judge('cpuPressure', psiCpu, th.cpuPressure, 'percent'));
    }
    // A busy CPU is the normal state of a compute node: informational unless PSI says work waits for a CPU.
    const cpu = breaches.find((b) => b.metric === 'cpu');
    if (cpu && !breaches.some((b) => b.metric === 'cpuPressure')) cpu.informational = true;
    for (const d of diskStatus(sample)) {
      if ('error' in d) continue;
      add(this.tracker.observeLevel(`disk:${d.path}`, Math.max(d.used_fraction, d.inodes_used_fraction), th.disk, 'fraction', `filesystem ${d.path}`));
    }
    return { sample, memory: mem, breaches };
  }

  /**
   * A reading a check took itself (no background sampler, or a GPU read). The first one of a
   * metric is all a one-shot check (`overnight health`, NHC) will ever have, so it is judged as it
   * is; later ones count over the sustain window.
   */
  private judgeCheckReading(metric: string, value: number, limit: number, unit: Breach['unit'], detail?: string): Breach | null {
    return this.tracker.seen(metric) ? this.tracker.observe(metric, value, limit, unit, detail) : this.tracker.observeLevel(metric, value, limit, unit, detail);
  }

  /**
   * The design's check_system_health. `quick`: cheap signals only (memory, load, PSI, cgroup,
   * GPU memory/utilization/temperature). `full`: everything, with per-GPU verdicts, disks, top
   * processes and suspects. `recovery`: a full check compared with the state before the last recovery.
   */
  async checkSystemHealth(checkType: CheckType = 'quick', thresholds?: Partial<Thresholds>, opts: CheckOptions = {}): Promise<HealthReport> {
    const t0 = performance.now();
    const full = checkType !== 'quick';
    const th = this.effectiveThresholds(thresholds);
    const steps = checkType === 'recovery' ? 5 : full ? 4 : 2;
    let step = 0;
    const progress = (msg: string) => {
      if (opts.signal?.aborted) throw abortError();
      opts.onProgress?.(++step, steps, msg);
    };

    // perCpu even for quick: the CPU count (and load per CPU) comes from the per-CPU lines.
    const { sample, memory, breaches } = await this.observeHost(th, { perCpu: true, paths: this.config.paths, psi: true });
    const add = (b: Breach | null) => b && breaches.push(b);
    this.lastHost = sample;
    progress('host sampled');

    const gpuSource = await this.gpuSource();
    let gpuHealth: Record<string, unknown> = { available: false, reason: 'no NVIDIA driver on this node (libnvidia-ml.so.1 not found)' };
    let verdicts: GpuVerdict[] = [];
    if (gpuSource) {
      const outcome = await gpuSource.sample({ quick: !full, processes: full, timeoutMs: this.config.gpuTimeoutMs });
      this.lastGpu = { at: this.clock.now(), outcome };
      if (outcome.available) {
        const now = this.clock.now();
        verdicts = full ? this.gpuTracker.verdicts(outcome.devices, now) : [];
        for (const d of outcome.devices) {
          if (d.memory) add(this.judgeCheckReading(`gpu.${d.index}.memory`, d.memory.used / d.memory.total, th.gpu, 'fraction', `GPU ${d.index} memory`));
          if (!full && (d.lost || (d.temperatureC != null && d.slowdownTemperatureC != null && d.temperatureC >= d.slowdownTemperatureC))) {
            verdicts.push(...this.gpuTracker.verdicts([d], now));
          }
        }
        const byIndex = new Map(verdicts.map((v) => [v.index, v]));
        gpuHealth = {
          available: true,
          driver_version: outcome.driverVersion,
          device_count: outcome.deviceCount,
          devices: outcome.devices.map((d) => gpuDeviceSummary(d, byIndex.get(d.index))),
          ...(full ? { xid_window_s: this.config.gpu.xidWindowSec, recent_xids: this.gpuTracker.recentXids(now).map((x) => { const c = classifyXid(x.xid); return { ...x, cause: c.cause, severity: c.severity, action: c.action, description: c.description }; }) } : {}),
          sample_ms: round(outcome.elapsedMs, 3),
        };
      } else {
        gpuHealth = { available: false, reason: outcome.reason, code: outcome.code, ...('timedOut' in outcome && outcome.timedOut ? { timed_out: true } : {}) };
      }
    }
    progress('GPUs sampled');

    let processes: ReturnType<typeof topProcesses> | undefined;
    if (full) {
      const table = await this.scanProcesses();
      processes = topProcesses(table.table, table.cpuShare);
      progress('processes scanned');
      await this.probes.runDue();
      progress('probes run');
    }

    // Response times and error rates: this server's tool calls and each probe (already windowed levels).
    const tools = this.toolCalls.summary();
    const probeSummaries = this.probes.summaries();
    if (tools.p95Ms !== null && tools.count >= 5) add(this.tracker.observeLevel('responseTime', tools.p95Ms, th.responseTime, 'ms', 'tool calls'));
    if (tools.errorRate !== null && tools.count >= 5) add(this.tracker.observeLevel('errorRate', tools.errorRate, th.errorRate, 'fraction', 'tool calls'));
    for (const p of probeSummaries) {
      if (p.summary.p95Ms !== null) add(this.tracker.observeLevel(`responseTime:${p.name}`, p.summary.p95Ms, th.responseTime, 'ms', `probe ${p.name}`));
      if (p.summary.errorRate !== null) add(this.tracker.observeLevel(`errorRate:${p.name}`, p.summary.errorRate, th.errorRate, 'fraction', `probe ${p.name}`));
    }

    const leaks = this.options.suspects?.leakSuspects() ?? [];
    const hangs = this.options.suspects?.hangSuspects() ?? [];
    const stalled = this.options.tasks?.stalledTasks(this.clock.now()) ?? [];
    const rec = this.options.recoveries;
    const last = rec?.lastRecovery() ?? null;

    // OOM kills since the previous check are critical: the kernel already killed something.
    const oom = memory.cgroup?.oom_kills ?? null;
    const newOomKills = oom !== null && this.lastOomKills !== null ? oom - this.lastOomKills : 0;
    if (oom !== null) this.lastOomKills = oom;

    // Each critical fault on its own subject, so an alert about one is not sent again when another comes or goes.
    const criticalFaults: CriticalFault[] = [];
    const memFrac = memory.effective?.used_fraction ?? 0;
    if (memFrac >= Math.max(0.95, th.memory)) criticalFaults.push({ subject: 'memory', summary: `memory at ${(memFrac * 100).toFixed(1)}% (${memory.effective!.source})` });
    if (newOomKills > 0) criticalFaults.push({ subject: 'oom_kill', summary: `${newOomKills} OOM kill(s) in the cgroup since the last check` });
    if ((memory.pressure_full_avg10 ?? 0) >= 20) criticalFaults.push({ subject: 'memory_pressure', summary: `all tasks stalled on memory ${memory.pressure_full_avg10}% of the last 10 s` });
    for (const v of verdicts) if (v.status === 'failed') criticalFaults.push({ subject: `gpu:${v.uuid ?? v.index}`, summary: `GPU ${v.index} failed: ${v.reasons.join('; ')}` });
    for (const b of breaches) if (b.metric.startsWith('disk:') && b.observed >= 0.98) criticalFaults.push({ subject: b.metric, summary: `${b.detail ?? b.metric} at ${(b.observed * 100).toFixed(1)}%` });
    const critical = criticalFaults.length > 0;
    const degraded = breaches.some((b) => !b.informational) || verdicts.some((v) => v.status === 'degraded') || leaks.length > 0 || hangs.length > 0 || stalled.length > 0;
    const status: HealthStatus = critical ? 'critical' : degraded ? 'degraded' : 'healthy';

    const report: HealthReport = {
      status,
      check_type: checkType,
      timestamp: new Date(this.clock.now()).toISOString(),
      duration_ms: 0,
      thresholds: th,
      metrics: {
        gpu_health: gpuHealth,
        memory_status: memory,
        response_times: {
          window_s: this.config.responseWindowMs / 1000,
          tool_calls: { count: tools.count, p50_ms: tools.p50Ms, p95_ms: tools.p95Ms, p99_ms: tools.p99Ms },
          probes: probeSummaries.map((p) => ({ name: p.name, target: p.target, count: p.summary.count, p50_ms: p.summary.p50Ms, p95_ms: p.summary.p95Ms, p99_ms: p.summary.p99Ms })),
        },
        error_rates: {
          window_s: this.config.responseWindowMs / 1000,
          tool_calls: { count: tools.count, errors: tools.errors, rate: tools.errorRate },
          probes: probeSummaries.map((p) => ({ name: p.name, count: p.summary.count, errors: p.summary.errors, rate: p.summary.errorRate, ...(p.summary.lastError ? { last_error: p.summary.lastError } : {}) })),
          ...(newOomKills > 0 ? { oom_kills_since_last_check: newOomKills } : {}),
        },
        recovery_status: rec
          ? { last: last ? { id: last.id, operation_type: last.operation_type, status: last.status, finished_at: last.finished_at } : null, last_hour: rec.recentCounts(3600_000) }
          : { last: null, note: 'no recovery engine attached' },
        cpu: { ...cpuStatus(sample), ...this.recentCpu() },
        pressure: pressureStatus(sample),
        cgroup: cgroupStatus(sample),
        disk: diskStatus(sample),
        ...(processes ? { processes } : {}),
        ...(full ? { suspects: { memory_leaks: leaks, hangs, stalled_tasks: stalled } } : {}),
      },
      breached: breaches,
      critical_faults: criticalFaults,
      recommendations: recommendations({ breached: breaches, memory, gpuVerdicts: verdicts, leaks, hangs, stalled, topByMemory: processes?.by_memory ?? [], checkType }),
    };
    if (checkType === 'recovery') {
      report.recovery_check = compareWithLastRecovery(report, last);
      progress('compared with the last recovery');
    }
    report.duration_ms = round(performance.now() - t0, 3);
    return report;
  }

  /** CPU busy over the last minute from the background sampler, when it runs. */
  private recentCpu(): { busy_last_60s?: { mean: number | null; p95: number | null; max: number | null; samples: number } } {
    const w = this.recentWindow(60_000);
    const b = w?.signals.cpu_busy;
    return b ? { busy_last_60s: { mean: b.mean === null ? null : round(b.mean, 4), p95: b.p95 === null ? null : round(b.p95, 4), max: b.max, samples: w!.count } } : {};
  }

  /** Scans the process table off the JS thread; CPU shares are since the previous scan. */
  private async scanProcesses(): Promise<{ table: ProcessSample[]; cpuShare: Map<number, number> }> {
    if (!this.processTable) this.processTable = (await import('../sampling/processes.js')).createProcessTable();
    const opts: ProcessScanOptions = { status: true };
    const table = await this.processTable.scanAsync(opts);
    const { cpuSeconds } = await import('../sampling/processes.js');
    const now = this.clock.now();
    const cpuShare = new Map<number, number>();
    const next = new Map<number, { cpuSec: number; starttime: number; t: number }>();
    for (const p of table) {
      const cpuSec = cpuSeconds(p);
      const prev = this.prevCpu.get(p.pid);
      if (prev && prev.starttime === p.starttime && now > prev.t) cpuShare.set(p.pid, (cpuSec - prev.cpuSec) / ((now - prev.t) / 1000));
      next.set(p.pid, { cpuSec, starttime: p.starttime, t: now });
    }
    this.prevCpu = next;
    return { table, cpuShare };
  }

  /** The host sample of the last check (for metrics exposition without sampling again). */
  lastHostSample(): HostSample | null {
    return this.lastHost;
  }

  /** The last GPU outcome (for engines that need GPU state without sampling again). */
  lastGpuSample(): { at: number; outcome: GpuSampleOutcome } | null {
    return this.lastGpu;
  }

  /** Forgets a GPU's Xids once it has been reset. */
  clearGpuXids(gpuIndex: number): void {
    this.gpuTracker.clearXids(gpuIndex);
  }

  /** Each GPU's last Xid within gpu.xidWindowSec (for DCGM_FI_DEV_XID_ERRORS). */
  lastXids(nowMs = this.clock.now()): Map<number, number> {
    return this.gpuTracker.lastXids(nowMs);
  }

  /** Feeds an Xid (from an event subscription) into the GPU verdicts. */
  recordXid(gpuIndex: number, xid: number, timeMs: number): void {
    this.gpuTracker.recordXid({ gpuIndex, xid, timeMs });
  }
}
