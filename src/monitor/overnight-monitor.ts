/**
 * The design's OvernightMonitor as a daemon: health check -> recovery when degraded (as the policy
 * and monitor.recover allow) -> progress update -> resource upkeep -> sleep, with the design's
 * defaults (alert threshold 0.8, 300 s) and any interval down to sub-second. It does not only poll:
 * PSI triggers, NVML Xid events, the exit of a watched process, a task's stall deadline and a
 * heartbeat's deadline wake it at once.
 */
import { statSync } from 'node:fs';
import { watchGpuEvents, type GpuEvent } from '../gpu/gpu-events.js';
import type { HealthReport } from '../health/health-monitor.js';
import type { OvernightContext } from '../context.js';
import type { OvernightMetrics } from '../metrics/prometheus.js';
import type { OperationType } from '../recovery/recovery-manager.js';
import type { ResourceResult } from '../resources/types.js';
import { loadNative } from '../native.js';
import { readProcess } from '../readers/processes.js';
import { OvernightErrorHandler } from './error-handler.js';
import { PressureWatch } from './pressure-watch.js';
import { gpuDevices } from '../health/gpu-health.js';
import type { HangSuspect, LeakSuspect } from '../health/sources.js';

export interface CycleReport {
  at: string;
  trigger: string;
  status: HealthReport['status'];
  breached: string[];
  recoveries: { operation: OperationType; target: unknown; status: string; message: string }[];
  alerts: { key: string; sent: boolean }[];
  stalled_tasks: string[];
  resources: { action: string; status: string; message: string }[];
  emergency?: unknown;
  duration_ms: number;
}

export interface MonitorEvent {
  at: string;
  kind: string;
  detail: string;
}

export interface MonitorOptions {
  intervalMs?: number;
  /** Injectable sleep (tests run a simulated night): resolves early when `wake` aborts. */
  sleep?: (ms: number, wake: AbortSignal) => Promise<void>;
  metrics?: OvernightMetrics;
  onCycle?: (c: CycleReport, h: HealthReport) => void;
  onEvent?: (e: MonitorEvent) => void;
  /** Subscribe to PSI triggers, NVML events and watched-process exits (default true). */
  events?: boolean;
  /** Called once per cycle (systemd watchdog keep-alive). */
  keepAlive?: () => void;
}

const realSleep = (ms: number, wake: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (wake.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(resolve, ms);
    wake.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

export class OvernightMonitor {
  readonly intervalMs: number;
  readonly events: MonitorEvent[] = [];
  readonly errorHandler: OvernightErrorHandler;
  private wakeCtl = new AbortController();
  private wakeReason: string | null = null;
  private readonly stops: (() => void)[] = [];
  private readonly breachedKnown = new Set<string>();
  private lastFullAt = -Infinity;
  private lastStatus: HealthReport['status'] = 'healthy';
  private pressure: PressureWatch | null = null;
  cycles = 0;

  constructor(
    private readonly ctx: OvernightContext,
    private readonly o: MonitorOptions = {},
  ) {
    this.intervalMs = o.intervalMs ?? ctx.config.monitor.intervalSec * 1000;
    this.errorHandler = new OvernightErrorHandler(ctx, ctx.config.monitor.recover);
    ctx.escalator.maxPerHour = ctx.config.monitor.maxAlertsPerHour;
  }

  private event(kind: string, detail: string): void {
    const e = { at: new Date(this.ctx.clock.now()).toISOString(), kind, detail };
    this.events.push(e);
    if (this.events.length > 200) this.events.shift();
    this.o.onEvent?.(e);
  }

  /** An NVML Xid into the shared history, so that serve and one-shot checks see it too. */
  private storeXid(e: GpuEvent): void {
    const c = e.classification;
    try {
      this.ctx.events.addNear(
        {
          source: 'nvml',
          kind: 'xid',
          severity: c?.severity === 'fatal' ? 'critical' : c?.severity === 'info' ? 'info' : 'warning',
          subject: {
            gpuIndex: e.gpuIndex,
            xid: e.xid,
            ...(e.uuid ? { uuid: e.uuid } : {}),
            ...(c ? { xidClass: c.severity } : {}),
          },
          message: `GPU ${e.gpuIndex}: Xid ${e.xid}${c ? `: ${c.description}` : ''}`,
          bootId: this.ctx.boot.bootId,
          monoUs: null,
          timeMs: e.timeMs,
          key: `nvml:${this.ctx.boot.bootId}:${e.gpuIndex}:${e.xid}:${Math.round(e.timeMs)}`,
        },
        5000,
      );
    } catch (err) {
      this.event('gpu', `storing Xid ${e.xid} failed: ${(err as Error).message}`);
    }
  }

  /** Cuts the current sleep short (events call this). */
  wake(reason: string): void {
    this.wakeReason ??= reason;
    this.wakeCtl.abort();
  }

  /** Subscribes to what should wake the monitor at once. Failures to subscribe are events, not errors. */
  subscribe(): void {
    const m = this.ctx.config.monitor;
    // Memory pressure: kernel triggers and polled totals, system-wide and the agent's cgroup.
    const pressure = new PressureWatch(this.ctx, { wake: (r) => this.wake(r), log: (k, d) => this.event(k, d) });
    pressure.start();
    this.pressure = pressure;
    if (this.o.metrics) this.o.metrics.psiTriggers = () => pressure.triggers();
    this.stops.push(() => {
      pressure.stop();
      this.pressure = null;
    });
    if (this.ctx.gpu) {
      try {
        const sub = watchGpuEvents(
          (e: GpuEvent) => {
            if (e.type === 'error') {
              this.event('gpu', `event watcher: ${e.error?.code} in ${e.where}`);
              return;
            }
            if (e.xid !== undefined && e.gpuIndex !== undefined) {
              this.ctx.health.recordXid(e.gpuIndex, e.xid, e.timeMs);
              this.storeXid(e);
              this.o.metrics?.recordXid(e.gpuIndex, e.xid, e.classification?.severity ?? 'degraded');
              this.event(
                'xid',
                `GPU ${e.gpuIndex}: Xid ${e.xid} (${e.classification?.severity}): ${e.classification?.description}`,
              );
              this.wake(`xid:${e.xid}`);
            } else this.event('gpu', `GPU ${e.gpuIndex}: ${e.type}`);
          },
          { pollMs: 200 },
        );
        this.stops.push(() => sub.stop());
      } catch (err) {
        this.event('gpu', `no GPU events: ${(err as Error).message}`);
      }
    }
    // Kernel lines this process stored (Xid, OOM kill, hung task, ...) wake the monitor at once.
    this.stops.push(
      this.ctx.events.onEvent((e) => {
        if (e.source !== 'kmsg' || e.severity === 'info') return;
        this.event('kmsg', `${e.kind}: ${e.message}`);
        this.wake(`kmsg:${e.kind}`);
      }),
    );
    const pids = [...m.watchPids, ...(this.ctx.config.policy.scopeRoot ? [this.ctx.config.policy.scopeRoot] : [])];
    for (const pid of new Set(pids)) this.watchExit(pid);
  }

  private watchExit(pid: number): void {
    let stopped = false;
    this.stops.push(() => {
      stopped = true;
    });
    // Synchronous up to the first wait: the process is identified (pid + start time) when the watch
    // is set up, before the first cycle, so an exit right after start-up is not mistaken for "never existed".
    void (async () => {
      let starttime: number;
      try {
        starttime = readProcess(pid, { io: false, wchan: false, statm: false }).starttime;
      } catch {
        this.event('exit', `watched pid ${pid} does not exist`);
        return;
      }
      while (!stopped) {
        // Bounded waits on a pidfd, so a stopped monitor releases the worker thread quickly.
        const exited = await loadNative()
          .waitForExit(pid, starttime, 1000)
          .catch(() => true);
        if (stopped) return;
        if (exited) {
          this.event('exit', `watched pid ${pid} exited`);
          this.wake(`exit:${pid}`);
          return;
        }
      }
    })();
  }

  /** The next moment a task or heartbeat deadline passes (to wake then rather than at the interval). */
  private nextDeadline(now: number): number | null {
    let next: number | null = null;
    const consider = (t: number) => {
      if (t > now && (next === null || t < next)) next = t;
    };
    for (const t of this.ctx.progress.list()) {
      if (!t.last_checkpoint_at || (t.completion ?? 0) >= 1) continue;
      const limit =
        this.ctx.config.tasks.find((x) => x.id === t.task_id)?.checkpointIntervalSec ??
        this.ctx.config.progress.stallSec;
      consider(Date.parse(t.last_checkpoint_at) + limit * 1000 + 1);
    }
    for (const hb of this.ctx.config.watch.heartbeats) {
      try {
        consider(statSync(hb.path).mtimeMs + hb.maxAgeSec * 1000 + 1);
      } catch {
        /* missing: already stale */
      }
    }
    return next;
  }

  /** One cycle of the design's loop. */
  async runOnce(trigger = 'interval'): Promise<CycleReport> {
    const t0 = performance.now();
    const mode = this.ctx.config.monitor.recover;
    const alertTh = this.ctx.config.monitor.alertThreshold;
    const th = {
      memory: this.ctx.config.thresholds.memory ?? alertTh,
      gpu: this.ctx.config.thresholds.gpu ?? alertTh,
      disk: this.ctx.config.thresholds.disk ?? alertTh,
    };
    const cycle: CycleReport = {
      at: new Date(this.ctx.clock.now()).toISOString(),
      trigger,
      status: 'healthy',
      breached: [],
      recoveries: [],
      alerts: [],
      stalled_tasks: [],
      resources: [],
      duration_ms: 0,
    };
    // A full check (whole process table, GPU verdicts, probes) whenever something woke the monitor,
    // at most every monitor.fullCheckSec (30 s) while healthy and every 2 s while not; quick checks in
    // between, with the watch's suspects, keep sub-second intervals cheap. A full check costs ~30 ms
    // here: one on every cycle of a node that stays degraded for hours was half the monitor's CPU at a
    // 1 s interval, and one every 10 s while healthy still a fifth of it. What only a full check sees
    // (node checks, zombies, daemons) is found within fullCheckSec; Xids, kernel events, PSI and exits
    // wake the monitor into a full check at once.
    const now = this.ctx.clock.now();
    const fullCheckMs = this.ctx.config.monitor.fullCheckSec * 1000;
    const fullEveryMs = this.lastStatus === 'healthy' ? fullCheckMs : Math.min(2_000, fullCheckMs);
    const full = trigger !== 'interval' || now - this.lastFullAt >= fullEveryMs;
    // Leak slopes and hang windows need a sample every few seconds, not every cycle.
    await this.ctx.watch.observe(this.ctx.config.watch.intervalSec * 1000);
    const checked = await this.ctx.health.checkSystemHealth(full ? 'full' : 'quick', th);
    if (full) this.lastFullAt = now;
    this.lastStatus = checked.status;
    const health = full
      ? checked
      : withWatchSuspects(checked, this.ctx.watch.leakSuspects(), this.ctx.watch.hangSuspects());
    cycle.status = health.status;
    cycle.breached = health.breached.map((b) => b.metric);

    // Recovery when degraded, as the policy and the monitor's mode allow.
    if (health.status !== 'healthy') {
      const todo: { op: OperationType; context: Record<string, unknown> }[] = [];
      for (const l of health.metrics.suspects?.memory_leaks ?? [])
        todo.push({ op: 'memory_leak', context: { pid: l.pid } });
      for (const h of health.metrics.suspects?.hangs ?? []) todo.push({ op: 'process_hang', context: { pid: h.pid } });
      for (const d of gpuDevices(health.metrics.gpu_health))
        if (d.status !== 'healthy') todo.push({ op: 'gpu_reset', context: { gpu: d.index } });
      for (const t of todo) {
        if (mode === 'off') {
          const r = this.ctx.escalator.notify({
            key: `${t.op}:${JSON.stringify(t.context)}`,
            severity: 'warning',
            summary:
              `${t.op} suspected (${JSON.stringify(t.context)}); the monitor does not recover ` +
              `(monitor.recover = off)`,
            details: t.context,
          });
          cycle.alerts.push({ key: r.key, sent: !r.deduplicated });
          continue;
        }
        const r = await this.ctx.recovery.recoverOperation(
          t.op,
          { ...t.context, errorType: `monitor: ${health.status}` },
          { dryRun: mode === 'dry_run', actor: 'monitor' },
        );
        cycle.recoveries.push({ operation: t.op, target: r.target, status: r.status, message: r.message });
        this.o.metrics?.recoveries.inc({ operation: t.op, status: r.status });
        this.event('recovery', `${t.op} ${r.status}: ${r.message}`);
      }
      // One alert per critical subject: the same GPU's alert is not sent again when an unrelated breach comes or goes.
      for (const f of health.status === 'critical' ? health.critical_faults : []) {
        const r = this.ctx.escalator.notify({
          key: `critical:${f.subject}`,
          severity: 'critical',
          summary: `node critical: ${f.summary}`,
          details: { subject: f.subject, breached: health.breached },
        });
        cycle.alerts.push({ key: r.key, sent: !r.deduplicated });
      }
    }

    // Memory stall: its warning alert, and with recovery the largest process in the stalled cgroup.
    await this.pressure?.react(health, mode, cycle);

    // Progress: stalled tasks are alerts.
    const stalled = this.ctx.progress.stalledTasks(this.ctx.clock.now());
    for (const s of stalled) {
      cycle.stalled_tasks.push(s.task_id);
      const r = this.ctx.escalator.notify({
        key: `stalled:${s.task_id}`,
        severity: 'warning',
        summary:
          `task ${s.task_id} has not checkpointed for ${Math.round(s.stalled_for_sec / 60)} min (stage ` +
          `${s.current_stage ?? '?'})`,
        details: { ...s },
      });
      cycle.alerts.push({ key: r.key, sent: !r.deduplicated });
      if (!r.deduplicated)
        this.event('stalled', `task ${s.task_id}: no checkpoint for ${Math.round(s.stalled_for_sec)} s`);
    }

    // Resource upkeep: expired leases, and filesystems over the threshold under the cleanup roots.
    const expired = await this.ctx.resources.expireLeases('monitor');
    if (expired)
      cycle.resources.push({
        action: 'expire_leases',
        status: 'success',
        message: `${expired} lease(s) expired and released`,
      });
    const diskBreach =
      health.breached.some((b) => b.metric.startsWith('disk:')) ||
      (health.metrics.disk as { path: string; used_fraction?: number }[]).some((d) => (d.used_fraction ?? 0) > th.disk);
    const haveCleanupRoots = this.ctx.config.policy.cleanupRoots.length > 0;
    if (haveCleanupRoots && mode !== 'off') {
      const r: ResourceResult = await this.ctx.resources.manageResources(
        'disk',
        'cleanup',
        { threshold: th.disk },
        { dryRun: mode === 'dry_run', actor: 'monitor' },
      );
      if (r.actions.length) {
        cycle.resources.push({ action: 'disk_cleanup', status: r.status, message: r.message });
        this.event('disk', `cleanup ${r.status}: ${r.message}`);
      }
    } else if (diskBreach) {
      const full = (health.metrics.disk as { path: string; used_fraction?: number }[]).filter(
        (d) => (d.used_fraction ?? 0) > th.disk || health.breached.some((b) => b.metric === `disk:${d.path}`),
      );
      for (const d of full) {
        const r = this.ctx.escalator.notify({
          key: `disk:full:${d.path}`,
          severity: 'warning',
          summary: `filesystem ${d.path} over ${Math.round(th.disk * 100)}% and no cleanup roots are configured`,
          details: { disk: d },
        });
        cycle.alerts.push({ key: r.key, sent: !r.deduplicated });
      }
    }

    // The error handler's last resort.
    const unrecovered = health.status === 'critical' && !cycle.recoveries.some((r) => r.status === 'recovered');
    if (unrecovered) cycle.emergency = await this.errorHandler.noteFailure(false);
    else this.errorHandler.noteSuccess();

    cycle.duration_ms = Math.round((performance.now() - t0) * 1000) / 1000;
    this.cycles++;
    this.updateMetrics(
      health,
      stalled.map((s) => s.task_id),
    );
    this.o.metrics?.cycles.observe(cycle.duration_ms / 1000);
    this.o.metrics?.wakeups.inc({ trigger: trigger.split(':')[0]! });
    this.o.keepAlive?.();
    this.o.onCycle?.(cycle, health);
    return cycle;
  }

  private updateMetrics(health: HealthReport, stalled: string[]): void {
    const m = this.o.metrics;
    if (!m) return;
    m.updateHealth(health, this.breachedKnown);
    // Node and GPU readings are the scrape's own (collected at scrape time); the cycle sets verdicts.
    m.setGpuStatuses(new Map(gpuDevices(health.metrics.gpu_health).map((d) => [d.index, d.status])));
    m.updateTasks(this.ctx.progress.list(), new Set(stalled));
    const c = this.ctx.escalator.counts;
    m.alerts.reset();
    m.alerts.inc({ outcome: 'sent' }, c.sent);
    m.alerts.inc({ outcome: 'deduplicated' }, c.deduplicated);
    m.alerts.inc({ outcome: 'rate_limited' }, c.rateLimited);
    m.set('overnight_monitor_last_cycle_timestamp_seconds', this.ctx.clock.now() / 1000);
  }

  /** The loop. Runs until `signal` aborts; a failing cycle goes to the error handler, never kills the loop. */
  async run(signal?: AbortSignal, maxCycles = Infinity): Promise<void> {
    if (this.o.events !== false) this.subscribe();
    const sleep = this.o.sleep ?? realSleep;
    let trigger = 'start';
    try {
      for (let i = 0; i < maxCycles && !signal?.aborted; i++) {
        try {
          await this.runOnce(trigger);
        } catch (err) {
          this.event('error', (err as Error).message);
          await this.errorHandler
            .handleError(err)
            .catch((e2: unknown) => this.event('error', `error handler: ${(e2 as Error).message}`));
        }
        if (signal?.aborted || i + 1 >= maxCycles) break;
        // A wake that came while the cycle ran (an Xid, an exit) is not lost: the next cycle runs at once.
        const pending = this.wakeReason;
        this.wakeCtl = new AbortController();
        this.wakeReason = null;
        if (pending) {
          trigger = pending;
          continue;
        }
        const abortWake = () => this.wakeCtl.abort();
        signal?.addEventListener('abort', abortWake, { once: true });
        const now = this.ctx.clock.now();
        const deadline = this.nextDeadline(now);
        const ms = deadline !== null ? Math.min(this.intervalMs, Math.max(0, deadline - now)) : this.intervalMs;
        await sleep(ms, this.wakeCtl.signal);
        signal?.removeEventListener('abort', abortWake);
        trigger = this.wakeReason ?? (deadline !== null && ms < this.intervalMs ? 'deadline' : 'interval');
      }
    } finally {
      this.close();
    }
  }

  close(): void {
    for (const s of this.stops.splice(0)) s();
  }
}

/**
 * A quick check carries no suspects; the monitor's cycle adds the watch's current ones (a copy of the
 * report, so the check's own result is never edited), and any suspect makes a healthy node degraded.
 */
function withWatchSuspects(report: HealthReport, leaks: LeakSuspect[], hangs: HangSuspect[]): HealthReport {
  if (!leaks.length && !hangs.length) return report;
  return {
    ...report,
    status: report.status === 'healthy' ? 'degraded' : report.status,
    metrics: { ...report.metrics, suspects: { memory_leaks: leaks, hangs, stalled_tasks: [] } },
  };
}
