/**
 * The monitor's memory-pressure wake-ups and what follows them. Two sources, both on one native
 * thread: the kernel's PSI triggers (system-wide /proc/pressure/memory and the agent's cgroup's own
 * memory.pressure in the unified hierarchy, so one cgroup's stall is not diluted by an idle node),
 * and a poll of the same files' `some total=` every monitor.psiPollMs that fires when the stall
 * within the window passes the threshold, because the kernel's trigger can be tens of seconds late
 * under thrashing. The measured stalls become findings of the health check (memory-stall.ts); a
 * warning gets an alert per subject, a critical one its critical-fault alert and, when the monitor
 * recovers, the largest process in the stalled cgroup is ended through recoverOperation (policy gate,
 * audit log). Thread: everything here runs on the JS thread.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { OvernightContext } from '../context.js';
import { memoryStallFaultSubject, type MemoryStallReading, type MemoryStallSource } from '../health/memory-stall.js';
import type { HealthReport } from '../health/report.js';
import { WatchedCgroupResolver } from '../health/watched-cgroup.js';
import { loadNative, type PsiStall, type PsiTriggerEvent, type PsiTriggerSpec } from '../native.js';
import { readMounts } from '../readers/mounts.js';
import { readProcess } from '../readers/processes.js';
import type { CycleReport } from './overnight-monitor.js';

const SYSTEM = 'system';
/** A stalled cgroup's largest process is not ended again within this long (the kill needs time to help). */
const RECOVERY_COOLDOWN_MS = 30_000;

/** The agent's cgroup in the unified (v2) hierarchy: its path and memory.pressure, or why there is none to watch. */
export function agentCgroupV2(pid: number): { path: string; file: string } | { reason: string } {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch (err) {
    return { reason: `cannot read /proc/${pid}/cgroup: ${(err as Error).message}` };
  }
  const line = text.split('\n').find((l) => l.startsWith('0::'));
  if (!line) return { reason: `pid ${pid} has no cgroup v2 membership (no "0::" line in /proc/${pid}/cgroup)` };
  const cg = line.slice(3) || '/';
  if (cg === '/') return { reason: `pid ${pid} is in the root cgroup: the system-wide pressure is its pressure` };
  const mount = readMounts().find((m) => m.fstype === 'cgroup2');
  if (!mount) return { reason: 'no cgroup2 filesystem is mounted' };
  return { path: cg, file: path.join(mount.mountPoint, cg, 'memory.pressure') };
}

type Native = { stop(): void; stalls(windowUs: number): PsiStall[] };
type Spec = PsiTriggerSpec & { path: string; name: string };

/** How often a removed cgroup's path is looked for again (the system-wide trigger covers the gap). */
const REARM_CHECK_MS = 500;

/** One watched pressure file as the monitor's metrics show it. */
export interface PsiTriggerState {
  name: string;
  path: string;
  /** kernel: a PSI trigger written (and the totals polled); poll: polled totals only. */
  mode: 'kernel' | 'poll';
  /** false while the file is gone (its cgroup removed) and not yet re-armed. */
  armed: boolean;
  /** Times the file was armed again after its cgroup was removed and re-created. */
  rearms: number;
}

export class PressureWatch implements MemoryStallSource {
  private native: Native | null = null;
  /** The agent's cgroup being watched (null: system-wide only). */
  cgroup: { path: string; file: string } | null = null;
  private readonly lastRecovery = new Map<string, number>();
  /** The cgroup's spec as armed at start (re-armed the same way when its path comes back). */
  private cgroupSpec: Spec | null = null;
  /** The cgroup's own watcher after a re-arm (the first one's fd for it died with the old cgroup). */
  private rearmed: Native | null = null;
  /** Set while the cgroup's file is gone: its path is looked for every REARM_CHECK_MS. */
  private lostTimer: NodeJS.Timeout | null = null;
  private rearms = 0;
  /** The files armed at start, with the mode each got. */
  private specs: Spec[] = [];

  constructor(
    private readonly ctx: OvernightContext,
    private readonly hooks: { wake(reason: string): void; log(kind: string, detail: string): void },
  ) {}

  /**
   * Arms the triggers and the poll. A file that refuses a trigger is polled only; one that cannot
   * be read at all is dropped, said once in the log (the system-wide totals then stand for it).
   */
  start(): void {
    const m = this.ctx.config.monitor;
    const watched = new WatchedCgroupResolver(this.ctx.config).resolve();
    const pid = watched && 'pid' in watched ? watched.pid : process.pid;
    const cg = watched && 'error' in watched ? { reason: watched.error } : agentCgroupV2(pid);
    const base = { stallUs: m.psiMemoryStallUs, windowUs: m.psiWindowUs };
    const specs: Spec[] = [{ path: '/proc/pressure/memory', name: SYSTEM, ...base }];
    if ('file' in cg) specs.push({ path: cg.file, name: cg.path, ...base });
    else this.hooks.log('psi', `no cgroup trigger: ${cg.reason}; watching system-wide memory pressure only`);
    while (specs.length) {
      try {
        this.native = new (loadNative().PsiTriggers)(specs, (_n, _e, ev) => this.onEvent(ev), {
          pollUs: m.psiPollMs * 1000,
        });
        break;
      } catch (err) {
        const msg = (err as Error).message;
        const i = specs.findIndex((s) => msg.includes(s.path));
        if (i < 0) {
          this.hooks.log('psi', `no PSI trigger: ${msg}`);
          return;
        }
        const s = specs[i]!;
        const who = s.name === SYSTEM ? 'system-wide' : `cgroup ${s.name}`;
        if (s.arm !== false && m.psiPollMs > 0) {
          this.hooks.log('psi', `no kernel trigger for ${who}: ${msg}; polling its totals every ${m.psiPollMs} ms`);
          s.arm = false;
        } else {
          this.hooks.log(
            'psi',
            `cannot watch ${who}: ${msg}${s.name === SYSTEM ? '' : '; judging memory stall on the system-wide totals'}`,
          );
          specs.splice(i, 1);
        }
      }
    }
    this.cgroup = this.native && specs.some((s) => s.name !== SYSTEM) && 'file' in cg ? cg : null;
    this.specs = this.native ? specs : [];
    this.cgroupSpec = (this.cgroup && specs.find((s) => s.name !== SYSTEM)) || null;
    this.ctx.health.attachMemoryStalls(this.native && m.psiPollMs > 0 ? this : null);
  }

  stop(): void {
    if (this.lostTimer) clearInterval(this.lostTimer);
    this.lostTimer = null;
    this.rearmed?.stop();
    this.rearmed = null;
    this.native?.stop();
    this.native = null;
    this.ctx.health.attachMemoryStalls(null);
  }

  /** Each watched file: its mode, whether it is armed now, and how often it was re-armed. */
  triggers(): PsiTriggerState[] {
    if (!this.native) return [];
    return this.specs.map((s) => {
      const cgroup = s === this.cgroupSpec;
      return {
        name: s.name,
        path: s.path,
        mode: s.arm === false ? 'poll' : 'kernel',
        armed: !cgroup || this.lostTimer === null,
        rearms: cgroup ? this.rearms : 0,
      };
    });
  }

  /**
   * The watched cgroup's file went away (POLLERR: the cgroup was removed, e.g. its job ended). A job
   * restarted in a cgroup of the same path gets a new file, which no trigger watches; so its path is
   * looked for until it exists again and then armed afresh. The system-wide trigger and poll, in the
   * first watcher, keep running all along and cover the gap.
   */
  private cgroupLost(): void {
    const spec = this.cgroupSpec;
    if (!spec || this.lostTimer) return;
    this.rearmed?.stop();
    this.rearmed = null;
    this.hooks.log('psi', `cgroup ${spec.name}: ${spec.path} is gone; system-wide pressure covers it until it is back`);
    this.lostTimer = setInterval(() => this.tryRearm(), REARM_CHECK_MS);
    this.lostTimer.unref();
  }

  private tryRearm(): void {
    const spec = this.cgroupSpec;
    if (!spec || !existsSync(spec.path)) return;
    try {
      const w = new (loadNative().PsiTriggers)([spec], (_n, _e, ev) => this.onEvent(ev), {
        pollUs: this.ctx.config.monitor.psiPollMs * 1000,
      });
      if (this.lostTimer) clearInterval(this.lostTimer);
      this.lostTimer = null;
      this.rearmed = w;
      this.rearms++;
      this.hooks.log(
        'psi',
        `cgroup ${spec.name}: ${spec.path} is back; re-armed (${spec.arm === false ? 'polled' : 'kernel trigger'})`,
      );
    } catch (err) {
      // Created but not yet populated, or removed again meanwhile: the next check tries again.
      const msg = (err as Error).message;
      if (!/ENOENT|ENODEV/.test(msg)) this.hooks.log('psi', `cgroup ${spec.name}: re-arm failed: ${msg}; retrying`);
    }
  }

  private onEvent(ev: PsiTriggerEvent): void {
    const who = ev.name === SYSTEM ? 'system-wide' : `cgroup ${ev.name}`;
    if (ev.kind === 'error' && ev.name !== SYSTEM && ev.name === this.cgroupSpec?.name && ev.path) {
      this.cgroupLost();
      return;
    }
    if (ev.kind === 'error') {
      this.hooks.log('psi', `trigger error on ${ev.path || 'the watcher'}: ${ev.error?.message ?? 'unknown'}`);
      return;
    }
    const stalled = ev.stallUs
      ? `${Math.round(ev.stallUs / 1000)} ms`
      : `over ${this.ctx.config.monitor.psiMemoryStallUs / 1000} ms`;
    const source = ev.kind === 'poll' ? 'polled totals' : 'kernel trigger';
    this.hooks.log('psi', `${source}: memory stalled ${stalled} in ${ev.windowUs / 1e6} s (${who})`);
    this.hooks.wake(`${ev.kind === 'poll' ? 'psi-poll' : 'psi'}:${ev.name === SYSTEM ? 'system' : 'cgroup'}`);
  }

  /** The stall of each watched file over the trigger window, from the polled totals (fresh ones only). */
  memoryStalls(): MemoryStallReading[] {
    if (!this.native) return [];
    const m = this.ctx.config.monitor;
    const out: MemoryStallReading[] = [];
    // After a re-arm the cgroup's readings come from its new watcher; the first one's are of the old file.
    const stalls = this.native
      .stalls(m.psiWindowUs)
      .filter((s) => s.name === SYSTEM || !this.cgroupSpec || (!this.rearmed && !this.lostTimer));
    if (this.rearmed) stalls.push(...this.rearmed.stalls(m.psiWindowUs));
    for (const s of stalls) {
      // Half a window at least, and read recently: a short or stale span says little.
      if (!s.known || s.coveredUs < m.psiWindowUs / 2 || s.ageUs > m.psiPollMs * 1000 * 5 + 1_000_000) continue;
      out.push({
        subject: s.name,
        scope: s.name === SYSTEM ? 'system' : 'cgroup',
        file: s.path,
        stall_percent: Math.round((s.stallUs / s.coveredUs) * 1000) / 10,
        stall_ms: Math.round(s.stallUs / 1000),
        window_s: Math.round(s.coveredUs / 1e4) / 100,
      });
    }
    return out;
  }

  /**
   * After the check: a warning stall gets its own alert (the critical one is a critical fault, alerted
   * with the others); a critical stall of the agent's cgroup ends its largest process in scope as the
   * monitor's recovery mode allows, at most once per cooldown.
   */
  async react(health: HealthReport, mode: 'off' | 'dry_run' | 'on', cycle: CycleReport): Promise<void> {
    const readings = health.metrics.pressure.memory_stall ?? [];
    const critical = new Set(health.critical_faults.map((f) => f.subject));
    for (const b of health.breached) {
      if (!b.metric.startsWith('memoryStall:')) continue;
      const subject = b.metric.slice('memoryStall:'.length);
      if (critical.has(memoryStallFaultSubject(subject))) continue;
      const r = this.ctx.escalator.notify({
        key: `memory_stall:warning:${subject}`,
        severity: 'warning',
        summary:
          `memory stall ${b.detail}: tasks waited for memory ${b.observed.toFixed(1)}% ` +
          `of the PSI window (limit ${b.limit}%)`,
        details: { breach: b, readings },
      });
      cycle.alerts.push({ key: r.key, sent: !r.deduplicated });
    }
    const cg = this.cgroup;
    if (mode === 'off' || !cg || !critical.has(memoryStallFaultSubject(cg.path))) return;
    // The existing leak recovery came first this cycle: one ending at a time.
    if (cycle.recoveries.some((r) => r.operation === 'memory_leak')) return;
    const now = this.ctx.clock.now();
    if (now - (this.lastRecovery.get(cg.path) ?? -Infinity) < RECOVERY_COOLDOWN_MS) return;
    this.lastRecovery.set(cg.path, now);
    const target = this.largestInScope(cg.file);
    if (!target) {
      this.hooks.log('recovery', `memory stall in cgroup ${cg.path}: no process in it is within the policy scope`);
      return;
    }
    const stall = readings.find((x) => x.subject === cg.path);
    const r = await this.ctx.recovery.recoverOperation(
      'memory_leak',
      {
        pid: target.pid,
        errorType:
          `monitor: memory stall ${stall?.stall_percent ?? '?'}% in cgroup ${cg.path}; ` + 'largest process in scope',
      },
      // Thrashing shows no leak slope: the stall is the evidence, and the audit log records the ending as forced.
      { dryRun: mode === 'dry_run', actor: 'monitor', force: true },
    );
    cycle.recoveries.push({ operation: 'memory_leak', target: r.target, status: r.status, message: r.message });
    this.hooks.log('recovery', `memory stall in cgroup ${cg.path}: memory_leak ${r.status}: ${r.message}`);
  }

  /** The process with the largest RSS in the cgroup (and those below it) that the policy lets us end. */
  private largestInScope(pressureFile: string): { pid: number; rss: number } | null {
    let best: { pid: number; rss: number } | null = null;
    const walk = (dir: string, depth: number) => {
      let procs: string;
      try {
        procs = readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
      } catch {
        return;
      }
      for (const t of procs.split('\n')) {
        const pid = Number(t);
        if (!pid || !this.ctx.gate.checkProcess(pid).allowed) continue;
        try {
          const rss = readProcess(pid, { io: false, wchan: false, statm: false }).rss;
          if (!best || rss > best.rss) best = { pid, rss };
        } catch {
          /* gone meanwhile */
        }
      }
      if (depth >= 8) return;
      try {
        for (const e of readdirSync(dir, { withFileTypes: true }))
          if (e.isDirectory()) walk(path.join(dir, e.name), depth + 1);
      } catch {
        /* removed meanwhile */
      }
    };
    walk(path.dirname(pressureFile), 0);
    return best;
  }
}
