import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Sampler } from '../../src/sampler/sampler.js';
import { FakeNvmlConfig, fakeGpus, useFakeNvml } from '../helpers/fake-nvml.js';
import { firstLine, killAll, scripts, spawnNode } from '../helpers/children.js';
import { CLI } from '../helpers/mcp.js';

const fake = new FakeNvmlConfig({ devices: [{ ...fakeGpus(1)[0]!, reasons: 0x40, powerMw: 123_000 }] });
useFakeNvml('full', fake);
afterAll(killAll);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Sampler', () => {
  it('samples on its own thread into typed-array batches, read incrementally', async () => {
    const s = new Sampler({ intervalUs: 1000 }).start();
    await sleep(300);
    const a = s.read();
    await sleep(100);
    const b = s.read();
    const report = s.stop();
    expect(a.count).toBeGreaterThan(50);
    expect(a.timestamps).toBeInstanceOf(Float64Array);
    expect(a.values.length).toBe(a.count * a.channels.length);
    for (let i = 1; i < a.count; i++) expect(a.timestamps[i]!).toBeGreaterThan(a.timestamps[i - 1]!);
    expect(b.timestamps[0]!).toBeGreaterThan(a.timestamps[a.count - 1]!);
    const avail = a.column('mem_available_bytes');
    expect(avail[0]!).toBeGreaterThan(0);
    expect(report.samples).toBeGreaterThanOrEqual(a.count + b.count);
    expect(report.intervalUs.p50).toBeGreaterThan(0);
    expect(report.threadCpuMs).toBeGreaterThan(0);
    expect(s.running).toBe(false);
  });

  it('samples given pids: RSS, CPU cores, state — and NaN once a pid is gone', async () => {
    const big = spawnNode(scripts.allocateOnce(200));
    const spin = spawnNode(scripts.spin());
    await Promise.all([firstLine(big), firstLine(spin)]);
    const s = new Sampler({ intervalUs: 5000, signals: ['memory'], pids: [big.pid!, spin.pid!] }).start();
    await sleep(400);
    big.kill('SIGKILL');
    await sleep(200);
    const batch = s.read();
    const r = s.stop();
    expect(r.signals[`pid${big.pid}_rss_bytes`]!.max!).toBeGreaterThan(200 * 2 ** 20);
    expect(r.signals[`pid${spin.pid}_cpu_cores`]!.mean!).toBeGreaterThan(0.3);
    expect(String.fromCharCode(r.signals[`pid${spin.pid}_state`]!.max!)).toBe('R');
    const rss = batch.column(`pid${big.pid}_rss_bytes`);
    expect(Number.isNaN(rss[rss.length - 1]!)).toBe(true);
    expect(rss.some((v) => !Number.isNaN(v))).toBe(true);
  });

  it('keeps rolling statistics per signal over a window', async () => {
    const s = new Sampler({ intervalUs: 2000 }).start();
    await sleep(300);
    const w = s.window(100);
    s.stop();
    expect(w.count).toBeGreaterThan(10);
    expect(w.count).toBeLessThanOrEqual(52);
    const m = w.signals.mem_used_bytes!;
    expect(m.min!).toBeLessThanOrEqual(m.p50!);
    expect(m.p50!).toBeLessThanOrEqual(m.p99!);
    expect(m.p99!).toBeLessThanOrEqual(m.max!);
  });

  it('samples GPU utilization, memory, power and throttling through NVML (fake library)', async () => {
    const s = new Sampler({ intervalUs: 2000, signals: [], gpus: 'all' }).start();
    await sleep(100);
    const r = s.stop();
    expect(r.signals.gpu0_power_w!.mean).toBeCloseTo(123, 3);
    expect(r.signals.gpu0_thermal_throttle!.max).toBe(1);
  });

  it('flags what makes a benchmark untrustworthy: another process taking the CPU, GPU throttling', async () => {
    const spin = spawnNode(scripts.spin());
    await firstLine(spin);
    const rec = Sampler.record({ intervalUs: 5000, gpus: 'all' });
    await sleep(600);
    const report = rec.stop();
    expect(report.trustworthy).toBe(false);
    const flags = report.flags.map((f) => f.flag);
    expect(flags).toContain('other_processes_busy');
    expect(flags).toContain('gpu_thermal_throttling');
    spin.kill('SIGKILL');
  });

  it('refuses bad options', () => {
    expect(() => new Sampler({ intervalUs: 10 })).toThrow(/intervalUs: got 10/);
    expect(() => new Sampler({ intervalUs: 1000, pids: ['x' as unknown as number] })).toThrow(/pids/);
  });
});

describe('overnight record', () => {
  it('runs the command, keeps its exit status, and writes the report', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'ovn-rec-')), 'report.json');
    let status = 0;
    try {
      execFileSync(process.execPath, [CLI, 'record', '--json', '--interval-ms', '5', '--output', out, '--', 'sh', '-c', 'sleep 0.2; exit 3'], { stdio: 'ignore' });
    } catch (err) {
      status = (err as { status: number }).status;
    }
    expect(status).toBe(3);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { exitCode: number; samples: number; signals: Record<string, unknown>; trustworthy: boolean };
    expect(report.exitCode).toBe(3);
    expect(report.samples).toBeGreaterThan(10);
    expect(Object.keys(report.signals).some((k) => /^pid\d+_cpu_cores$/.test(k))).toBe(true);
  });
});

describe('PSI triggers', () => {
  it('fire when tasks stall on the CPU (three spinners on this machine\'s cores)', async () => {
    const { loadNative } = await import('../../src/native.js');
    const { cpus } = await import('node:os');
    let fired = '';
    const t = new (loadNative().PsiTriggers)([{ resource: 'cpu', stallUs: 50_000, windowUs: 2_000_000 }], (r) => {
      fired ||= r;
    });
    const kids = await Promise.all(Array.from({ length: cpus().length + 1 }, async () => {
      const k = spawnNode(scripts.spin());
      await firstLine(k);
      return k;
    }));
    const end = Date.now() + 8000;
    while (!fired && Date.now() < end) await sleep(50);
    t.stop();
    for (const k of kids) k.kill('SIGKILL');
    expect(fired).toBe('cpu');
  }, 15_000);

  it('says why a trigger cannot be armed', async () => {
    const { loadNative } = await import('../../src/native.js');
    expect(() => new (loadNative().PsiTriggers)([{ resource: 'memory', stallUs: 5_000_000, windowUs: 1_000_000 }], () => undefined)).toThrow(/EINVAL.*trigger/);
  });
});
