/**
 * Watches the processes in scope (descendants of the agent runner): keeps a bounded RSS history
 * per process for leak slopes and progress counters for hang windows, and answers healthCheck's
 * suspect lists. The scans come from a Sampler's process channel (on its own native thread): the
 * server and the monitor share one Sampler for host thresholds and these histories; without one
 * the watch makes a Sampler that scans only when asked.
 */
import { statSync } from 'node:fs';
import type { OvernightConfig } from '../config/schema.js';
import { memoryStatus } from '../health/metrics.js';
import type { HangSuspect, LeakSuspect, SuspectSource } from '../health/sources.js';
import type { NativeHostReader, ProcessSample } from '../native.js';
import { loadNative } from '../native.js';
import { createHostReader } from '../readers/host.js';
import { Sampler, type ProcessScan } from '../sampler/sampler.js';
import { monotonicNowMs, type Clock } from '../util/clock.js';
import { round } from '../util/stats.js';
import { HangDetector } from './hang-detector.js';
import { processEnded } from './terminate.js';
import { analyzeRss, EVIDENCE_FRACTION, type LeakAnalysis, type LeakOptions, type RssPoint } from './leak-detector.js';

const MAX_POINTS = 600;
/** Ended processes remembered (pid -> starttime), so a scan published before the exit cannot bring one back. */
const MAX_ENDED = 1024;
/** Processes ingested per turn of the event loop (a few hundred µs of work). */
const INGEST_SLICE = 500;
/**
 * A burst has ended when the watched processes fell to half their peak, by at least this many.
 * Its rows were freed, but glibc keeps freed memory below live allocations resident: after 2,000
 * processes exited, the monitor's malloc heap held 95 MB with 12 MB in use, for good.
 */
const BURST_MIN_DROP = 256;
/**
 * The heap is trimmed this long after the end of a burst, once the scans of the burst are garbage
 * JS has collected (their packed rows are malloc'd backing stores freed by V8's GC).
 */
const TRIM_DELAY_MS = 10_000;

interface Watched {
  starttime: number;
  comm: string;
  last: ProcessSample;
  rss: RssPoint[];
  /** The last leak verdict and what it was judged on (the newest point and the headroom). */
  leak?: { t: number; n: number; headroom: number | null; a: LeakAnalysis };
}

/** What the watch needs of a Sampler with a process channel over the descendants of scopeRoot. */
export interface ProcessScanSource {
  readProcesses(): { scans: ProcessScan[]; lost: number };
  /** The same, decoded in chunks that yield to the event loop (preferred when there). */
  readProcessesChunked?(): Promise<{ scans: ProcessScan[]; lost: number }>;
  scanProcesses(): Promise<void>;
  stop(): unknown;
}

export interface ProcessWatchOptions {
  config: OvernightConfig;
  clock: Clock;
  scopeRoot: number;
  hostReader?: NativeHostReader;
  /** Gives freed memory back to the system after a burst (default: the addon's malloc_trim, on a worker thread). */
  releaseMemory?: () => Promise<boolean>;
}

/** The watch's own retained state, for tests and diagnostics: all of it is bounded by what exists now. */
export interface ProcessWatchStats {
  /** Processes with a history. */
  watched: number;
  /** Processes with hang state. */
  hangTracks: number;
  /** Ended processes remembered (at most MAX_ENDED). */
  ended: number;
  /** RSS points over all histories. */
  points: number;
  /** The most processes watched at once since the last trim. */
  peak: number;
  /** Times freed memory was given back after a burst. */
  trims: number;
}

export class ProcessWatch implements SuspectSource {
  private readonly watched = new Map<number, Watched>();
  private readonly ended = new Map<number, number>();
  private readonly hang: HangDetector;
  private readonly leakOpts: LeakOptions;
  private timer: NodeJS.Timeout | undefined;
  private headroom: number | null = null;
  private busy: Promise<void> | undefined;
  private source: ProcessScanSource | undefined;
  private ownsSource = false;
  /** The caller's reader, else one made on the first scan (constructing a watch never loads the addon). */
  private hostReader: NativeHostReader | undefined;
  private readonly fastScanMs: number;
  private fastTimer: NodeJS.Timeout | undefined;
  private peak = 0;
  private trims = 0;
  /** When the heap is to be trimmed (a burst ended), else null. */
  private trimAt: number | null = null;

  constructor(private readonly o: ProcessWatchOptions) {
    this.hostReader = o.hostReader;
    const w = o.config.watch;
    this.hang = new HangDetector({ dStateMs: w.dStateSec * 1000, noProgressMs: w.noProgressSec * 1000 });
    this.leakOpts = {
      warmupMs: w.warmupSec * 1000,
      minWindowMs: w.leakMinWindowSec * 1000,
      minPoints: 6,
      minSlopeBytesPerMin: w.leakMinSlopeMbPerMin * 2 ** 20,
      minR2: w.leakMinR2,
      fastWindowMs: w.leakFastWindowSec * 1000,
    };
    // Enough scans inside the fast window for an urgent verdict (minPoints with room to spare).
    this.fastScanMs = Math.max(100, Math.min(w.intervalSec * 1000, (w.leakFastWindowSec * 1000) / 12));
  }

  get scopeRoot(): number {
    return this.o.scopeRoot;
  }

  private lastObserved = -Infinity;

  /**
   * Takes in the scans the sampler published since the last call, and scans now unless the newest
   * is younger than `minGapMs` (a monitor cycle right after a periodic scan shares it).
   */
  observe(minGapMs = 0): Promise<void> {
    // One cycle at a time: a drain yields to the event loop between chunks, and two drains
    // interleaving would ingest scans out of order.
    this.busy ??= this.cycle(minGapMs).finally(() => {
      this.busy = undefined;
    });
    return this.busy;
  }

  private async cycle(minGapMs: number): Promise<void> {
    await this.drain();
    if (minGapMs && this.o.clock.now() - this.lastObserved < minGapMs) return;
    await this.scanNow();
  }

  private async scanNow(): Promise<void> {
    this.hostReader ??= createHostReader();
    if (!this.source) {
      // No host signal: no sampling thread; intervalUs 0: no scanner thread either (scans on demand).
      this.source = new Sampler({
        intervalUs: 1_000_000,
        signals: [],
        processes: { descendantsOf: this.o.scopeRoot, intervalUs: 0 },
      }).start();
      this.ownsSource = true;
    }
    await this.source.scanProcesses();
    await this.drain();
  }

  /** Feeds every published scan, at its own time mapped onto the clock (the newest read is "now"). */
  private async drain(): Promise<void> {
    const source = this.source;
    if (!source) return;
    const { scans } = source.readProcessesChunked ? await source.readProcessesChunked() : source.readProcesses();
    if (!scans.length) return;
    const monoNow = monotonicNowMs();
    const now = this.o.clock.now();
    for (const scan of scans) await this.ingest(scan.processes, now - Math.max(0, monoNow - scan.monotonicMs));
    this.lastObserved = now - Math.max(0, monoNow - scans[scans.length - 1]!.monotonicMs);
    if (this.hostReader)
      this.headroom =
        memoryStatus(this.hostReader.sample({ cpu: false, load: false, psi: false })).effective?.available_bytes ??
        null;
    this.adjustCadence();
  }

  /**
   * While some process grows fast enough that its leak would be urgent (the headroom gone within
   * 30 minimum windows at its latest rate), scan every fastScanMs instead of every intervalSec, so
   * the fast window holds enough points for a verdict; back to the normal cadence once none does.
   * Only while started (a watch scanning on demand is scanned by whoever asks).
   */
  private adjustCadence(): void {
    const fast =
      this.timer !== undefined &&
      this.headroom !== null &&
      [...this.watched.values()].some((w) => this.growsUrgently(w.rss));
    if (fast && !this.fastTimer) {
      this.fastTimer = setInterval(
        () => void this.observe(this.fastScanMs / 2).catch(() => undefined),
        this.fastScanMs,
      );
      this.fastTimer.unref();
    } else if (!fast && this.fastTimer) {
      clearInterval(this.fastTimer);
      this.fastTimer = undefined;
    }
  }

  private growsUrgently(rss: readonly RssPoint[]): boolean {
    const a = rss[rss.length - 2];
    const b = rss[rss.length - 1];
    if (!a || !b || b.t - a.t < 100 || b.rss <= a.rss) return false;
    const perMin = ((b.rss - a.rss) / (b.t - a.t)) * 60_000;
    if (perMin < this.leakOpts.minSlopeBytesPerMin) return false;
    const secondsLeft = (this.headroom! / perMin) * 60;
    return secondsLeft * EVIDENCE_FRACTION * 1000 < this.leakOpts.minWindowMs;
  }

  private async ingest(procs: ProcessSample[], at: number): Promise<void> {
    const seen = new Set<number>();
    let n = 0;
    for (const p of procs) {
      // Thousands of processes in scope: let the event loop in between slices.
      if (++n % INGEST_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (p.kernelThread || p.pid === process.pid || this.ended.get(p.pid) === p.starttime) continue;
      seen.add(p.pid);
      let w = this.watched.get(p.pid);
      if (!w || w.starttime !== p.starttime) {
        w = { starttime: p.starttime, comm: p.comm, last: p, rss: [] };
        this.watched.set(p.pid, w);
      }
      w.last = p;
      w.rss.push({ t: at, rss: p.rss });
      if (w.rss.length > MAX_POINTS) w.rss.splice(0, w.rss.length - MAX_POINTS);
      this.hang.observe(p, at);
    }
    for (const pid of this.watched.keys()) if (!seen.has(pid)) this.watched.delete(pid);
    this.hang.retain(seen);
    this.afterBurst(at);
  }

  /**
   * Once the processes of a burst have gone (the watch fell to half its peak), the memory their
   * rows took is given back, once, TRIM_DELAY_MS later; the peak then restarts from what exists now.
   */
  private afterBurst(now: number): void {
    const size = this.watched.size;
    this.peak = Math.max(this.peak, size);
    if (this.trimAt === null && this.peak - size >= BURST_MIN_DROP && size <= this.peak / 2)
      this.trimAt = now + TRIM_DELAY_MS;
    if (this.trimAt === null || now < this.trimAt) return;
    this.trimAt = null;
    this.peak = size;
    this.trims++;
    // Not awaited: the trim runs on a worker thread; a failure only means nothing was given back.
    try {
      void (this.o.releaseMemory ?? (() => loadNative().trimMalloc()))().catch(() => false);
    } catch {
      /* an addon without trimMalloc: nothing to give back */
    }
  }

  /** What the watch retains now (see ProcessWatchStats). */
  stats(): ProcessWatchStats {
    let points = 0;
    for (const w of this.watched.values()) points += w.rss.length;
    return {
      watched: this.watched.size,
      hangTracks: this.hang.size,
      ended: this.ended.size,
      points,
      peak: this.peak,
      trims: this.trims,
    };
  }

  /**
   * Drains the sampler every `intervalMs`. With `shared` (a Sampler whose process channel scans
   * the descendants of scopeRoot periodically), the histories come from its scans.
   */
  start(intervalMs: number, shared?: ProcessScanSource): void {
    if (shared && shared !== this.source) {
      if (this.ownsSource) this.source?.stop();
      this.source = shared;
      this.ownsSource = false;
    }
    if (this.timer) return;
    // On a shared sampler that scans every intervalMs itself, the timer only drains (a scan of its
    // own only if the scanner has fallen a half interval behind); on its own, it asks for a scan.
    this.timer = setInterval(
      () =>
        void this.observe(this.ownsSource || !this.source ? intervalMs / 2 : intervalMs * 1.5).catch(() => undefined),
      intervalMs,
    );
    this.timer.unref();
    void this.observe().catch(() => undefined);
  }

  /** Stops draining (and the sampler, when the watch made it). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.fastTimer) clearInterval(this.fastTimer);
    this.fastTimer = undefined;
    if (this.ownsSource) {
      this.source?.stop();
      this.source = undefined;
      this.ownsSource = false;
    }
  }

  /**
   * Drops a process that has ended (a recovery saw its pidfd report the exit) at once, rather than
   * at the next scan: its history, its hang state, and any scan taken before it exited.
   */
  forget(pid: number, starttime: number): void {
    const w = this.watched.get(pid);
    if (w && w.starttime !== starttime) return; // the pid now names another process
    this.watched.delete(pid);
    this.hang.retain(new Set(this.watched.keys()));
    this.ended.delete(pid);
    this.ended.set(pid, starttime);
    if (this.ended.size > MAX_ENDED) this.ended.delete(this.ended.keys().next().value!);
  }

  /** Suspects must be alive: whoever ended one (a recovery, a cleanup, the OOM killer, itself), it is not reported. */
  private alive(pid: number, w: Watched): boolean {
    if (!processEnded({ pid, starttime: w.starttime })) return true;
    this.forget(pid, w.starttime);
    return false;
  }

  /** The latest sample of a watched process. */
  process(pid: number): ProcessSample | undefined {
    return this.watched.get(pid)?.last;
  }

  history(pid: number): RssPoint[] {
    return [...(this.watched.get(pid)?.rss ?? [])];
  }

  analyzeLeak(pid: number): LeakAnalysis {
    const w = this.watched.get(pid);
    return w ? this.leakVerdict(w) : analyzeRss([], this.leakOpts, this.headroom);
  }

  hangVerdict(pid: number) {
    return this.hang.verdict(pid, this.o.clock.now());
  }

  /** Leak suspects ranked by projected time to exhaustion, then by slope (never by size alone). */
  /**
   * A process's leak verdict, judged again only when a scan added a point or the headroom changed: the
   * monitor asks every cycle (each second at a 1 s interval), the history grows every watch.intervalSec.
   */
  private leakVerdict(w: Watched): LeakAnalysis {
    const last = w.rss[w.rss.length - 1];
    const t = last?.t ?? -1;
    const c = w.leak;
    if (c && c.t === t && c.n === w.rss.length && c.headroom === this.headroom) return c.a;
    const a = analyzeRss(w.rss, this.leakOpts, this.headroom);
    w.leak = { t, n: w.rss.length, headroom: this.headroom, a };
    return a;
  }

  leakSuspects(): LeakSuspect[] {
    const out: LeakSuspect[] = [];
    for (const [pid, w] of this.watched) {
      const a = this.leakVerdict(w);
      if (!a.isLeak || !this.alive(pid, w)) continue;
      const eta = this.headroom !== null && a.slopeBytesPerMin > 0 ? (this.headroom / a.slopeBytesPerMin) * 60 : null;
      out.push({
        pid,
        comm: w.comm,
        rss_bytes: w.last.rss,
        slope_bytes_per_min: Math.round(a.slopeBytesPerMin),
        r2: round(a.r2, 3),
        seconds_to_exhaustion: eta === null ? null : Math.round(eta),
      });
    }
    return out.sort(
      (a, b) =>
        (a.seconds_to_exhaustion ?? Infinity) - (b.seconds_to_exhaustion ?? Infinity) ||
        b.slope_bytes_per_min - a.slope_bytes_per_min,
    );
  }

  hangSuspects(): HangSuspect[] {
    const now = this.o.clock.now();
    const out: HangSuspect[] = [];
    for (const [pid, w] of this.watched) {
      const v = this.hang.verdict(pid, now);
      if (v.hung && this.alive(pid, w))
        out.push({
          pid,
          comm: w.comm,
          state: w.last.state,
          reason: v.reason,
          no_progress_sec: round(v.noProgressSec, 1),
        });
    }
    for (const hb of this.o.config.watch.heartbeats) {
      if (!hb.pid || out.some((h) => h.pid === hb.pid)) continue;
      let age: number | null;
      try {
        age = (Date.now() - statSync(hb.path).mtimeMs) / 1000;
      } catch {
        age = null;
      }
      const w = this.watched.get(hb.pid);
      if (w && (age === null || age > hb.maxAgeSec)) {
        out.push({
          pid: hb.pid,
          comm: w.comm,
          state: w.last.state,
          reason:
            age === null
              ? `heartbeat file ${hb.path} is missing`
              : `heartbeat file ${hb.path} is ${Math.round(age)} s old (limit ${hb.maxAgeSec} s)`,
          no_progress_sec: round(age ?? 0, 1),
        });
      }
    }
    return out.sort((a, b) => b.no_progress_sec - a.no_progress_sec);
  }
}
