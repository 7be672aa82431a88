/**
 * The design's HealthMonitor: `checkSystemHealth(checkType, thresholds)` returns
 * { status, metrics, recommendations, breached, ... } from native samples, evaluated against
 * thresholds with a sustain window and hysteresis. Takes its clock, host reader, GPU sampler and
 * process table as parameters (tests inject them; defaults are the real ones). An orchestrator:
 * the host (host-observer.ts), the GPUs (gpu-observer.ts, xid-ledger.ts), the store's inputs
 * (node-inputs.ts), a full check's survey (node-survey.ts), progress (check-progress.ts) and the
 * report (assemble-report.ts) are each their own file; this owns the background Sampler's life and
 * the order of a check.
 */
import { parseConfig } from '../config/load.js';
import type { OvernightConfig, Thresholds } from '../config/schema.js';
import type { GpuVerdict } from '../gpu/verdict.js';
import type { GpuSampleOutcome } from '../gpu/gpu-sampler.js';
import type { ProcessTable } from '../readers/processes.js';
import { Sampler, type SamplerOptions } from '../sampler/sampler.js';
import type { HostSample, NativeHostReader } from '../native.js';
import { systemClock, type Clock } from '../util/clock.js';
import { round } from '../util/stats.js';
import { LatencyWindow } from './latency-window.js';
import { NodeChecker } from '../node-checks/node-checker.js';
import { ProbeRunner } from './probes.js';
import type { NodeEventSource, RecoveryJournal, StalledTaskSource, SuspectSource } from './sources.js';
import { ThresholdTracker } from './thresholds.js';
import type { GpuHealth } from './gpu-health.js';
import { compareWithLastRecovery } from './recovery-check.js';
import { criticalFaultsOf, overallStatus } from './status.js';
import { QUICK_MAX_AGE_CAP_MS } from './quick-cache.js';
import { judgeMemoryStalls, type MemoryStallSource } from './memory-stall.js';
import { HostObserver, type BackgroundReadings } from './host-observer.js';
import { GpuObserver, gpuMemoryBreaches, type GpuSource } from './gpu-observer.js';
import { checkProgress, type CheckOptions } from './check-progress.js';
import { XidLedger, type StoredXid } from './xid-ledger.js';
import { NodeInputs } from './node-inputs.js';
import { NodeSurvey, type NodeSurveyReport } from './node-survey.js';
import { latencyBreaches } from './latency-breaches.js';
import { assembleReport } from './assemble-report.js';

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
export type { BackgroundReadings } from './host-observer.js';
export type { GpuSource } from './gpu-observer.js';
export type { CheckOptions } from './check-progress.js';

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

export class HealthMonitor {
  readonly config: OvernightConfig;
  readonly toolCalls: LatencyWindow;
  /** InfiniBand, mounts, daemons, zombies, descriptors and the operators' own checks. */
  readonly nodeChecks: NodeChecker;
  private readonly clock: Clock;
  private readonly tracker: ThresholdTracker;
  private readonly probes: ProbeRunner;
  private readonly host: HostObserver;
  private readonly xids: XidLedger;
  private readonly gpus: GpuObserver;
  private readonly inputs: NodeInputs;
  private readonly survey: NodeSurvey;
  private background: NodeJS.Timeout | undefined;
  private ownSampler: Sampler | undefined;
  private memoryStallSource: MemoryStallSource | null = null;

  constructor(private readonly options: HealthMonitorOptions = {}) {
    this.config = options.config ?? parseConfig({});
    this.clock = options.clock ?? systemClock;
    this.tracker = new ThresholdTracker(this.clock, this.config.hysteresis);
    this.toolCalls = options.toolCalls ?? new LatencyWindow(this.clock, this.config.responseWindowMs);
    this.probes = new ProbeRunner(this.config.probes, this.clock, this.config.responseWindowMs);
    this.nodeChecks = options.nodeChecks ?? new NodeChecker(this.config, { clock: this.clock });
    this.host = new HostObserver(this.config, this.clock, this.tracker, options.hostReader, options.cgroupPid);
    this.xids = new XidLedger(this.config.gpu.xidWindowSec * 1000, this.clock, options.events);
    this.gpus = new GpuObserver(this.config, this.clock, this.xids, options.gpu);
    this.inputs = new NodeInputs(this.clock, options);
    this.survey = new NodeSurvey(this.nodeChecks, this.probes, this.clock, options.processTable);
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
    const sampler =
      this.options.sampler ??
      (this.ownSampler = new Sampler({
        intervalUs: intervalMs * 1000,
        signals: ['memory', 'cpu', 'psi', 'cgroup'],
        ringSize: 4096,
        ...extra,
      }).start());
    this.host.readFrom(sampler, Math.min(intervalMs, QUICK_MAX_AGE_CAP_MS));
    this.background = setInterval(() => {
      try {
        this.host.feedFromSampler();
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

  /** Recent statistics from the background sampler (null when it is not running). */
  recentWindow(windowMs: number) {
    return this.host.recentWindow(windowMs);
  }

  stop(): void {
    if (this.background) clearInterval(this.background);
    this.background = undefined;
    this.ownSampler?.stop();
    this.ownSampler = undefined;
    this.host.stopReading();
    this.inputs.invalidate();
    this.probes.stop();
    this.nodeChecks.operatorChecks.stop();
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
    const th = this.host.thresholds(thresholds);
    const progress = checkProgress(checkType, opts);

    // perCpu even for quick: the CPU count (and load per CPU) comes from the per-CPU lines.
    const reuseMs = full ? 0 : this.host.quickMaxAgeMs;
    // The check's own limits (not `th`): the host observer tells them from the configuration's.
    const host = this.host.observe(thresholds ?? {}, { perCpu: true, paths: this.config.paths, psi: true }, reuseMs);
    const { memory, breaches } = host;
    const memoryStalls = this.memoryStallSource?.memoryStalls() ?? null;
    const stalls = judgeMemoryStalls(memoryStalls ?? [], this.tracker, th);
    breaches.push(...stalls.breaches);
    progress('host sampled');

    const gpu = await this.gpuHealth(full);
    breaches.push(...gpuMemoryBreaches(gpu.outcome, th, this.host.judgeCheckReading.bind(this.host)));
    progress('GPUs sampled');

    let survey: NodeSurveyReport | undefined;
    if (full) survey = await this.survey.run(() => this.gpus.forNodeChecks(gpu.outcome), progress);
    const nodeFindings = survey?.nodeChecks.findings ?? [];

    const tools = this.toolCalls.summary();
    const probes = this.probes.summaries();
    breaches.push(...latencyBreaches(this.tracker, th, tools, probes));
    const suspects = { ...this.inputs.suspects(reuseMs), stalled: this.inputs.stalledTasks(reuseMs) };
    const recoveries = this.inputs.recoveries(reuseMs);
    const newOomKills = this.host.newOomKills(memory);

    const { verdicts } = gpu;
    const criticalFaults = criticalFaultsOf({
      memory,
      memoryLimit: th.memory,
      newOomKills,
      verdicts,
      breaches,
      nodeFindings,
    });
    criticalFaults.push(...stalls.faults);
    const suspectCount = suspects.leaks.length + suspects.hangs.length + suspects.stalled.length;
    const baseStatus = overallStatus(criticalFaults, { breaches, nodeFindings, verdicts, suspects: suspectCount });
    const events = this.inputs.events(full, reuseMs, {
      seen: this.gpus.seen(),
      otherwiseHealthy: baseStatus === 'healthy',
    });

    const report = assembleReport({
      checkType,
      nowMs: this.clock.now(),
      th,
      ageMs: host.ageMs,
      sample: host.sample,
      memory,
      recentCpu: this.host.recentCpu(),
      memoryStalls,
      memoryStallBreaches: stalls.breaches,
      gpuHealth: gpu.health,
      verdicts,
      events,
      breaches,
      criticalFaults,
      baseStatus,
      responseWindowS: this.config.responseWindowMs / 1000,
      tools,
      probes,
      newOomKills,
      recoveryStatus: recoveries.metric,
      suspects,
      ...(survey ? { processes: survey.processes, nodeChecks: survey.nodeChecks } : {}),
    });
    if (checkType === 'recovery') {
      report.recovery_check = compareWithLastRecovery(report, recoveries.last);
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
    return this.gpus.observe(full);
  }

  /** The host sample of the last check (for metrics exposition without sampling again). */
  lastHostSample(): HostSample | null {
    return this.host.lastSample();
  }

  /** Xids any process stored (kernel log, another process's NVML events) within gpu.xidWindowSec. */
  storedXids(nowMs = this.clock.now()): StoredXid[] {
    return this.xids.stored(nowMs);
  }

  /** The last GPU outcome (for engines that need GPU state without sampling again). */
  lastGpuSample(): { at: number; outcome: GpuSampleOutcome } | null {
    return this.gpus.lastSample();
  }

  /** Forgets a GPU's Xids once it has been reset. */
  clearGpuXids(gpuIndex: number): void {
    this.xids.clear(gpuIndex, this.gpus.busIdOf(gpuIndex));
  }

  /** Each GPU's last Xid within gpu.xidWindowSec (for DCGM_FI_DEV_XID_ERRORS). */
  lastXids(nowMs = this.clock.now()): Map<number, number> {
    return this.xids.last(nowMs);
  }

  /** Feeds an Xid (from an event subscription) into the GPU verdicts. */
  recordXid(gpuIndex: number, xid: number, timeMs: number): void {
    this.xids.record(gpuIndex, xid, timeMs);
  }
}
