/**
 * Watches the processes in scope (descendants of the agent runner): keeps a bounded RSS history
 * per process for leak slopes and progress counters for hang windows, and answers healthCheck's
 * suspect lists. The server and the monitor run one in the background.
 */
import { statSync } from 'node:fs';
import type { OvernightConfig } from '../config/schema.js';
import { memoryStatus } from '../health/metrics.js';
import type { HangSuspect, LeakSuspect, SuspectSource } from '../health/sources.js';
import type { NativeHostReader, ProcessSample } from '../native.js';
import type { Clock } from '../util/clock.js';
import { round } from '../util/stats.js';
import { HangDetector } from './hang-detector.js';
import { analyzeRss, type LeakAnalysis, type LeakOptions, type RssPoint } from './leak-detector.js';

const MAX_POINTS = 600;

interface Watched {
  starttime: number;
  comm: string;
  last: ProcessSample;
  rss: RssPoint[];
}

export interface ProcessWatchOptions {
  config: OvernightConfig;
  clock: Clock;
  scopeRoot: number;
  table?: Pick<import('../sampling/processes.js').ProcessTable, 'scanAsync'>;
  hostReader?: NativeHostReader;
}

export class ProcessWatch implements SuspectSource {
  private readonly watched = new Map<number, Watched>();
  private readonly hang: HangDetector;
  private readonly leakOpts: LeakOptions;
  private timer: NodeJS.Timeout | undefined;
  private headroom: number | null = null;
  private busy: Promise<void> | undefined;

  constructor(private readonly o: ProcessWatchOptions) {
    const w = o.config.watch;
    this.hang = new HangDetector({ dStateMs: w.dStateSec * 1000, noProgressMs: w.noProgressSec * 1000 });
    this.leakOpts = {
      warmupMs: w.warmupSec * 1000,
      minWindowMs: w.leakMinWindowSec * 1000,
      minPoints: 6,
      minSlopeBytesPerMin: w.leakMinSlopeMbPerMin * 2 ** 20,
      minR2: w.leakMinR2,
    };
  }

  get scopeRoot(): number {
    return this.o.scopeRoot;
  }

  private lastObserved = 0;

  /**
   * One observation of every process in scope (and of available memory). Two callers asking
   * within `minGapMs` (the background timer and a monitor cycle) share one scan.
   */
  observe(minGapMs = 0): Promise<void> {
    if (minGapMs && this.o.clock.now() - this.lastObserved < minGapMs && !this.busy) return Promise.resolve();
    this.busy ??= this.observeNow().finally(() => {
      this.lastObserved = this.o.clock.now();
      this.busy = undefined;
    });
    return this.busy;
  }

  private async observeNow(): Promise<void> {
    if (!this.o.table) this.o.table = (await import('../sampling/processes.js')).createProcessTable();
    if (!this.o.hostReader) this.o.hostReader = (await import('../sampling/host.js')).createHostReader();
    const procs = await this.o.table.scanAsync({ descendantsOf: this.o.scopeRoot, io: true });
    const now = this.o.clock.now();
    const seen = new Set<number>();
    for (const p of procs) {
      if (p.kernelThread || p.pid === process.pid) continue;
      seen.add(p.pid);
      let w = this.watched.get(p.pid);
      if (!w || w.starttime !== p.starttime) {
        w = { starttime: p.starttime, comm: p.comm, last: p, rss: [] };
        this.watched.set(p.pid, w);
      }
      w.last = p;
      w.rss.push({ t: now, rss: p.rss });
      if (w.rss.length > MAX_POINTS) w.rss.splice(0, w.rss.length - MAX_POINTS);
      this.hang.observe(p, now);
    }
    for (const pid of this.watched.keys()) if (!seen.has(pid)) this.watched.delete(pid);
    this.hang.retain(seen);
    this.headroom = memoryStatus(this.o.hostReader.sample({ cpu: false, load: false, psi: false })).effective?.available_bytes ?? null;
  }

  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.observe(intervalMs / 2).catch(() => undefined), intervalMs);
    this.timer.unref();
    void this.observe().catch(() => undefined);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The latest sample of a watched process. */
  process(pid: number): ProcessSample | undefined {
    return this.watched.get(pid)?.last;
  }

  history(pid: number): RssPoint[] {
    return [...(this.watched.get(pid)?.rss ?? [])];
  }

  analyzeLeak(pid: number): LeakAnalysis {
    return analyzeRss(this.watched.get(pid)?.rss ?? [], this.leakOpts);
  }

  hangVerdict(pid: number) {
    return this.hang.verdict(pid, this.o.clock.now());
  }

  /** Leak suspects ranked by projected time to exhaustion, then by slope (never by size alone). */
  leakSuspects(): LeakSuspect[] {
    const out: LeakSuspect[] = [];
    for (const [pid, w] of this.watched) {
      const a = analyzeRss(w.rss, this.leakOpts);
      if (!a.isLeak) continue;
      const eta = this.headroom !== null && a.slopeBytesPerMin > 0 ? (this.headroom / a.slopeBytesPerMin) * 60 : null;
      out.push({ pid, comm: w.comm, rss_bytes: w.last.rss, slope_bytes_per_min: Math.round(a.slopeBytesPerMin), r2: round(a.r2, 3), seconds_to_exhaustion: eta === null ? null : Math.round(eta) });
    }
    return out.sort((a, b) => (a.seconds_to_exhaustion ?? Infinity) - (b.seconds_to_exhaustion ?? Infinity) || b.slope_bytes_per_min - a.slope_bytes_per_min);
  }

  hangSuspects(): HangSuspect[] {
    const now = this.o.clock.now();
    const out: HangSuspect[] = [];
    for (const [pid, w] of this.watched) {
      const v = this.hang.verdict(pid, now);
      if (v.hung) out.push({ pid, comm: w.comm, state: w.last.state, reason: v.reason, no_progress_sec: round(v.noProgressSec, 1) });
    }
    for (const hb of this.o.config.watch.heartbeats) {
      if (!hb.pid || out.some((h) => h.pid === hb.pid)) continue;
      let age: number | null = null;
      try {
        age = (Date.now() - statSync(hb.path).mtimeMs) / 1000;
      } catch {
        age = null;
      }
      const w = this.watched.get(hb.pid);
      if (w && (age === null || age > hb.maxAgeSec)) {
        out.push({ pid: hb.pid, comm: w.comm, state: w.last.state, reason: age === null ? `heartbeat file ${hb.path} is missing` : `heartbeat file ${hb.path} is ${Math.round(age)} s old (limit ${hb.maxAgeSec} s)`, no_progress_sec: round(age ?? 0, 1) });
      }
    }
    return out.sort((a, b) => b.no_progress_sec - a.no_progress_sec);
  }
}
