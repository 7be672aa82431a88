/**
 * The engines behind the tools, created once per process and shared by every MCP server instance
 * (the HTTP transport makes one server per request; the engines and their histories stay).
 */
import { parseConfig } from './config/load.js';
import type { OvernightConfig } from './config/schema.js';
import { BootRegistry, currentBoot, type BootInfo } from './events/boots.js';
import { EventHealth } from './events/event-health.js';
import { EventStore } from './events/event-store.js';
import { GpuInventory } from './events/gpu-inventory.js';
import { KernelLogWatcher } from './events/kernel-log.js';
import { normalizeBusId } from './events/kmsg-matcher.js';
import { gpuSampler, nvmlInfo, type GpuSampler } from './gpu/gpu-sampler.js';
import { HealthMonitor, type HealthMonitorOptions } from './health/health-monitor.js';
import { HistoryRecorder } from './history/history-recorder.js';
import { MetricHistory } from './history/metric-history.js';
import { loadNative } from './native.js';
import { recordCheckOutcomes } from './node-checks/check-events.js';
import { AuditLog } from './policy/audit-log.js';
import { PolicyGate, type GateIdentity } from './policy/policy-gate.js';
import { ancestorsOf } from './policy/process-scope.js';
import { Escalator } from './recovery/escalation.js';
import { RecoveryJournalStore } from './recovery/journal.js';
import { ProcessWatch } from './recovery/process-watch.js';
import { RecoveryManager, type RecoveryManagerOptions } from './recovery/recovery-manager.js';
import { TaskRestarter } from './recovery/task-restarter.js';
import { openDatabase, type Db } from './store/database.js';
import { ProgressTracker } from './progress/progress-tracker.js';
import { LeaseStore } from './resources/leases.js';
import { ResourceManager } from './resources/resource-manager.js';
import { systemClock, type Clock } from './util/clock.js';

export interface OvernightContext {
  config: OvernightConfig & { stateDir: string };
  clock: Clock;
  db: Db;
  audit: AuditLog;
  gate: PolicyGate;
  health: HealthMonitor;
  watch: ProcessWatch;
  journal: RecoveryJournalStore;
  escalator: Escalator;
  recovery: RecoveryManager;
  progress: ProgressTracker;
  resources: ResourceManager;
  gpu: GpuSampler | null;
  /** The node's event history (every process writes, all read). */
  events: EventStore;
  boot: BootInfo;
  eventHealth: EventHealth;
  /** The metric history (recorded by background processes, read by the report). */
  history: MetricHistory;
  /** The kernel-log reader of a background (serve, monitor) process; null otherwise or when disabled. */
  kernelLog: KernelLogWatcher | null;
  /** Stops background work (sampling, probes) and closes the database. */
  close(): Promise<void>;
}

export interface ContextOptions {
  config?: OvernightConfig & { stateDir: string };
  clock?: Clock;
  health?: Omit<HealthMonitorOptions, 'config' | 'clock' | 'suspects' | 'recoveries' | 'tasks'>;
  identity?: GateIdentity;
  /** Sample in the background so sustain windows and leak slopes have history. */
  background?: boolean;
  /** Overrides for tests (e.g. a fake GPU reset command). */
  recovery?: Pick<RecoveryManagerOptions, 'resetGpu'>;
}

export async function createOvernightContext(options: ContextOptions = {}): Promise<OvernightContext> {
  const config = options.config ?? parseConfig({});
  const clock = options.clock ?? systemClock;
  const gpu = options.health?.gpu === null ? null : nvmlInfo().loaded ? gpuSampler() : null;
  const db = openDatabase(config.stateDir);
  const audit = new AuditLog(db);
  const gate = new PolicyGate(config.policy, audit, clock, options.identity);
  // Built in dependency order: what the health check reads (suspects, recoveries, stalled tasks)
  // exists before the HealthMonitor, which takes it in its constructor.
  const watch = new ProcessWatch({ config, clock, scopeRoot: gate.scopeOptions.scopeRoot });
  const journal = new RecoveryJournalStore(db);
  // Restores overwrite files: the tracker's restores pass the gate and are audited.
  const progress = new ProgressTracker(db, config, clock, gate);
  // The event history before the HealthMonitor, which reads it in every check.
  const events = new EventStore(db);
  const boot = currentBoot();
  const boots = new BootRegistry(db, events);
  let kernelLog: KernelLogWatcher | null = null;
  const kernelLogStatus = () =>
    kernelLog
      ? kernelLog.status()
      : config.kernelLog.enabled
        ? null
        : { available: false as const, reason: 'kernelLog.enabled is false' };
  const eventHealth = new EventHealth(
    events,
    config,
    new GpuInventory(db, config.gpu.expectedCount),
    kernelLogStatus,
    boot.bootId,
  );
  const health = new HealthMonitor({
    ...options.health,
    config,
    clock,
    gpu,
    suspects: watch,
    recoveries: journal,
    tasks: progress,
    events: eventHealth,
  });
  const escalator = new Escalator(config.escalation, clock);
  const restarter = new TaskRestarter(config.tasks, gate, clock);
  const recovery = new RecoveryManager({
    config,
    clock,
    gate,
    health,
    watch,
    journal,
    escalator,
    gpu,
    restarter,
    ...options.recovery,
  });
  const resources = new ResourceManager({ config, clock, gate, health, watch, leases: new LeaseStore(db), gpu });
  let pruneTimer: NodeJS.Timeout | undefined;
  const history = new MetricHistory(db, config.history.intervalSec * 1000);
  // Rows for the retention period at the interval, and no more.
  const maxHistoryRows = Math.ceil((config.history.retentionDays * 86_400) / config.history.intervalSec);
  let recorder: HistoryRecorder | null = null;
  if (options.background) {
    boots.recordStart(boot);
    const prune = () => {
      events.prune(
        config.history.retentionDays,
        config.history.maxEvents,
        Date.now(),
        Date.now() - config.gpu.xidWindowSec * 1000,
      );
      history.prune(config.history.retentionDays, maxHistoryRows);
    };
    prune();
    pruneTimer = setInterval(prune, 3600_000);
    pruneTimer.unref();
    if (config.kernelLog.enabled) {
      kernelLog = new KernelLogWatcher({
        native: loadNative(),
        store: events,
        boot,
        path: config.kernelLog.path,
        // Asked per batch: the GPUs NVML last saw, and whether a killed pid was the agent's.
        matchContext: () => {
          const last = health.lastGpuSample()?.outcome;
          const byBus = new Map<string, number>();
          if (last?.available) for (const d of last.devices) if (d.busId) byBus.set(normalizeBusId(d.busId), d.index);
          // In scope: watched by the process watch (the victim is usually gone by the time the
          // line arrives), or still alive under the scope root; unknown otherwise.
          const inScope = (pid: number) =>
            watch.process(pid) || ancestorsOf(pid).includes(watch.scopeRoot) ? true : undefined;
          return { gpuIndexByBusId: byBus, inScope };
        },
        log: (m) => process.stderr.write(`${m}\n`),
      });
      kernelLog.start();
    }
    recorder = new HistoryRecorder(
      history,
      health,
      boot.bootId,
      () => clock.now(),
      gpu ? () => gpu.sample({ quick: true, timeoutMs: config.gpuTimeoutMs }) : undefined,
      Math.max(history.intervalMs, 2 * config.sampleIntervalMs),
    );
    recorder.start();
  }
  // De-duplication survives a restart: the alerts recorded below are what the escalator checks.
  escalator.history = {
    lastSent: (key, sinceMs) => events.lastAlertAt(key, sinceMs),
    sentSince: (sinceMs) => events.alertTimesSince(sinceMs),
  };
  escalator.onSent = (a, report) => {
    const at = clock.now();
    events.add([
      {
        source: 'monitor',
        kind: 'alert',
        severity: a.severity,
        subject: {
          key: a.key,
          channels: report.channels.map((c) => `${c.channel}:${c.ok ? 'ok' : 'failed'}`).join(','),
        },
        message: a.summary,
        bootId: boot.bootId,
        monoUs: null,
        timeMs: at,
        key: `alert:${process.pid}:${a.key}:${at}`,
      },
    ]);
  };
  // Operators' checks (checks[]) feed the history too: each change of a check's outcome is an event.
  recordCheckOutcomes(health.nodeChecks.operatorChecks, boot.bootId, (e) => events.add([e]));
  if (options.background) {
    // One Sampler for the process: host signals for the thresholds, and the agent's processes
    // scanned on its own thread every watch.intervalSec for leak slopes and hang windows.
    health.start(config.sampleIntervalMs, {
      processes: { descendantsOf: watch.scopeRoot, intervalUs: Math.round(config.watch.intervalSec * 1e6) },
    });
    watch.start(config.watch.intervalSec * 1000, health.backgroundSampler);
  }
  return {
    config,
    clock,
    db,
    audit,
    gate,
    health,
    watch,
    journal,
    escalator,
    recovery,
    progress,
    resources,
    gpu,
    events,
    boot,
    eventHealth,
    history,
    kernelLog,
    async close() {
      // Alerts the monitor handed off are delivered and recorded before the database closes (bounded by the
      // webhook and command time-outs).
      await escalator.settled();
      await progress.close();
      kernelLog?.stop();
      recorder?.stop();
      if (pruneTimer) clearInterval(pruneTimer);
      if (options.background && db.open) boots.recordStop(boot);
      watch.stop();
      health.stop();
      if (db.open) db.close();
    },
  };
}
