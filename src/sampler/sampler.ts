/**
 * High-frequency sampling for HPC nodes, agent runners and benchmark harnesses: a native thread
 * samples the chosen signals at a fixed interval (down to 1 ms; 100 µs for cheap signals) into a
 * ring buffer; the JS thread reads typed-array batches and rolling statistics and is never blocked.
 */
import os from 'node:os';
import {
  loadNative,
  type ChannelStats,
  type NativeProcessChannelOptions,
  type NativeSampler,
  type NativeSamplerReport,
  type ProcessSample,
} from '../native.js';
import { unpackProcesses, unpackProcessesChunked } from '../readers/packed-processes.js';
import { checkSamplerOptions } from './options.js';

export { monotonicNowMs } from '../util/clock.js';

export type Signal = 'memory' | 'cpu' | 'psi' | 'cgroup';

export interface SamplerOptions {
  /** Sampling interval in microseconds (>= 50; 1000 = 1 kHz). */
  intervalUs: number;
  /** Host signal groups (default memory, cpu, psi). */
  signals?: Signal[];
  /** Processes to sample (CPU cores used, RSS, state). */
  pids?: number[];
  /** GPU indices, or 'all' (utilization, memory, power, SM clock, temperature, throttling). */
  gpus?: number[] | 'all';
  /** GPU queries at most this often (µs); default every sample. */
  gpuIntervalUs?: number;
  /**
   * How often a group is re-read (µs; 0: every sample). Between reads its channels repeat their
   * last value. Defaults: CPU every USER_HZ tick (10 ms; /proc/stat counts in ticks), PSI and
   * cgroup every 10 ms (PSI averages move every 2 s, CFS throttling once per 100 ms period), or
   * every sample when sampling is slower than that. Memory and pids are read every sample.
   */
  cpuIntervalUs?: number;
  psiIntervalUs?: number;
  cgroupIntervalUs?: number;
  /**
   * A process channel: the descendants of a pid scanned (stat, status, io) on a thread of their
   * own every `intervalUs` (0: only when scanProcesses() asks), for leak slopes and hang windows.
   */
  processes?: NativeProcessChannelOptions;
  /** Samples the ring holds (default: 60 s worth, at most 1M). */
  ringSize?: number;
  /**
   * Run the sampling thread at SCHED_FIFO priority 1, so a busy node cannot delay its wake-ups
   * (needs root, CAP_SYS_NICE or RLIMIT_RTPRIO >= 1; otherwise a warning in the report and normal
   * priority). The thread sleeps between samples, so it takes no more CPU than without.
   */
  realtime?: boolean;
}

export interface SampleBatch {
  count: number;
  channels: string[];
  /** CLOCK_MONOTONIC milliseconds, one per sample. */
  timestamps: Float64Array;
  /** Row-major: values[i * channels.length + c]. NaN where a source had no value. */
  values: Float64Array;
  /** Samples overwritten before they were read. */
  lost: number;
  /** One channel's values as its own array. */
  column(name: string): Float64Array;
}

export type BenchmarkFlag =
  | 'gpu_thermal_throttling'
  | 'gpu_power_throttling'
  | 'memory_pressure'
  | 'cpu_steal'
  | 'other_processes_busy'
  | 'cgroup_limit_hit'
  | 'sampler_fell_behind';

export interface BenchmarkReport extends NativeSamplerReport {
  /** false when any flag says the measurement cannot be trusted. */
  trustworthy: boolean;
  flags: { flag: BenchmarkFlag; detail: string }[];
}

export interface ProcessScan {
  /** CLOCK_MONOTONIC milliseconds when the scan began (the same clock as batch timestamps). */
  monotonicMs: number;
  processes: ProcessSample[];
}

export class Sampler {
  private readonly native: NativeSampler;
  readonly channels: string[];

  constructor(readonly options: SamplerOptions) {
    checkSamplerOptions(options);
    // Checked strict above, so the rest of the options pass through under the native names.
    const { intervalUs, signals: groups, gpus, ...rest } = options;
    const signals = new Set(groups ?? ['memory', 'cpu', 'psi']);
    const { Sampler: NativeSamplerClass } = loadNative();
    this.native = new NativeSamplerClass({
      ...rest,
      intervalUs: Math.round(intervalUs),
      memory: signals.has('memory'),
      cpu: signals.has('cpu'),
      psi: signals.has('psi'),
      cgroup: signals.has('cgroup'),
      ...(gpus === 'all' ? { allGpus: true } : { gpus: gpus ?? [] }),
    });
    this.channels = this.native.channels();
  }

  start(): this {
    this.native.start();
    return this;
  }

  /** Stops the thread and frees the ring; returns per-signal statistics over the run. */
  stop(): NativeSamplerReport {
    return this.native.stop();
  }

  get running(): boolean {
    return this.native.running();
  }

  /** Samples taken since the previous read. */
  read(): SampleBatch {
    const r = this.native.read();
    const channels = this.channels;
    return {
      count: r.count,
      channels,
      timestamps: r.timestamps,
      values: r.values,
      lost: r.lost,
      column(name: string) {
        const c = channels.indexOf(name);
        if (c < 0) throw new RangeError(`no channel ${name} (channels: ${channels.join(', ')})`);
        const out = new Float64Array(r.count);
        for (let i = 0; i < r.count; i++) out[i] = r.values[i * r.width + c]!;
        return out;
      },
    };
  }

  /**
   * Rolling statistics per signal over the last `windowMs`: count, min, max and mean exact;
   * p50/p95/p99 exact up to 4,096 samples and from 4,096 evenly spaced samples beyond, so that a
   * 60 s window at 1 kHz costs the JS thread milliseconds, not a sort of 60,000 values a channel.
   */
  window(windowMs: number): { count: number; signals: Record<string, ChannelStats> } {
    return this.native.window(windowMs);
  }

  /** Process scans published since the previous call, oldest first (needs `processes`). */
  readProcesses(): { scans: ProcessScan[]; lost: number } {
    const r = this.native.readProcesses();
    return {
      scans: r.scans.map((s) => ({ monotonicMs: s.monotonicMs, processes: unpackProcesses(s.processes) })),
      lost: r.lost,
    };
  }

  /**
   * readProcesses() for the event loop's sake: each scan's rows decoded a chunk at a time with a
   * yield in between (unpackProcessesChunked), so a scan of thousands of processes never holds the
   * loop for its whole decode. The scans are taken from the channel at once, as readProcesses() does.
   */
  async readProcessesChunked(): Promise<{ scans: ProcessScan[]; lost: number }> {
    const r = this.native.readProcesses();
    const scans: ProcessScan[] = [];
    for (const s of r.scans)
      scans.push({ monotonicMs: s.monotonicMs, processes: await unpackProcessesChunked(s.processes) });
    return { scans, lost: r.lost };
  }

  /** Scans the process channel now (on a worker thread); the scan is then in readProcesses(). */
  scanProcesses(): Promise<void> {
    return this.native.scanProcesses();
  }

  /** Rows of the process channel's scans not read yet: what the channel itself retains. */
  heldProcessRows(): number {
    return this.native.heldProcessRows();
  }

  /** Statistics since start, without stopping. */
  snapshot(): NativeSamplerReport {
    return this.native.snapshot();
  }

  /**
   * The benchmark-harness form: `const rec = Sampler.record(opts); ...; const report = rec.stop()`.
   * The report flags conditions that make a benchmark result untrustworthy.
   */
  static record(options: Partial<SamplerOptions> = {}): { sampler: Sampler; stop: () => BenchmarkReport } {
    const sampler = new Sampler({
      intervalUs: 10_000,
      signals: ['memory', 'cpu', 'psi', 'cgroup'],
      ...options,
    }).start();
    return { sampler, stop: () => benchmarkReport(sampler.stop(), sampler.options) };
  }
}

/** Flags the conditions that make a measurement untrustworthy. */
export function benchmarkReport(
  r: NativeSamplerReport,
  options: Partial<SamplerOptions> = {},
  cpus = os.cpus().length,
): BenchmarkReport {
  const flags: BenchmarkReport['flags'] = [];
  const s = r.signals;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  for (const [name, st] of Object.entries(s)) {
    if (name.endsWith('_thermal_throttle') && (st.max ?? 0) > 0)
      flags.push({
        flag: 'gpu_thermal_throttling',
        detail: `${name.split('_')[0]} thermally throttled ${pct(st.mean ?? 0)} of the run`,
      });
    if (name.endsWith('_power_throttle') && (st.max ?? 0) > 0)
      flags.push({
        flag: 'gpu_power_throttling',
        detail: `${name.split('_')[0]} power-capped or slowed ${pct(st.mean ?? 0)} of the run`,
      });
  }
  const mem = s.psi_memory_some_avg10;
  const stall = s.psi_memory_stall_frac;
  if ((mem?.max ?? 0) > 5 || (stall?.mean ?? 0) > 0.01)
    flags.push({
      flag: 'memory_pressure',
      detail:
        `tasks stalled on memory (PSI some avg10 up to ${(mem?.max ?? 0).toFixed(1)}%, ` +
        `${pct(stall?.mean ?? 0)} of the run)`,
    });
  if ((s.cpu_steal?.mean ?? 0) > 0.02)
    flags.push({ flag: 'cpu_steal', detail: `the hypervisor took ${pct(s.cpu_steal!.mean!)} of CPU time (steal)` });
  const busyCores = (s.cpu_busy?.mean ?? 0) * cpus;
  const ownCores = Object.entries(s)
    .filter(([n]) => n.startsWith('pid') && n.endsWith('_cpu_cores'))
    .reduce((a, [, st]) => a + (st.mean ?? 0), 0);
  const samplerCores = r.durationMs ? (r.threadCpuMs + r.processThreadCpuMs) / r.durationMs : 0;
  if (busyCores - ownCores - samplerCores > 0.5)
    flags.push({
      flag: 'other_processes_busy',
      detail: `other processes used ${(busyCores - ownCores - samplerCores).toFixed(2)} cores on average`,
    });
  const grew = (n: string) => (s[n]?.max ?? 0) - (s[n]?.min ?? 0) > 0;
  if (
    grew('cg_mem_max_events') ||
    grew('cg_oom_kills') ||
    grew('cg_failcnt') ||
    (s.cg_cpu_throttled_frac?.mean ?? 0) > 0.01
  )
    flags.push({
      flag: 'cgroup_limit_hit',
      detail: 'the cgroup hit its memory limit or throttled its CPU during the run',
    });
  const expected = (r.durationMs * 1000) / (options.intervalUs ?? 10_000);
  if (r.missedDeadlines > Math.max(2, expected * 0.05))
    flags.push({
      flag: 'sampler_fell_behind',
      detail: `${r.missedDeadlines} sampling deadlines were missed: the node was overloaded`,
    });
  return { ...r, trustworthy: flags.length === 0, flags };
}
