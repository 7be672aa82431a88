/**
 * The engines behind the tools, created once per process and shared by every MCP server instance
 * (the HTTP transport makes one server per request; the engines and their histories stay).
 */
import { parseConfig } from '../config/load.js';
import type { OvernightConfig } from '../config/schema.js';
import type { GpuSampler } from '../gpu/gpu-sampler.js';
import { HealthMonitor, type HealthMonitorOptions } from '../health/health-monitor.js';
import { AuditLog } from '../policy/audit-log.js';
import { PolicyGate, type GateIdentity } from '../policy/policy-gate.js';
import { Escalator } from '../recovery/escalation.js';
import { RecoveryJournalStore } from '../recovery/journal.js';
import { ProcessWatch } from '../recovery/process-watch.js';
import { RecoveryManager, type RecoveryManagerOptions } from '../recovery/recovery-manager.js';
import { TaskRestarter } from '../recovery/task-restarter.js';
import { openDatabase, type Db } from '../store/database.js';
import { ProgressTracker } from '../progress/progress-tracker.js';
import { LeaseStore } from '../resources/leases.js';
import { ResourceManager } from '../resources/resource-manager.js';
import { systemClock, type Clock } from '../util/clock.js';

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
  /** Stops background work (sampling, probes) and closes the database. */
  close(): Promise<void>;
}

export interface ContextOptions {
  config?: OvernightConfig & { stateDir: string };
  clock?: Clock;
  health?: Omit<HealthMonitorOptions, 'config' | 'clock'>;
  identity?: GateIdentity;
  /** Sample in the background so sustain windows and leak slopes have history. */
  background?: boolean;
  /** Overrides for tests (e.g. a fake GPU reset command). */
  recovery?: Pick<RecoveryManagerOptions, 'resetGpu'>;
}

export async function createOvernightContext(options: ContextOptions = {}): Promise<OvernightContext> {
  const config = options.config ?? parseConfig({});
  const clock = options.clock ?? systemClock;
  const { gpuSampler, nvmlInfo } = await import('../gpu/gpu-sampler.js');
  const gpu = options.health?.gpu === null ? null : nvmlInfo().loaded ? gpuSampler() : null;
  const db = openDatabase(config.stateDir);
  const audit = new AuditLog(db);
  const gate = new PolicyGate(config.policy, audit, clock, options.identity);
  const health = new HealthMonitor({ ...options.health, config, clock, gpu });
  const watch = new ProcessWatch({ config, clock, scopeRoot: gate.scopeOptions.scopeRoot });
  const journal = new RecoveryJournalStore(db);
  const escalator = new Escalator(config.escalation, clock);
  const restarter = new TaskRestarter(config.tasks, gate, clock);
  const recovery = new RecoveryManager({ config, clock, gate, health, watch, journal, escalator, gpu, restarter, ...options.recovery });
  const progress = new ProgressTracker(db, config, clock, gate);
  health.attach({ suspects: watch, recoveries: journal, tasks: progress });
  const resources = new ResourceManager({ config, clock, gate, health, watch, leases: new LeaseStore(db), gpu });
  if (options.background) {
    // One Sampler for the process: host signals for the thresholds, and the agent's processes
    // scanned on its own thread every watch.intervalSec for leak slopes and hang windows.
    await health.prepareBackground();
    health.start(config.sampleIntervalMs, { processes: { descendantsOf: watch.scopeRoot, intervalUs: Math.round(config.watch.intervalSec * 1e6) } });
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
    async close() {
      await progress.close();
      watch.stop();
      health.stop();
      if (db.open) db.close();
    },
  };
}
