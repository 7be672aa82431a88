/**
 * CPU saturation alone is informational: a compute node is busy by design. It degrades the node
 * only when PSI says runnable work is waiting for a CPU (thresholds.cpuPressure). Driven through
 * the health monitor's host-reader seam, so the CPU figures are exact.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import type { HostSample, NativeHostReader } from '../../src/native.js';
import { ManualClock } from '../../src/util/clock.js';

const psiLine = (avg10: number) => ({ avg10, avg60: avg10, avg300: avg10, totalUs: 0 });

function reader(state: { busy: number; cpuWait: number; memUsed?: number }): NativeHostReader {
  const cpuTimes = { busy: 0, user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0 };
  return {
    sample: () =>
      ({
        timeMs: Date.now(),
        monotonicMs: 0,
        memory: {
          total: 64e9,
          available: 64e9 - (state.memUsed ?? 16e9),
          used: state.memUsed ?? 16e9,
          swapTotal: 0,
          swapFree: 0,
        },
        cpu: {
          total: cpuTimes,
          perCpu: [cpuTimes, cpuTimes, cpuTimes, cpuTimes],
          ctxt: 0,
          processes: 0,
          procsRunning: 4,
          procsBlocked: 0,
          btime: 0,
          utilization: { ...cpuTimes, busy: state.busy, idle: 1 - state.busy },
          perCpuUtilization: null,
          intervalSec: 1,
        },
        load: { load1: 4, load5: 4, load15: 4, runnable: 4, threads: 100, lastPid: 1 },
        uptime: null,
        psi: {
          cpu: { some: psiLine(state.cpuWait), full: null },
          memory: { some: psiLine(0), full: psiLine(0) },
          io: null,
        },
        cgroup: null,
        filesystems: [],
        unavailable: {},
      }) as unknown as HostSample,
    samplePacked: () => {
      throw new Error('not used');
    },
    resetCpuBaseline: () => undefined,
  };
}

describe('CPU saturation', () => {
  it('informational while no work waits for a CPU; degraded once PSI cpu stall > thresholds.cpuPressure', async () => {
    const clock = new ManualClock();
    const state = { busy: 1, cpuWait: 2 };
    const monitor = new HealthMonitor({
      clock,
      hostReader: reader(state),
      gpu: null,
      config: parseConfig({ hysteresis: { sustainMs: 0, sustainSamples: 1 } }),
    });
    const a = await monitor.checkSystemHealth('quick');
    const cpu = a.breached.find((b) => b.metric === 'cpu')!;
    expect(cpu.observed).toBe(1);
    expect(cpu.informational).toBe(true);
    expect(a.status).toBe('healthy');
    expect(a.recommendations.find((r) => r.message.startsWith('CPU busy'))!.severity).toBe('info');
    expect(a.metrics.cpu.cpus).toBe(4);
    expect(a.metrics.cpu.load1_per_cpu).toBe(1);

    state.cpuWait = 80;
    clock.advance(1000);
    const b = await monitor.checkSystemHealth('quick');
    expect(b.breached.find((x) => x.metric === 'cpuPressure')!.observed).toBe(80);
    expect(b.breached.find((x) => x.metric === 'cpu')!.informational).toBeUndefined();
    expect(b.status).toBe('degraded');
    expect(b.thresholds.cpuPressure).toBe(50);
    expect(b.recommendations.some((r) => r.severity === 'warning' && /waited for a CPU 80\.0%/.test(r.message))).toBe(
      true,
    );
  });

  it('the limit for PSI cpu stall is configurable', async () => {
    const state = { busy: 1, cpuWait: 30 };
    const cfg = (cpuPressure: number) =>
      parseConfig({ thresholds: { cpuPressure }, hysteresis: { sustainMs: 0, sustainSamples: 1 } });
    expect(
      (await new HealthMonitor({ hostReader: reader(state), gpu: null, config: cfg(50) }).checkSystemHealth('quick'))
        .status,
    ).toBe('healthy');
    expect(
      (await new HealthMonitor({ hostReader: reader(state), gpu: null, config: cfg(20) }).checkSystemHealth('quick'))
        .status,
    ).toBe('degraded');
    expect(() => parseConfig({ thresholds: { cpuPressure: 150 } })).toThrow(/cpuPressure/);
  });
});

describe('checks without a background sampler', () => {
  it('a one-shot check (health, NHC) judges its one reading; later checks count over the sustain window', async () => {
    const clock = new ManualClock();
    const state = { busy: 0.1, cpuWait: 0, memUsed: 0.9 * 64e9 };
    const monitor = new HealthMonitor({ clock, hostReader: reader(state), gpu: null });
    const memory = async () => (await monitor.checkSystemHealth('quick')).breached.find((b) => b.metric === 'memory');
    expect((await memory())!.observed).toBeCloseTo(0.9, 4);
    state.memUsed = 0.5 * 64e9;
    clock.advance(100);
    expect(await memory()).toBeUndefined();
    // A spike after that: checks 100 ms apart for 1 s do not make it a breach (sustainMs 10 s).
    state.memUsed = 0.9 * 64e9;
    for (let i = 0; i < 10; i++) {
      clock.advance(100);
      expect(await memory()).toBeUndefined();
    }
    // The run began at the first of those ten readings, 0.9 s ago: 10 s of it is a breach.
    clock.advance(9000);
    expect(await memory()).toBeUndefined();
    clock.advance(100);
    expect((await memory())!.sustained_sec).toBe(10);
  });
});
