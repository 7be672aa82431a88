/**
 * The design's HealthMonitor: `checkSystemHealth(checkType, thresholds)` returns
 * { status, metrics, recommendations, breached, ... } from native samples, evaluated against
 * thresholds with a sustain window and hysteresis. Takes its clock, host reader, GPU sampler and
 * process table as parameters (tests inject them; defaults are the real ones).
 */
import { parseConfig } from '../config/load.js';
import { DEFAULT_THRESHOLDS, type OvernightConfig, type Thresholds } from '../config/schema.js';
import { GpuHealthTracker, type GpuVerdict } from '../gpu/verdict.js';
import { gpuSampler, nvmlInfo, type GpuSampleOptions, type GpuSampleOutcome } from '../gpu/gpu-sampler.js';
import { createHostReader } from '../readers/host.js';
import { createProcessTable, type ProcessTable } from '../readers/processes.js';
import { Sampler, type SamplerOptions } from '../sampler/sampler.js';
import type { HostSample, HostSampleOptions, NativeHostReader, ProcessSample, ProcessScanOptions } from '../native.js';
import { monotonicNowMs, systemClock, type Clock } from '../util/clock.js';
import { round } from '../util/stats.js';
import { normalizeBusId } from '../events/kmsg-matcher.js';
import { LatencyWindow } from './latency-window.js';
import { WatchedCgroupResolver } from './watched-cgroup.js';
import {
  cgroupStatus,
  cpuStatus,
  diskStatus,
  memoryStatus,
  pressureStatus,
  topProcesses,
  type MemoryStatus,
} from './metrics.js';
import { NodeChecker, type NodeChecksReport } from '../node-checks/node-checker.js';
import { ProbeRunner } from './probes.js';
import { recommendations } from './recommendations.js';
import type { NodeEventSource, RecoveryJournal, StalledTaskSource, SuspectSource } from './sources.js';
import { ThresholdTracker, type Breach } from './thresholds.js';
import { gpuHealthOf, NO_DRIVER, type GpuHealth } from './gpu-health.js';
import type { HealthStatus } from './report.js';
import { compareWithLastRecovery } from './recovery-check.js';
import { CpuShares } from './cpu-shares.js';
import { criticalFaultsOf, latencyMetrics, overallStatus } from './status.js';
import { feedReadings } from './feed.js';
import { QUICK_MAX_AGE_CAP_MS, Reused } from './quick-cache.js';
import type { NodeEventAssessment, RecoveryRecord, StalledTask } from './sources.js';
import { judgeMemoryStalls, memoryStallRecommendation, type MemoryStallSource } from './memory-stall.js';

import type { CheckType, HealthReport } from './report.js';

// The report's types live in report.ts; re-exported here, where their importers have always found them.
export type {
  CheckType,
  CriticalFault,
  ErrorRates,
  HealthReport,
  HealthStatus,
  HealthSuspects,
  RecoveryCheck,
  RecoveryStatusMetric,
  ResponseTimes,
} from './report.js';

export interface GpuSource {
  sample(options?: GpuSampleOptions): Promise<GpuSampleOutcome>;
}

export interface HealthMonitorOptions {
  config?: OvernightConfig;
  clock?: Clock;
  hostReader?: NativeHostReader;
  /** null: this node has no GPUs to look at. */
  gpu?: GpuSource | null;
  processTable?: Pick<ProcessTable, 'scanAsync'>;
  /** Latencies of this server's own tool calls (the server records into it). */
  toolCalls?: LatencyWindow;
  suspects?: SuspectSource;
  /** The node's event history (kernel log, NVML events of every process), when a store is open. */
  events?: NodeEventSource;
  recoveries?: RecoveryJournal;
  tasks?: StalledTaskSource;
  /** Whose cgroup to read (default: this process). */
  cgroupPid?: number;
  /**
   * The background readings, when the caller owns them (a test's scripted readings, a harness's
   * own Sampler); start() then makes none and stop() leaves it running. Timestamps are CLOCK_MONOTONIC ms.
   */
  sampler?: BackgroundReadings;
  /** The node checker (default: one built from the config). */
  nodeChecks?: NodeChecker;
}

/** What the thresholds need of a Sampler: its new readings and rolling statistics. */
export type BackgroundReadings = Pick<Sampler, 'read' | 'window'>;

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
  private readonly xidsClearedAt = new Map<number, number>();
  private readonly fedXids = new Set<string>();
  private readonly probes: ProbeRunner;
  /** InfiniBand, mounts, daemons, zombies, descriptors and the operators' own checks. */
  readonly nodeChecks: NodeChecker;
  private hostReader: NativeHostReader | undefined;
  private gpu: GpuSource | null | undefined;
  private processTable: Pick<ProcessTable, 'scanAsync'> | undefined;
  private readonly cpuShares = new CpuShares();
  private lastOomKills: number | null = null;
  private background: NodeJS.Timeout | undefined;
  private lastGpu: { at: number; outcome: GpuSampleOutcome } | null = null;
  private lastHost: HostSample | null = null;
  private sampler: BackgroundReadings | undefined;
  private ownSampler: Sampler | undefined;
  private readonly watchedCgroup: WatchedCgroupResolver;
  /** While the background sampler runs: how old a quick check's host reading and event verdict may be (see quick-cache.ts). */
  private quickMaxAgeMs = 0;
  private readonly quickHost = new Reused<HostSample>();
  private readonly quickEvents = new Reused<NodeEventAssessment | null>();
  private readonly quickTasks = new Reused<StalledTask[]>();
  private readonly quickJournal = new Reused<{
    last: RecoveryRecord | null;
    lastHour: { recovered: number; failed: number; escalated: number };
  } | null>();
  /** The sampler's 60 s window: recomputed only when new samples arrived (and at most once per tick). */
  private readonly cpuWindow = new Reused<ReturnType<BackgroundReadings['window']> | null>();
  private memoryStallSource: MemoryStallSource | null = null;

  constructor(private readonly options: HealthMonitorOptions = {}) {
    this.config = options.config ?? parseConfig({});
    this.clock = options.clock ?? systemClock;
    this.tracker = new ThresholdTracker(this.clock, this.config.hysteresis);
    this.gpuTracker = new GpuHealthTracker({ xidWindowMs: this.config.gpu.xidWindowSec * 1000 });
    this.toolCalls = options.toolCalls ?? new LatencyWindow(this.clock, this.config.responseWindowMs);
    this.probes = new ProbeRunner(this.config.probes, this.clock, this.config.responseWindowMs);
    this.nodeChecks = options.nodeChecks ?? new NodeChecker(this.config, { clock: this.clock });
    this.hostReader = options.hostReader;
    this.gpu = options.gpu;
    this.processTable = options.processTable;
    this.watchedCgroup = new WatchedCgroupResolver(this.config);
  }

  /** The native reader is made on first use, so that constructing a monitor never loads the addon. */
  private reader(): NativeHostReader {
    this.hostReader ??= createHostReader();
    return this.hostReader;
  }

  private gpuSource(): GpuSource | null {
    if (this.gpu === undefined) {
      // No library: no GPU work at all (and no GPU thread).
      this.gpu = nvmlInfo().loaded ? gpuSampler() : null;
    }
    return this.gpu;
  }

  /**
   * Samples in the background so that sustain windows see real history: the native Sampler thread
   * takes memory, CPU, PSI and cgroup samples; an unref'd timer feeds each into the thresholds
   * (with its own timestamp) and checks disks. With `processes`, the same Sampler also scans the
   * agent's processes for the ProcessWatch (see `backgroundSampler`). With `options.sampler` the
   * caller's readings are fed instead and no Sampler is made.
   */
  start(intervalMs = this.config.sampleIntervalMs, extra: Pick<SamplerOptions, 'processes'> = {}): void {
    if (this.background) return;
    if (this.options.sampler) this.sampler = this.options.sampler;
    else {
      this.sampler = this.ownSampler = new Sampler({
        intervalUs: intervalMs * 1000,
        signals: ['memory', 'cpu', 'psi', 'cgroup'],
        ringSize: 4096,
        ...extra,
      }).start();
    }
    this.quickMaxAgeMs = Math.min(intervalMs, QUICK_MAX_AGE_CAP_MS);
    this.background = setInterval(() => {
      try {
        this.feedFromSampler();
      } catch {
        /* a sampler hiccup must not stop the monitor */
      }
    }, intervalMs);
    this.background.unref();
    this.probes.start();
    this.nodeChecks.operatorChecks.start();
  }

  /** The monitor's pressure watch: its measured memory stalls become findings of every check while attached. */
  attachMemoryStalls(source: MemoryStallSource | null): void {
    this.memoryStallSource = source;
  }

  /** The background Sampler (one per server or monitor process), while started. */
  get backgroundSampler(): Sampler | undefined {
    return this.ownSampler;
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
    this.cpuWindow.invalidate();
    feedReadings(b, this.tracker, th, {
      now: this.clock.now(),
      monoNow: monotonicNowMs(),
      ownCgroupSpeaks: !this.watchedCgroup.configured,
    });
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
    this.quickMaxAgeMs = 0;
    this.quickHost.invalidate();
    this.quickEvents.invalidate();
    this.quickTasks.invalidate();
    this.quickJournal.invalidate();
    this.cpuWindow.invalidate();
    this.probes.stop();
    this.nodeChecks.operatorChecks.stop();
  }

  private effectiveThresholds(overrides?: Partial<Thresholds>): Required<Thresholds> {
    const out = { ...DEFAULT_THRESHOLDS } as Required<Thresholds>;
    for (const src of [this.config.thresholds, overrides ?? {}]) {
      for (const [k, v] of Object.entries(src)) if (v !== undefined) (out as Record<string, number>)[k] = v;
    }
    return out;
  }

  /**
   * `reuseMs` > 0 (quick checks while the background sampler runs): a host reading at most that old
   * is reused instead of reading /proc again; `ageMs` says how old the one used is.
   */
  private observeHost(
    t: Partial<Thresholds>,
    opts: HostSampleOptions = {},
    reuseMs = 0,
  ): { sample: HostSample; memory: MemoryStatus; breaches: Breach[]; ageMs: number } {
    const th = this.effectiveThresholds(t);
    const watched = this.options.cgroupPid ? null : this.watchedCgroup.resolve();
    const cgroupPid = this.options.cgroupPid ?? (watched && 'pid' in watched ? watched.pid : undefined);
    const take = () => {
      const s = this.reader().sample({
        ...opts,
        ...(cgroupPid ? { cgroupPid } : {}),
        ...(watched && 'error' in watched ? { cgroup: false } : {}),
      });
      // A watched cgroup that cannot be read is reported as such, never replaced by our own.
      if (watched && 'error' in watched) s.unavailable.cgroup = { code: 'ENOENT', message: watched.error };
      return s;
    };
    // A full check always reads afresh, and leaves its reading for the quick checks after it.
    const key = `${cgroupPid ?? ''}:${watched && 'error' in watched ? watched.error : ''}`;
    const { value: sample, ageMs } = this.quickHost.get(reuseMs, take, key);
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
      add(
        this.tracker.observeLevel(
          `disk:${d.path}`,
          Math.max(d.used_fraction, d.inodes_used_fraction),
          th.disk,
          'fraction',
          `filesystem ${d.path}`,
        ),
      );
    }
    return { sample, memory: mem, breaches, ageMs };
  }

  /**
   * A reading a check took itself (no background sampler, or a GPU read). The first one of a
   * metric is all a one-shot check (`overnight health`, NHC) will ever have, so it is judged as it
   * is; later ones count over the sustain window.
   */
  private judgeCheckReading(
    metric: string,
    value: number,
    limit: number,
    unit: Breach['unit'],
    detail?: string,
  ): Breach | null {
    return this.tracker.seen(metric)
      ? this.tracker.observe(metric, value, limit, unit, detail)
      : this.tracker.observeLevel(metric, value, limit, unit, detail);
  }

  /**
   * The design's check_system_health. `quick`: cheap signals only (memory, load, PSI, cgroup,
   * GPU memory/utilization/temperature). `full`: everything, with per-GPU verdicts, disks, top
   * processes and suspects. `recovery`: a full check compared with the state before the last recovery.
   */
  async checkSystemHealth(
    checkType: CheckType = 'quick',
    thresholds?: Partial<Thresholds>,
    opts: CheckOptions = {},
  ): Promise<HealthReport> {
    const t0 = performance.now();
    const full = checkType !== 'quick';
    const th = this.effectiveThresholds(thresholds);
    const steps = checkType === 'recovery' ? 6 : full ? 5 : 2;
    let step = 0;
    const progress = (msg: string) => {
      if (opts.signal?.aborted) throw abortError();
      opts.onProgress?.(++step, steps, msg);
    };

    // perCpu even for quick: the CPU count (and load per CPU) comes from the per-CPU lines.
    const reuseMs = full ? 0 : this.quickMaxAgeMs;
    const { sample, memory, breaches, ageMs } = this.observeHost(
      th,
      { perCpu: true, paths: this.config.paths, psi: true },
      reuseMs,
    );
    const add = (b: Breach | null) => b && breaches.push(b);
    this.lastHost = sample;
    const stallReadings = this.memoryStallSource?.memoryStalls() ?? null;
    const stalls = judgeMemoryStalls(stallReadings ?? [], this.tracker, th);
    breaches.push(...stalls.breaches);
    progress('host sampled');

    const gpu = await this.gpuHealth(full);
    const { health: gpuHealth, verdicts } = gpu;
    if (gpu.outcome?.available) {
      for (const d of gpu.outcome.devices)
        if (d.memory)
          add(
            this.judgeCheckReading(
              `gpu.${d.index}.memory`,
              d.memory.used / d.memory.total,
              th.gpu,
              'fraction',
              `GPU ${d.index} memory`,
            ),
          );
    }
    progress('GPUs sampled');

    let processes: ReturnType<typeof topProcesses> | undefined;
    let nodeChecks: NodeChecksReport | undefined;
    if (full) {
      const table = await this.scanProcesses();
      processes = topProcesses(table.table, table.cpuShare);
      progress('processes scanned');
      await this.probes.runDue();
      progress('probes run');
      const g = this.lastGpu?.outcome;
      nodeChecks = await this.nodeChecks.run(
        table.table,
        !gpu.outcome
          ? { available: false, reason: NO_DRIVER }
          : g?.available
            ? g
            : g
              ? { available: false, reason: g.reason }
              : undefined,
      );
      progress('node checked');
    }
    const nodeFindings = nodeChecks?.findings ?? [];

    // Response times and error rates: this server's tool calls and each probe (already windowed levels).
    const tools = this.toolCalls.summary();
    const probeSummaries = this.probes.summaries();
    if (tools.p95Ms !== null && tools.count >= 5)
      add(this.tracker.observeLevel('responseTime', tools.p95Ms, th.responseTime, 'ms', 'tool calls'));
    if (tools.errorRate !== null && tools.count >= 5)
      add(this.tracker.observeLevel('errorRate', tools.errorRate, th.errorRate, 'fraction', 'tool calls'));
    for (const p of probeSummaries) {
      if (p.summary.p95Ms !== null)
        add(
          this.tracker.observeLevel(
            `responseTime:${p.name}`,
            p.summary.p95Ms,
            th.responseTime,
            'ms',
            `probe ${p.name}`,
          ),
        );
      if (p.summary.errorRate !== null)
        add(
          this.tracker.observeLevel(
            `errorRate:${p.name}`,
            p.summary.errorRate,
            th.errorRate,
            'fraction',
            `probe ${p.name}`,
          ),
        );
    }

    const leaks = this.options.suspects?.leakSuspects() ?? [];
    const hangs = this.options.suspects?.hangSuspects() ?? [];
    // The store's answers (stalled tasks, the recovery journal) are SQLite queries, a third of a
    // quick check's own time: a quick check reuses them for one sampler tick too; full checks ask afresh.
    const stalled = this.quickTasks.get(reuseMs, () => this.options.tasks?.stalledTasks(this.clock.now()) ?? []).value;
    const rec = this.options.recoveries;
    const journal = this.quickJournal.get(reuseMs, () =>
      rec ? { last: rec.lastRecovery(), lastHour: rec.recentCounts(3600_000) } : null,
    ).value;
    const last = journal?.last ?? null;

    // OOM kills since the previous check are critical: the kernel already killed something.
    const oom = memory.cgroup?.oom_kills ?? null;
    const newOomKills = oom !== null && this.lastOomKills !== null ? oom - this.lastOomKills : 0;
    if (oom !== null) this.lastOomKills = oom;

    const criticalFaults = criticalFaultsOf({
      memory,
      memoryLimit: th.memory,
      newOomKills,
      verdicts,
      breaches,
      nodeFindings,
    });
    criticalFaults.push(...stalls.faults);
    const baseStatus = overallStatus(criticalFaults, {
      breaches,
      nodeFindings,
      verdicts,
      suspects: leaks.length + hangs.length + stalled.length,
    });
    // The event history: a fatal Xid any process saw (with or without NVML here), OOM kills in
    // scope, kernel trouble, and GPUs missing against the expected count.
    const lastGpu = this.lastGpu?.outcome;
    const gpuSeen =
      this.gpuSource() && lastGpu?.available
        ? {
            count: lastGpu.devices.length,
            busIds: lastGpu.devices.every((d) => d.busId) ? lastGpu.devices.map((d) => d.busId!) : null,
          }
        : null;
    // A quick check reuses the history's verdict for one sampler tick (it lists no events, and the
    // verdict reads every event in the Xid window: its cost grows with the night's history).
    const assessEvents = () =>
      this.options.events?.assess(
        this.clock.now(),
        { seen: gpuSeen, otherwiseHealthy: baseStatus === 'healthy' },
        full ? 50 : 0,
      ) ?? null;
    const events = full
      ? assessEvents()
      : this.quickEvents.get(reuseMs, assessEvents, `${JSON.stringify(gpuSeen)}:${baseStatus === 'healthy'}`).value;
    // Without NVML here, the Xids other processes stored are still this node's GPUs' history.
    const gpuReport: GpuHealth =
      events && full && !gpuHealth.available ? { ...gpuHealth, recent_xids: events.xids } : gpuHealth;
    // Each event-history finding is a critical fault of its own (its message names the GPU, victim or device).
    // One fault per subject (newest event first), so a GPU that logged twenty fatal Xids is one alert.
    const seen = new Set<string>();
    (events?.critical ?? []).forEach((m, i) => {
      const subject = `event:${events!.critical_subjects[i] ?? m}`;
      if (!seen.has(subject)) criticalFaults.push({ subject, summary: m });
      seen.add(subject);
    });
    const status: HealthStatus =
      criticalFaults.length > 0
        ? 'critical'
        : baseStatus !== 'healthy' || (events?.degraded.length ?? 0) > 0
          ? 'degraded'
          : 'healthy';

    const report: HealthReport = {
      status,
      check_type: checkType,
      timestamp: new Date(this.clock.now()).toISOString(),
      duration_ms: 0,
      sample_age_ms: round(ageMs, 1),
      thresholds: th,
      metrics: {
        gpu_health: gpuReport,
        memory_status: memory,
        ...latencyMetrics(this.config.responseWindowMs / 1000, tools, probeSummaries, newOomKills),
        recovery_status: rec
          ? {
              last: last
                ? {
                    id: last.id,
                    operation_type: last.operation_type,
                    status: last.status,
                    finished_at: last.finished_at,
                  }
                : null,
              last_hour: journal?.lastHour ?? rec.recentCounts(3600_000),
            }
          : { last: null, note: 'no recovery engine attached' },
        cpu: { ...cpuStatus(sample), ...this.recentCpu() },
        pressure: { ...pressureStatus(sample), ...(stallReadings ? { memory_stall: stallReadings } : {}) },
        cgroup: cgroupStatus(sample),
        disk: diskStatus(sample),
        ...(processes ? { processes } : {}),
        ...(full ? { suspects: { memory_leaks: leaks, hangs, stalled_tasks: stalled } } : {}),
        ...(events
          ? {
              events: {
                critical: events.critical,
                degraded: events.degraded,
                ...(full ? { recent: events.recent } : {}),
                ...(events.gpu_inventory ? { gpu_inventory: events.gpu_inventory } : {}),
                kernel_log: events.kernel_log,
              },
            }
          : {}),
        ...(nodeChecks ? { node_checks: nodeChecks } : {}),
      },
      breached: breaches,
      critical_faults: criticalFaults,
      recommendations: [
        ...recommendations({
          breached: breaches,
          memory,
          gpuVerdicts: verdicts,
          leaks,
          hangs,
          stalled,
          topByMemory: processes?.by_memory ?? [],
          checkType,
        }),
        ...stalls.breaches.map((b) => memoryStallRecommendation(b, th.memoryStallCritical)),
        ...nodeFindings.map((f) => ({
          severity: f.severity === 'critical' ? ('critical' as const) : ('warning' as const),
          message: f.action ? `${f.message}: ${f.action}` : f.message,
        })),
      ],
    };
    if (checkType === 'recovery') {
      report.recovery_check = compareWithLastRecovery(report, last);
      progress('compared with the last recovery');
    }
    report.duration_ms = round(performance.now() - t0, 3);
    return report;
  }

  /**
   * Samples the GPUs and judges them: the report's GPU part. `full`: every GPU gets a verdict (Xids,
   * retired pages, PCIe replays, ...) and the recent Xids are listed; quick: only a lost or hot GPU
   * is judged. Engines that need only the GPUs' state (a GPU reset and its verification) ask this
   * instead of running a whole check. `outcome` is null on a node without the NVIDIA library.
   */
  async gpuHealth(
    full: boolean,
  ): Promise<{ health: GpuHealth; verdicts: GpuVerdict[]; outcome: GpuSampleOutcome | null }> {
    const source = this.gpuSource();
    if (!source) return { health: { available: false, reason: NO_DRIVER }, verdicts: [], outcome: null };
    const outcome = await source.sample({ quick: !full, processes: full, timeoutMs: this.config.gpuTimeoutMs });
    this.lastGpu = { at: this.clock.now(), outcome };
    if (!outcome.available) return { health: gpuHealthOf(outcome, []), verdicts: [], outcome };
    const now = this.clock.now();
    // Xids other processes stored (a monitor's NVML events, the kernel log) count here too.
    this.feedStoredXids(now, outcome.devices);
    const verdicts = full ? this.gpuTracker.verdicts(outcome.devices, now) : [];
    if (!full)
      for (const d of outcome.devices)
        if (
          d.lost ||
          (d.temperatureC != null && d.slowdownTemperatureC != null && d.temperatureC >= d.slowdownTemperatureC)
        )
          verdicts.push(...this.gpuTracker.verdicts([d], now));
    const recent = full ? { windowS: this.config.gpu.xidWindowSec, xids: this.gpuTracker.recentXids(now) } : undefined;
    return { health: gpuHealthOf(outcome, verdicts, recent), verdicts, outcome };
  }

  /** CPU busy over the last minute from the background sampler, when it runs. */
  private recentCpu(): {
    busy_last_60s?: { mean: number | null; p95: number | null; max: number | null; samples: number };
  } {
    const w = this.cpuWindow.get(this.quickMaxAgeMs, () => this.recentWindow(60_000)).value;
    const b = w?.signals.cpu_busy;
    return b
      ? {
          busy_last_60s: {
            mean: b.mean === null ? null : round(b.mean, 4),
            p95: b.p95 === null ? null : round(b.p95, 4),
            max: b.max,
            samples: w.count,
          },
        }
      : {};
  }

  /** Scans the process table off the JS thread; CPU shares are since the previous scan. */
  private async scanProcesses(): Promise<{ table: ProcessSample[]; cpuShare: Map<number, number> }> {
    this.processTable ??= createProcessTable();
    const opts: ProcessScanOptions = { status: true, ...(this.nodeChecks.needsCmdline ? { cmdline: true } : {}) };
    const table = await this.processTable.scanAsync(opts);
    return { table, cpuShare: this.cpuShares.update(table, this.clock.now()) };
  }

  /** The host sample of the last check (for metrics exposition without sampling again). */
  lastHostSample(): HostSample | null {
    return this.lastHost;
  }

  /** Xids any process stored (kernel log, another process's NVML events) within gpu.xidWindowSec. */
  storedXids(nowMs = this.clock.now()): { gpuIndex?: number; pciBusId?: string; xid: number; timeMs: number }[] {
    return this.options.events?.recentXids(nowMs) ?? [];
  }

  /** The last GPU outcome (for engines that need GPU state without sampling again). */
  lastGpuSample(): { at: number; outcome: GpuSampleOutcome } | null {
    return this.lastGpu;
  }

  /** Forgets a GPU's Xids once it has been reset. */
  clearGpuXids(gpuIndex: number): void {
    this.gpuTracker.clearXids(gpuIndex);
    this.xidsClearedAt.set(gpuIndex, this.clock.now());
    const dev = this.lastGpu?.outcome.available
      ? this.lastGpu.outcome.devices.find((d) => d.index === gpuIndex)
      : undefined;
    this.options.events?.recordGpuReset?.(gpuIndex, dev?.busId ?? null, this.clock.now());
  }

  /**
   * Feeds the Xids other processes stored (a monitor's NVML events, the kernel log) into the GPU
   * verdicts, once each; those from before a reset of their GPU no longer describe it.
   */
  private feedStoredXids(nowMs: number, devices: { index: number; busId?: string | null }[]): void {
    const stored = this.options.events?.recentXids(nowMs) ?? [];
    if (!stored.length) return;
    const have = this.gpuTracker.recentXids(nowMs);
    // A kernel line names the GPU by bus id; the index is the one NVML gives that bus now.
    const byBus = new Map(devices.filter((d) => d.busId).map((d) => [normalizeBusId(d.busId!), d.index]));
    for (const s of stored) {
      const x =
        s.gpuIndex === undefined && s.pciBusId && byBus.has(s.pciBusId)
          ? { ...s, gpuIndex: byBus.get(s.pciBusId)! }
          : s;
      if (x.gpuIndex === undefined || x.timeMs <= (this.xidsClearedAt.get(x.gpuIndex) ?? -Infinity)) continue;
      const key = `${x.gpuIndex}:${x.xid}:${Math.round(x.timeMs)}`;
      if (this.fedXids.has(key)) continue;
      this.fedXids.add(key);
      // The same event recorded by this process's own subscription is not counted twice.
      if (have.some((h) => h.gpuIndex === x.gpuIndex && h.xid === x.xid && Math.abs(h.timeMs - x.timeMs) < 5000))
        continue;
      this.gpuTracker.recordXid({ gpuIndex: x.gpuIndex, xid: x.xid, timeMs: x.timeMs });
    }
    if (this.fedXids.size > 5000) this.fedXids.clear();
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
