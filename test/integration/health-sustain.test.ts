/**
 * Health semantics: the sustain window is wall time over the background sampler's readings (a 1 s
 * spike does not flip the status however often quick is called; a held one, real memory from a
 * child, does), and quick reports the CPU count.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { HealthMonitor, type BackgroundReadings } from '../../src/health/health-monitor.js';
import type { Breach } from '../../src/health/thresholds.js';
import type { SampleBatch } from '../../src/sampler/sampler.js';
import { monotonicNowMs } from '../../src/util/clock.js';
import { spawnNode } from '../helpers/children.js';

const GiB = 2 ** 30;
const SPIKE_GIB = 2;
const SUSTAIN_MS = 4000;

function meminfo(): { total: number; used: number } {
  const text = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)![1]) * 1024;
  return { total: kb('MemTotal'), used: kb('MemTotal') - kb('MemAvailable') };
}

/** Allocates SPIKE_GIB GiB (touching every page) and holds it until killed. */
const spike =
  `const keep = []; for (let i = 0; i < ${SPIKE_GIB}; i++) keep.push(Buffer.alloc(${GiB}, 1)); ` +
  `setInterval(() => keep[0][0]++, 1000);`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

let monitor: HealthMonitor | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  monitor?.stop();
  monitor = undefined;
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await exited(c);
  }
});

async function startedMonitor(memoryLimit: number): Promise<HealthMonitor> {
  const m = new HealthMonitor({
    config: parseConfig({
      sampleIntervalMs: 100,
      thresholds: { memory: memoryLimit },
      hysteresis: { sustainMs: SUSTAIN_MS, sustainSamples: 2 },
    }),
    gpu: null,
  });
  m.start();
  return m;
}

/**
 * Scripted background readings through the monitor's sampler seam: a reading every 50 ms of real
 * (monotonic) time, memory at 30 % except while `spikeUntil` lies ahead, at 90 %. A real spike
 * cannot be made this short on a loaded 2-core node (touching 4 GiB takes ~30 s there).
 */
class ScriptedReadings implements BackgroundReadings {
  private next = monotonicNowMs();
  spikeFrom = Infinity;
  spikeUntil = -Infinity;
  read(): SampleBatch {
    const channels = ['mem_used_bytes', 'mem_available_bytes'];
    const t: number[] = [];
    const v: number[] = [];
    for (const now = monotonicNowMs(); this.next <= now; this.next += 50) {
      const used = this.next >= this.spikeFrom && this.next < this.spikeUntil ? 0.9 : 0.3;
      t.push(this.next);
      v.push(used * 100 * GiB, (1 - used) * 100 * GiB);
    }
    const values = Float64Array.from(v);
    return {
      count: t.length,
      channels,
      timestamps: Float64Array.from(t),
      values,
      lost: 0,
      column: (n: string) => Float64Array.from(t.map((_, i) => values[i * 2 + channels.indexOf(n)])),
    };
  }
  window(): ReturnType<BackgroundReadings['window']> {
    return { count: 0, signals: {} };
  }
}

describe("the sustain window is wall time over the sampler's readings", () => {
  it('quick every 100 ms through a 1 s spike never reports it; a spike held past sustainMs does', async () => {
    const readings = new ScriptedReadings();
    monitor = new HealthMonitor({
      config: parseConfig({ thresholds: { memory: 0.8 }, hysteresis: { sustainMs: 3000, sustainSamples: 2 } }),
      gpu: null,
      sampler: readings,
    });
    monitor.start(100);
    const quickMemory = async () =>
      (await monitor!.checkSystemHealth('quick')).breached.find((b) => b.metric === 'memory');

    const t0 = monotonicNowMs();
    readings.spikeFrom = t0 + 500;
    readings.spikeUntil = t0 + 1500;
    const seen: unknown[] = [];
    let calls = 0;
    while (monotonicNowMs() < t0 + 3000) {
      const b = await quickMemory();
      calls++;
      if (b) seen.push(b);
      await sleep(100);
    }
    expect(calls).toBeGreaterThan(10);
    expect(seen).toEqual([]);

    // Held: reported once the readings have been over the limit for 3 s, not before.
    const t1 = monotonicNowMs();
    readings.spikeFrom = t1;
    readings.spikeUntil = Infinity;
    let breach: Breach | undefined;
    while (!breach) {
      if (monotonicNowMs() - t1 > 30_000) throw new Error('a held spike was never reported in 30 s');
      breach = await quickMemory();
      if (!breach) await sleep(100);
    }
    expect(monotonicNowMs() - t1).toBeGreaterThanOrEqual(3000);
    expect(breach.sustained_sec).toBeGreaterThanOrEqual(3);
    expect(breach.observed).toBeCloseTo(0.9, 5);
  });

  it('a real memory spike held by a child is reported once it has lasted the sustain window', async () => {
    const base = meminfo();
    if (base.total - base.used < (SPIKE_GIB + 4) * GiB)
      throw new Error(
        `this test needs ${SPIKE_GIB + 4} GiB available (has ${((base.total - base.used) / GiB).toFixed(1)})`,
      );
    // The limit sits half the spike above today's use: only the spike crosses it.
    const limitBytes = base.used + (SPIKE_GIB / 2) * GiB;
    monitor = await startedMonitor(limitBytes / base.total);
    const held = spawnNode(spike);
    children.push(held);
    const heldAt = Date.now();
    let breach: Breach | undefined;
    while (!breach) {
      if (Date.now() - heldAt > 120_000) throw new Error('a held spike was never reported in 120 s');
      breach = (await monitor.checkSystemHealth('quick')).breached.find((b) => b.metric === 'memory');
      if (!breach) await sleep(100);
    }
    // The sampler saw the spike over the limit for the whole sustain window before it was reported.
    expect(breach.sustained_sec).toBeGreaterThanOrEqual(SUSTAIN_MS / 1000);
    expect(Date.now() - heldAt).toBeGreaterThanOrEqual(SUSTAIN_MS);
    expect(monitor.recentWindow(120_000)!.signals.mem_used_bytes.max!).toBeGreaterThan(limitBytes);
  }, 180_000);
});

describe('quick reports the CPUs', () => {
  it("metrics.cpu.cpus is the node's CPU count and load1_per_cpu is set", async () => {
    const cpus = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .filter((l) => /^cpu\d+ /.test(l)).length;
    const m = new HealthMonitor({ gpu: null });
    const r = await m.checkSystemHealth('quick');
    expect(r.metrics.cpu.cpus).toBe(cpus);
    expect(r.metrics.cpu.load1).not.toBeNull();
    expect(r.metrics.cpu.load1_per_cpu).toBeCloseTo(r.metrics.cpu.load1! / cpus, 3);
  });
});
