/**
 * The host's side of a check: one host reading (reused by quick checks for one sampler tick), the
 * background Sampler's readings fed into the thresholds, and the breaches of memory, CPU, PSI and
 * disks that follow. Also the recent-CPU window and the OOM-kill count between checks, both host
 * readings. The monitor owns the Sampler's life; this only reads it while told to.
 */
import { DEFAULT_THRESHOLDS, type OvernightConfig, type Thresholds } from '../config/schema.js';
import { createHostReader } from '../readers/host.js';
import type { Sampler } from '../sampler/sampler.js';
import type { HostSample, HostSampleOptions, NativeHostReader } from '../native.js';
import { monotonicNowMs, type Clock } from '../util/clock.js';
import { round } from '../util/stats.js';
import { WatchedCgroupResolver } from './watched-cgroup.js';
import type { MemoryStatus } from './metrics.js';
import { deepFreeze, sectionsOf } from './sample-sections.js';
import type { Breach, ThresholdTracker } from './thresholds.js';
import { feedReadings } from './feed.js';
import { Reused } from './quick-cache.js';

/** What the thresholds need of a Sampler: its new readings and rolling statistics. */
export type BackgroundReadings = Pick<Sampler, 'read' | 'window'>;

export interface HostObservation {
  sample: HostSample;
  memory: MemoryStatus;
  breaches: Breach[];
  /** How old the host reading is (ms): above 0 only when a quick check reused one. */
  ageMs: number;
}

/** CPU busy over the last minute, from the background sampler's window (empty without one). */
export interface RecentCpu {
  busy_last_60s?: { mean: number | null; p95: number | null; max: number | null; samples: number };
}

/** Whether a check names any limit of its own. */
function hasOverrides(t: Partial<Thresholds>): boolean {
  for (const k in t) if ((t as Record<string, unknown>)[k] !== undefined) return true;
  return false;
}

export class HostObserver {
  private hostReader: NativeHostReader | undefined;
  private readonly watchedCgroup: WatchedCgroupResolver;
  private sampler: BackgroundReadings | undefined;
  /** While the background sampler runs: how old a quick check's readings may be (see quick-cache.ts). */
  private maxAgeMs = 0;
  private readonly quickHost = new Reused<HostSample>();
  /** The sampler's 60 s window: recomputed only when new samples arrived (and at most once per tick). */
  private readonly cpuWindow = new Reused<ReturnType<BackgroundReadings['window']> | null>();
  private lastOomKills: number | null = null;
  private lastHost: HostSample | null = null;
  /** Monotonic ms of the last read of the sampler's new readings (by the timer or a check). */
  private lastFeedAt = -Infinity;
  /** The configuration's thresholds, merged once (the configuration does not change under a running monitor). */
  private configured: Required<Thresholds> | undefined;
  /** recentCpu()'s answer for the window it was made from: the same frozen object while the window is. */
  private recent: { from: unknown; out: RecentCpu } | undefined;

  constructor(
    private readonly config: OvernightConfig,
    private readonly clock: Clock,
    private readonly tracker: ThresholdTracker,
    /** The native reader; when absent one is made on first use, so that constructing never loads the addon. */
    hostReader?: NativeHostReader,
    /** Whose cgroup to read (default: the watched one, else this process). */
    private readonly cgroupPid?: number,
  ) {
    this.hostReader = hostReader;
    this.watchedCgroup = new WatchedCgroupResolver(config);
  }

  private reader(): NativeHostReader {
    this.hostReader ??= createHostReader();
    return this.hostReader;
  }

  /** Reads `sampler` from now on; quick checks may reuse readings up to `quickMaxAgeMs` old. */
  readFrom(sampler: BackgroundReadings, quickMaxAgeMs: number): void {
    this.sampler = sampler;
    this.maxAgeMs = quickMaxAgeMs;
  }

  /** The sampler stopped: every check reads afresh again. */
  stopReading(): void {
    this.sampler = undefined;
    this.maxAgeMs = 0;
    this.lastFeedAt = -Infinity;
    this.quickHost.invalidate();
    this.cpuWindow.invalidate();
  }

  /** How old a quick check's inputs may be (0 without a background sampler). */
  get quickMaxAgeMs(): number {
    return this.maxAgeMs;
  }

  /**
   * The configuration's thresholds with a check's overrides on top. Without overrides, the same
   * frozen object every time (every report carries it; its JSON is kept, see sample-sections.ts).
   */
  thresholds(overrides?: Partial<Thresholds>): Required<Thresholds> {
    if (!overrides || !hasOverrides(overrides)) return (this.configured ??= deepFreeze(this.merged()));
    return this.merged(overrides);
  }

  private merged(overrides?: Partial<Thresholds>): Required<Thresholds> {
    const out = { ...DEFAULT_THRESHOLDS } as Required<Thresholds>;
    for (const src of [this.config.thresholds, overrides ?? {}]) {
      for (const [k, v] of Object.entries(src)) if (v !== undefined) (out as Record<string, number>)[k] = v;
    }
    return out;
  }

  /**
   * Feeds the readings the Sampler took since the last feed into the thresholds, each at its own
   * time (monotonic sample times mapped onto the clock), judged against `th` (the check's limits
   * when a check asks, the configuration's on the timer). Returns whether a sampler is running.
   */
  feedFromSampler(th: Required<Thresholds> = this.thresholds()): boolean {
    if (!this.sampler) return false;
    const b = this.sampler.read();
    this.lastFeedAt = monotonicNowMs();
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

  /** The host sample of the last check (for metrics exposition without sampling again). */
  lastSample(): HostSample | null {
    return this.lastHost;
  }

  /**
   * `reuseMs` > 0 (quick checks while the background sampler runs): a host reading at most that old
   * is reused instead of reading /proc again; `ageMs` says how old the one used is.
   */
  observe(t: Partial<Thresholds>, opts: HostSampleOptions = {}, reuseMs = 0): HostObservation {
    const th = this.thresholds(t);
    const watched = this.cgroupPid ? null : this.watchedCgroup.resolve();
    const cgroupPid = this.cgroupPid ?? (watched && 'pid' in watched ? watched.pid : undefined);
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
    this.lastHost = sample;
    const breaches: Breach[] = [];
    const add = (b: Breach | null) => b && breaches.push(b);
    const sections = sectionsOf(sample);
    const mem = sections.memory;
    const memDetail = mem.effective ? `memory (${mem.effective.source})` : undefined;
    // Sustain windows run over the background sampler's readings when it runs: a check adds no
    // reading of its own (its CPU figure covers only the time since the previous check). The
    // monitor's timer feeds them every tick, so a quick check with the configuration's limits
    // reads the sampler only when nothing did for `reuseMs` (each read makes a batch of typed
    // arrays: at hundreds of checks a second, most of them empty). A check with its own limits
    // feeds what is new under those limits, as before.
    const fedRecently = reuseMs > 0 && !hasOverrides(t) && monotonicNowMs() - this.lastFeedAt <= reuseMs;
    if (fedRecently || this.feedFromSampler(th)) {
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
    for (const d of sections.disk) {
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
  judgeCheckReading(
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

  /** OOM kills in the cgroup since the previous check (0 on the first): the kernel already killed something. */
  newOomKills(memory: MemoryStatus): number {
    const oom = memory.cgroup?.oom_kills ?? null;
    const fresh = oom !== null && this.lastOomKills !== null ? oom - this.lastOomKills : 0;
    if (oom !== null) this.lastOomKills = oom;
    return fresh;
  }

  /** CPU busy over the last minute from the background sampler, when it runs. */
  recentCpu(): RecentCpu {
    const w = this.cpuWindow.get(this.maxAgeMs, () => this.recentWindow(60_000)).value;
    if (this.recent && this.recent.from === w && w !== null) return this.recent.out;
    const out = deepFreeze(this.recentCpuOf(w));
    this.recent = { from: w, out };
    return out;
  }

  private recentCpuOf(w: ReturnType<BackgroundReadings['window']> | null): RecentCpu {
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
}
