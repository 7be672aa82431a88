import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { monotonicNowMs, Sampler, type SamplerOptions, type Signal } from '../../src/sampler/sampler.js';
import type { ProcessSample } from '../../src/native.js';
import { FakeNvmlConfig, fakeGpus, useFakeNvml } from '../helpers/fake-nvml.js';
import { firstLine, killAll, scripts, spawnGroup, spawnNode, waitFor } from '../helpers/children.js';
import { CLI } from '../helpers/mcp.js';

const fake = new FakeNvmlConfig({ devices: [{ ...fakeGpus(1)[0], reasons: 0x40, powerMw: 123_000 }] });
useFakeNvml('full', fake);
// Each test's children (and a shell's grandchildren) end with the test, passed or failed.
afterEach(killAll);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits (bounded) until the sampler has taken `n` samples since start: a loaded machine takes longer. */
const samplesTaken = (s: Sampler, n: number) => waitFor(() => s.snapshot().samples >= n, 60_000);
/** User + system ticks of a pid, read in TypeScript (independent of the native reader). */
const cpuTicks = (pid: number) => {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};

describe('Sampler', () => {
  it('samples on its own thread into typed-array batches, read incrementally', async () => {
    const s = new Sampler({ intervalUs: 1000 }).start();
    await samplesTaken(s, 60);
    const a = s.read();
    const seen = a.count;
    await samplesTaken(s, seen + 5);
    const b = s.read();
    const report = s.stop();
    expect(a.count).toBeGreaterThan(50);
    expect(a.timestamps).toBeInstanceOf(Float64Array);
    expect(a.values.length).toBe(a.count * a.channels.length);
    for (let i = 1; i < a.count; i++) expect(a.timestamps[i]).toBeGreaterThan(a.timestamps[i - 1]);
    expect(b.timestamps[0]).toBeGreaterThan(a.timestamps[a.count - 1]);
    const avail = a.column('mem_available_bytes');
    expect(avail[0]).toBeGreaterThan(0);
    expect(report.samples).toBeGreaterThanOrEqual(a.count + b.count);
    expect(report.intervalUs.p50).toBeGreaterThan(0);
    expect(report.threadCpuMs).toBeGreaterThan(0);
    expect(s.running).toBe(false);
  });

  it('samples given pids: RSS, CPU cores, state — and NaN once a pid is gone', async () => {
    const big = spawnNode(scripts.allocateOnce(200));
    const spin = spawnNode(scripts.spin());
    await Promise.all([firstLine(big), firstLine(spin)]);
    const ticks0 = cpuTicks(spin.pid!);
    const t0 = performance.now();
    const s = new Sampler({ intervalUs: 5000, signals: ['memory'], pids: [big.pid!, spin.pid!] }).start();
    // Until the spinner has had 0.3 s of CPU and 40 samples are in: however loaded the machine is.
    await waitFor(() => cpuTicks(spin.pid!) - ticks0 >= 30 && s.snapshot().samples >= 40, 60_000);
    big.kill('SIGKILL');
    const rss: number[] = [];
    await waitFor(() => {
      rss.push(...s.read().column(`pid${big.pid}_rss_bytes`));
      return rss.length > 0 && Number.isNaN(rss[rss.length - 1]);
    }, 30_000);
    const r = s.stop();
    const ticks1 = cpuTicks(spin.pid!);
    const wallSec = (performance.now() - t0) / 1000;
    expect(r.signals[`pid${big.pid}_rss_bytes`].max!).toBeGreaterThan(200 * 2 ** 20);
    // The sampled CPU share agrees with the kernel's own count of the spinner's CPU time over the
    // run (which on a loaded machine may be far below one core), not with a guessed share.
    const kernelCores = (ticks1 - ticks0) / 100 / wallSec;
    expect(r.signals[`pid${spin.pid}_cpu_cores`].mean!).toBeGreaterThan(0);
    expect(Math.abs(r.signals[`pid${spin.pid}_cpu_cores`].mean! - kernelCores)).toBeLessThan(0.1 + 0.3 * kernelCores);
    expect(String.fromCharCode(r.signals[`pid${spin.pid}_state`].max!)).toBe('R');
    expect(rss.some((v) => !Number.isNaN(v))).toBe(true);
  });

  it('keeps rolling statistics per signal over a window', async () => {
    const s = new Sampler({ intervalUs: 2000 }).start();
    let w = s.window(100);
    await waitFor(() => (w = s.window(100)).count > 10, 60_000);
    s.stop();
    expect(w.count).toBeLessThanOrEqual(52);
    const m = w.signals.mem_used_bytes;
    expect(m.min!).toBeLessThanOrEqual(m.p50!);
    expect(m.p50!).toBeLessThanOrEqual(m.p99!);
    expect(m.p99!).toBeLessThanOrEqual(m.max!);
  });

  it('answers a long window with exact count, min, max and mean; percentiles within a rank of a percent', async () => {
    const leak = spawnNode(scripts.leak(20));
    await firstLine(leak);
    // ~7,500 samples: more than the 4,096 the window sorts per channel.
    const s = new Sampler({ intervalUs: 200, signals: [], pids: [leak.pid!] }).start();
    await samplesTaken(s, 5001);
    s.stop();
    const all = s.read();
    const w = s.window(60_000);
    expect(w.count).toBe(all.count);
    expect(all.count).toBeGreaterThan(5000);
    const rss = Array.from(all.column(`pid${leak.pid}_rss_bytes`))
      .filter((v) => !Number.isNaN(v))
      .sort((a, b) => a - b);
    const st = w.signals[`pid${leak.pid}_rss_bytes`];
    expect(st.count).toBe(rss.length);
    expect(st.min).toBe(rss[0]);
    expect(st.max).toBe(rss[rss.length - 1]);
    expect(st.mean! / (rss.reduce((a, b) => a + b, 0) / rss.length)).toBeCloseTo(1, 9);
    const rank = (q: number) => rss[Math.min(rss.length - 1, Math.max(0, Math.round(q * (rss.length - 1))))];
    // The RSS grows, so a percentile off by more than a percent of rank would show.
    expect(st.p50!).toBeGreaterThanOrEqual(rank(0.49));
    expect(st.p50!).toBeLessThanOrEqual(rank(0.51));
    expect(st.p95!).toBeGreaterThanOrEqual(rank(0.94));
    expect(st.p95!).toBeLessThanOrEqual(rank(0.96));
    leak.kill('SIGKILL');
  });

  it('samples GPU utilization, memory, power and throttling through NVML (fake library)', async () => {
    const s = new Sampler({ intervalUs: 2000, signals: [], gpus: 'all' }).start();
    await samplesTaken(s, 10);
    const r = s.stop();
    expect(r.signals.gpu0_power_w.mean).toBeCloseTo(123, 3);
    expect(r.signals.gpu0_thermal_throttle.max).toBe(1);
  });

  it('flags what makes a benchmark untrustworthy: another process taking the CPU, GPU throttling', async () => {
    const spin = spawnNode(scripts.spin());
    await firstLine(spin);
    const rec = Sampler.record({ intervalUs: 5000, gpus: 'all' });
    await samplesTaken(rec.sampler, 120);
    const report = rec.stop();
    expect(report.trustworthy).toBe(false);
    const flags = report.flags.map((f) => f.flag);
    expect(flags).toContain('other_processes_busy');
    expect(flags).toContain('gpu_thermal_throttling');
    spin.kill('SIGKILL');
  });

  it('refuses bad options', () => {
    expect(() => new Sampler({ intervalUs: 10 })).toThrow(/intervalUs: got 10/);
    expect(() => new Sampler({ intervalUs: 1000, pids: ['x' as unknown as number] })).toThrow(
      /pids\.0: got "x"; expected a pid > 0/,
    );
    expect(() => new Sampler({ intervalUs: 1000, cpuIntervalUs: -5 })).toThrow(
      /cpuIntervalUs.*microseconds in \[0, 3600000000\]/,
    );
    expect(() => new Sampler({ intervalUs: 1000, processes: { descendantsOf: 1, keep: 0 } })).toThrow(
      /processes\.keep.*\[1, 1024\]/,
    );
    expect(() => new Sampler({ intervalUs: 1000, processes: { descendantsOf: -3 } })).toThrow(
      /processes\.descendantsOf/,
    );
    expect(() => new Sampler({ intervalUs: 1000, realtime: 'yes' as unknown as boolean })).toThrow(
      /realtime: got "yes"; expected true or false/,
    );
    expect(() => new Sampler({ intervalUs: 1000, signal: ['memory'] } as unknown as SamplerOptions)).toThrow(
      /signal: unknown key; did you mean "signals"\?/,
    );
    expect(() => new Sampler({ intervalUs: 1000, signals: ['mem' as Signal] })).toThrow(
      /signals\.0: got "mem"; expected one of memory, cpu, psi, cgroup/,
    );
    const plain = new Sampler({ intervalUs: 1000, signals: [] });
    expect(() => plain.readProcesses()).toThrow(/processes.*descendantsOf/);
  });

  it('reads each group no faster than its source changes, repeating the last value between reads', async () => {
    const s = new Sampler({ intervalUs: 1000 }).start();
    await samplesTaken(s, 600);
    const b = s.read();
    const r = s.stop();
    // /proc/stat counts in USER_HZ ticks: read every tick (10 ms), not every 1 ms sample.
    expect(r.readIntervalsUs).toEqual({ memory: 1000, cpu: 10_000, psi: 10_000 });
    const busy = b.column('cpu_busy');
    const known = Array.from(busy).filter((v) => !Number.isNaN(v));
    // Only the samples before the second /proc/stat read lack a utilization (no more NaN holes).
    expect(known.length).toBeGreaterThan(b.count - 25);
    for (const v of known) expect(v).toBeGreaterThanOrEqual(0);
    let changes = 0;
    const stall = b.column('psi_memory_stall_frac');
    for (let i = 1; i < b.count; i++) if (stall[i] !== stall[i - 1] && !Number.isNaN(stall[i])) changes++;
    expect(changes).toBeLessThanOrEqual(Math.ceil(b.count / 9));
    // Asked for every sample, every sample it is.
    const every = new Sampler({ intervalUs: 2000, signals: ['cpu'], cpuIntervalUs: 0 }).start();
    await sleep(100);
    expect(every.stop().readIntervalsUs).toEqual({ cpu: 2000 });
    // Sampling slower than a source's period reads it every sample.
    const slow = new Sampler({ intervalUs: 50_000 }).start();
    expect(slow.stop().readIntervalsUs).toEqual({ memory: 50_000, cpu: 50_000, psi: 50_000 });
  });

  it('scans a process tree on its own thread (periodically and on demand), with io counters', async () => {
    // A shell that starts a reader of /dev/zero and a sleeper: both descendants of this process.
    const sh = spawnGroup('sh', ['-c', 'head -c 2000000000 /dev/zero > /dev/null & sleep 30 & wait']);
    const s = new Sampler({
      intervalUs: 1000,
      signals: [],
      processes: { descendantsOf: process.pid, intervalUs: 100_000 },
    }).start();
    let tree: ProcessSample[] = [];
    // Every scan published so far, read or dropped: the report's processScans counts at least these.
    let published = 0;
    const read = () => {
      const r = s.readProcesses();
      published += r.scans.length + r.lost;
      return r;
    };
    await waitFor(() => {
      const scans = read().scans;
      if (scans.length) tree = scans[scans.length - 1].processes;
      return tree.some((p) => p.comm === 'sleep') && tree.some((p) => p.comm === 'head');
    }, 30_000);
    const head = tree.find((p) => p.comm === 'head')!;
    expect(tree.find((p) => p.pid === sh.pid)?.comm).toBe('sh');
    expect(head.ppid).toBe(sh.pid);
    expect(tree.some((p) => p.pid === process.pid || p.pid === 1)).toBe(false);
    expect(head.io!.rchar).toBeGreaterThan(0);
    expect(head.voluntaryCtxSwitches).not.toBeNull();
    // On demand: the promise resolves once the scan is published.
    read();
    const before = monotonicNowMs();
    await s.scanProcesses();
    const { scans } = read();
    expect(scans.length).toBeGreaterThanOrEqual(1);
    expect(scans[scans.length - 1].monotonicMs).toBeGreaterThanOrEqual(before);
    // Periodic scans besides the on-demand one: wait for them (bounded) rather than for a guessed time.
    await waitFor(() => (read(), published >= 3), 30_000);
    // Nothing sampled at 1 kHz (no host signal), so the only thread that ran was the scanner's.
    const r = s.stop();
    expect(r.samples).toBe(0);
    expect(r.processScans).toBeGreaterThanOrEqual(3);
    expect(r.processThreadCpuMs).toBeGreaterThan(0);
    expect(r.readIntervalsUs).toEqual({ processes: 100_000 });
  });

  it('names its threads, and samples at SCHED_FIFO when asked (or says why it could not)', async () => {
    const policyOf = (name: string): number | undefined => {
      for (const tid of readdirSync('/proc/self/task')) {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        // Fields after the comm start at field 3 (state); policy is field 41.
        if (stat.includes(`(${name})`)) return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
      }
      return undefined;
    };
    const plain = new Sampler({
      intervalUs: 1000,
      signals: ['memory'],
      processes: { descendantsOf: process.pid, intervalUs: 100_000 },
    }).start();
    // The threads name themselves once running: wait for that (bounded), not for a guessed 50 ms.
    await waitFor(() => policyOf('ovn-sampler') !== undefined && policyOf('ovn-procscan') !== undefined, 30_000);
    expect(policyOf('ovn-sampler')).toBe(0); // SCHED_OTHER
    expect(policyOf('ovn-procscan')).toBe(0);
    plain.stop();
    expect(policyOf('ovn-sampler')).toBeUndefined(); // stopping joins the threads
    const rt = new Sampler({ intervalUs: 1000, signals: ['memory'], realtime: true }).start();
    await samplesTaken(rt, 21);
    const policy = policyOf('ovn-sampler');
    const r = rt.stop();
    if (policy === 1)
      expect(r.warnings).toEqual([]); // SCHED_FIFO
    else expect(r.warnings.join('\n')).toMatch(/realtime: SCHED_FIFO refused .*CAP_SYS_NICE/);
    expect(r.samples).toBeGreaterThan(20);
  });

  it('keeps only the last `keep` scans for a reader that falls behind, and counts the rest as lost', async () => {
    const s = new Sampler({
      intervalUs: 1000,
      signals: [],
      processes: { descendantsOf: process.pid, keep: 2 },
    }).start();
    for (let i = 0; i < 5; i++) await s.scanProcesses();
    const r = s.readProcesses();
    expect(r.scans.length).toBe(2);
    expect(r.lost).toBe(3);
    expect(s.readProcesses()).toEqual({ scans: [], lost: 0 });
    s.stop();
  });
});

describe('overnight record', () => {
  it('runs the command, keeps its exit status, and writes the report', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'ovn-rec-')), 'report.json');
    let status = 0;
    try {
      execFileSync(
        process.execPath,
        [CLI, 'record', '--json', '--interval-ms', '5', '--output', out, '--', 'sh', '-c', 'sleep 0.2; exit 3'],
        { stdio: 'ignore' },
      );
    } catch (err) {
      status = (err as { status: number }).status;
    }
    expect(status).toBe(3);
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      exitCode: number;
      samples: number;
      signals: Record<string, unknown>;
      trustworthy: boolean;
    };
    expect(report.exitCode).toBe(3);
    expect(report.samples).toBeGreaterThan(10);
    expect(Object.keys(report.signals).some((k) => /^pid\d+_cpu_cores$/.test(k))).toBe(true);
  });
});

describe('PSI triggers', () => {
  it("fire when tasks stall on the CPU (three spinners on this machine's cores)", async () => {
    const { loadNative } = await import('../../src/native.js');
    const { cpus } = await import('node:os');
    let fired = '';
    const t = new (loadNative().PsiTriggers)([{ resource: 'cpu', stallUs: 50_000, windowUs: 2_000_000 }], (r) => {
      fired ||= r;
    });
    const kids = await Promise.all(
      Array.from({ length: cpus().length + 1 }, async () => {
        const k = spawnNode(scripts.spin());
        await firstLine(k);
        return k;
      }),
    );
    const end = Date.now() + 8000;
    while (!fired && Date.now() < end) await sleep(50);
    t.stop();
    for (const k of kids) k.kill('SIGKILL');
    expect(fired).toBe('cpu');
  }, 15_000);

  it('polls a file far from its threshold less often than pollUs, and still every 2 polls', async () => {
    // Stall grows no faster than the clock, so a file that lacks more than a poll's worth of stall
    // cannot pass its threshold before the next read: the watcher sleeps longer (at most 2 polls).
    // Counted as the wake-ups of its thread ("ovn-psi"): 2 s of 20 ms polls would be ~100.
    const { loadNative } = await import('../../src/native.js');
    const psiThreads = () =>
      readdirSync('/proc/self/task').filter((tid) => {
        try {
          return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'ovn-psi';
        } catch {
          return false;
        }
      });
    const wakeUps = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[2]);
    const before = new Set(psiThreads());
    const t = new (loadNative().PsiTriggers)(
      [{ resource: 'memory', name: 'quiet', arm: false, stallUs: 1_900_000, windowUs: 2_000_000 }],
      () => undefined,
      { pollUs: 20_000 },
    );
    try {
      let tid: string | undefined;
      await waitFor(() => (tid = psiThreads().find((x) => !before.has(x))) !== undefined, 5000);
      const w0 = wakeUps(tid!);
      const t0 = Date.now();
      await sleep(2000);
      const spanMs = Date.now() - t0;
      const n = wakeUps(tid!) - w0;
      expect(n).toBeLessThan((spanMs / 20) * 0.75); // one read every 2 polls, not every poll
      expect(n).toBeGreaterThanOrEqual(Math.floor(spanMs / 40 / 2)); // but it reads (each 40 ms at most)
      // Fresh enough for the monitor, which trusts totals up to 5 polls and 1 s old (pressure-watch.ts).
      const [s] = t.stalls(2_000_000);
      expect(s).toMatchObject({ name: 'quiet', known: true });
      expect(s.ageUs).toBeLessThan(5 * 20_000 + 1_000_000);
    } finally {
      t.stop();
    }
  });

  it('keeps the reading that opens a 10 s window while it reads less often', async () => {
    // Readings 2 polls apart (300 ms, which does not divide 10 s): the one at or before the window's
    // start must still be kept, or the window would be judged over less than 10 s.
    const { loadNative } = await import('../../src/native.js');
    const t = new (loadNative().PsiTriggers)(
      [{ resource: 'memory', name: 'long', arm: false, stallUs: 9_000_000, windowUs: 10_000_000 }],
      () => undefined,
      { pollUs: 150_000 },
    );
    try {
      const covered = () => t.stalls(10_000_000)[0].coveredUs;
      await waitFor(() => covered() >= 10_000_000, 20_000, 100);
      for (let i = 0; i < 8; i++) {
        await sleep(150);
        expect(covered()).toBeGreaterThanOrEqual(10_000_000);
      }
    } finally {
      t.stop();
    }
  }, 30_000);

  it('says why a trigger cannot be armed', async () => {
    const { loadNative } = await import('../../src/native.js');
    expect(
      () =>
        new (loadNative().PsiTriggers)(
          [{ resource: 'memory', stallUs: 5_000_000, windowUs: 1_000_000 }],
          () => undefined,
        ),
    ).toThrow(/EINVAL.*trigger/);
  });
});
