import { readFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeNvmlConfig, buildFakeNvml, fakeGpus, useFakeNvml } from '../helpers/fake-nvml.js';
import { runIsolated } from '../helpers/isolated.js';
import type { GpuDeviceSample, GpuSampleResult } from '../../src/native.js';

const config = new FakeNvmlConfig({ devices: fakeGpus(1) });
const logPath = path.join(mkdtempSync(path.join(tmpdir(), 'ovn-nvml-log-')), 'calls.log');
useFakeNvml('full', config);
process.env.OVERNIGHT_FAKE_NVML_LOG = logPath;

const { gpuSampler, nvmlInfo } = await import('../../src/gpu/gpu-sampler.js');
const { watchGpuEvents } = await import('../../src/gpu/gpu-events.js');
const sampler = gpuSampler();

async function devices(opts = {}): Promise<GpuDeviceSample[]> {
  const s = await sampler.sample(opts);
  if (!s.available) throw new Error(`unavailable: ${s.reason}`);
  return s.devices;
}

afterAll(() => sampler.close());

describe('NVML loader against the fake library', () => {
  it('resolves the newest versioned symbols', () => {
    const info = nvmlInfo();
    expect(info.loaded).toBe(true);
    expect(info.functions.init).toBe('nvmlInit_v2');
    expect(info.functions.deviceCount).toBe('nvmlDeviceGetCount_v2');
    expect(info.functions.computeProcesses).toBe('nvmlDeviceGetComputeRunningProcesses_v3');
    expect(info.functions.eventSetWait).toBe('nvmlEventSetWait_v2');
    expect(info.functions.memoryV2).toBe('nvmlDeviceGetMemoryInfo_v2');
    expect(info.processInfoStride).toBe(24);
  });

  it.each([0, 1, 8])('samples %i GPUs with every field', async (n) => {
    // every field: one NVLink link and a completed fabric registration too (a PCIe-only GPU reports NOT_SUPPORTED for
    // those)
    config.write({ devices: fakeGpus(n).map((g) => ({ ...g, nvlinks: [{ active: true }], fabric: { state: 3 } })) });
    const s = await sampler.sample();
    expect(s.available).toBe(true);
    if (!s.available) return;
    expect(s.deviceCount).toBe(n);
    expect(s.devices).toHaveLength(n);
    for (const [i, d] of s.devices.entries()) {
      expect(d.index).toBe(i);
      expect(d.uuid).toBe(`GPU-fake-${i}`);
      expect(d.memory!.total).toBe(80 * 2 ** 30);
      expect(d.memory!.used).toBe((i + 1) * 2 ** 30);
      expect(d.memory!.reserved).toBe(5e8);
      expect(d.utilization!.gpu).toBeCloseTo((10 * i) / 100);
      expect(d.temperatureC).toBe(40 + i);
      expect(d.slowdownTemperatureC).toBe(89);
      expect(d.busId).toMatch(/^00000000:[0-9A-F]{2}:00\.0$/);
      expect(d.remappedRows).toEqual({ correctable: 0, uncorrectable: 0, pending: false, failure: false });
      expect(d.recoveryAction).toBe('none');
      expect(d.nvlinks).toHaveLength(1);
      expect(d.fabric!.state).toBe('completed');
      expect(d.errors).toEqual({});
    }
  });

  it('nulls only the field that is NOT_SUPPORTED or NO_PERMISSION, with the NVML code', async () => {
    config.write({
      devices: fakeGpus(1, {
        returns: { nvmlDeviceGetPowerUsage: 'NOT_SUPPORTED', nvmlDeviceGetTotalEccErrors: 'NO_PERMISSION' },
      }),
    });
    const [d] = await devices();
    expect(d.powerW).toBeNull();
    expect(d.errors.powerW.code).toBe('NVML_ERROR_NOT_SUPPORTED');
    expect(d.errors.powerW.message).toBe('Not Supported');
    expect(d.eccUncorrectedVolatile).toBeNull();
    expect(d.errors.eccUncorrectedVolatile.code).toBe('NVML_ERROR_NO_PERMISSION');
    expect(d.temperatureC).toBe(40);
  });

  it('keeps a fixed set and order of keys per device: fields not asked for are absent, failed ones null', async () => {
    // The device objects are built by a JS literal from a packed row of numbers (native/napi/gpu_convert.cc):
    // the shape must not depend on which queries failed, and a quick or processes: false sample leaves keys out.
    config.write({
      devices: [
        ...fakeGpus(1, {
          retiredPending: 1,
          remapPending: 1,
          returns: { nvmlDeviceGetTemperature: 'TIMEOUT', nvmlDeviceGetRemappedRows: 'NOT_SUPPORTED' },
        }),
        { ...fakeGpus(2)[1], lost: true },
      ],
    });
    const full = [
      'index', 'uuid', 'name', 'busId', 'utilization', 'memory', 'temperatureC', 'slowdownTemperatureC',
      'shutdownTemperatureC', 'maxOperatingTemperatureC', 'powerW', 'powerLimitW', 'smClockMhz', 'memClockMhz',
      'graphicsClockMhz', 'clocksEventReasons', 'eccCorrectedVolatile', 'eccUncorrectedVolatile',
      'eccCorrectedAggregate', 'eccUncorrectedAggregate', 'retiredPagesSingleBit', 'retiredPagesDoubleBit',
      'retiredPagesPending', 'remappedRows', 'pcieReplayCounter', 'performanceState', 'persistenceMode',
      'computeMode', 'processes', 'recoveryAction', 'nvlinks', 'fabric', 'lost', 'sampleUs', 'errors',
    ]; // prettier-ignore
    const quick = ['index', 'uuid', 'name', 'utilization', 'memory', 'temperatureC', 'powerW', 'processes'];
    const tail = ['lost', 'sampleUs', 'errors'];
    const cases: [object, string[]][] = [
      [{}, full],
      [{ processes: false }, full.filter((k) => k !== 'processes')],
      [{ quick: true }, [...quick, ...tail]],
      [{ quick: true, processes: false }, [...quick.filter((k) => k !== 'processes'), ...tail]],
    ];
    for (const [opts, keys] of cases) {
      const [d, lost] = await devices(opts);
      expect(Object.keys(d)).toEqual(keys);
      expect(d.temperatureC).toBeNull();
      expect(d.errors.temperatureC.code).toBe('NVML_ERROR_TIMEOUT');
      expect(Object.keys(d.utilization!)).toEqual(['gpu', 'memory']);
      expect(d.utilization!.gpu).toBe(0);
      expect(d.memory).toEqual({ total: 80 * 2 ** 30, used: 2 ** 30, free: 79 * 2 ** 30 - 5e8, reserved: 5e8 });
      expect(Object.keys(lost)).toEqual(['index', 'errors', 'lost']);
      expect(lost).toMatchObject({ index: 1, lost: true, errors: { handle: { code: 'NVML_ERROR_GPU_IS_LOST' } } });
      if (keys === full) {
        expect(d.retiredPagesPending).toBe(true);
        expect(d.persistenceMode).toBe(true);
        expect(d.remappedRows).toBeNull();
        // a GPU without NVLink or fabric answers NOT_SUPPORTED for both
        expect(Object.keys(d.errors)).toEqual(['temperatureC', 'remappedRows', 'nvlinks', 'fabric']);
        expect(d.clocksEventReasons).toEqual({ mask: 0, names: [] });
        expect(d.computeMode).toBe('default');
      }
    }
  });

  it('decodes clocks-event reasons and processes', async () => {
    config.write({
      devices: fakeGpus(1, {
        reasons: 0x40 | 0x80 | 0x1,
        processes: [
          { pid: 4242, usedMemory: 2 ** 30 },
          { pid: 4343, usedMemory: null },
        ],
      }),
    });
    const [d] = await devices();
    expect(d.clocksEventReasons!.names).toEqual(['gpu_idle', 'hw_thermal_slowdown', 'hw_power_brake_slowdown']);
    expect(d.processes).toEqual([
      { pid: 4242, usedMemory: 2 ** 30 },
      { pid: 4343, usedMemory: null },
    ]);
  });

  it('survives a driver that fills _v3 process entries with a wider (32-byte) layout', async () => {
    config.write({
      devices: fakeGpus(1, {
        processStride: 32,
        processes: [
          { pid: 101, usedMemory: 5 },
          { pid: 202, usedMemory: 6 },
          { pid: 303, usedMemory: 7 },
        ],
      }),
    });
    const [d] = await devices();
    expect(d.processes!.map((p) => p.pid)).toEqual([101, 202, 303]);
  });

  it('reports a call past its deadline as timed out without blocking the event loop', async () => {
    config.write({ devices: fakeGpus(1, { delays: { nvmlDeviceGetTemperature: 1500 } }) });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const t0 = Date.now();
    const s = await sampler.sample({ timeoutMs: 200 });
    const waited = Date.now() - t0;
    clearInterval(timer);
    expect(s.available).toBe(false);
    expect('timedOut' in s && s.timedOut).toBe(true);
    expect(waited).toBeLessThan(1200);
    expect(ticks).toBeGreaterThan(5);
    // While the thread is still inside the slow call (1.5 s from its start), the next request answers at once.
    const again = await sampler.sample({ timeoutMs: 100 });
    expect(again.available).toBe(false);
    expect((again as { reason: string }).reason).toMatch(/stuck in an NVML call|did not answer/);
    config.write({ devices: fakeGpus(1) });
    // Once the slow call returns, the thread answers again: poll for that (bounded), not for a guessed 1.5 s.
    let back = false;
    for (const end = Date.now() + 30_000; !back && Date.now() < end;) {
      back = (await sampler.sample()).available;
      if (!back) await new Promise((r) => setTimeout(r, 100));
    }
    expect(back).toBe(true);
  });

  it('delivers injected Xid events to a subscription, classified, until stopped', async () => {
    config.write({ devices: fakeGpus(2), events: [] });
    const events: { xid?: number; gpuIndex?: number; classification?: { severity: string; resettable: boolean } }[] =
      [];
    const sub = watchGpuEvents((e) => events.push(e), { pollMs: 20 });
    await new Promise((r) => setTimeout(r, 100));
    config.injectXid(1, 79);
    config.injectXid(0, 13);
    const t0 = Date.now();
    while (events.length < 2 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    sub.stop();
    expect(events.map((e) => [e.gpuIndex, e.xid])).toEqual([
      [1, 79],
      [0, 13],
    ]);
    expect(events[0].classification).toMatchObject({ severity: 'fatal', resettable: false });
    expect(events[1].classification!.severity).toBe('application');
    config.injectXid(0, 48);
    await new Promise((r) => setTimeout(r, 150));
    expect(events).toHaveLength(2);
  });

  it('sees a GPU that becomes lost', async () => {
    config.write({ devices: fakeGpus(2) });
    expect((await devices())[1].lost).toBe(false);
    config.write({ devices: [fakeGpus(2)[0], { ...fakeGpus(2)[1], lost: true }] });
    const ds = await devices();
    expect(ds[0].lost).toBe(false);
    expect(ds[1].lost).toBe(true);
    expect(ds[1].errors.handle.code).toBe('NVML_ERROR_GPU_IS_LOST');
  });

  it('runs setters on the GPU thread (recorded by the fake)', async () => {
    config.write({ devices: fakeGpus(2) });
    const r = await sampler.action(1, 'resetGpuLockedClocks');
    expect(r.ok).toBe(true);
    const bad = await sampler.action(7, 'resetGpuLockedClocks');
    expect(bad.ok).toBe(false);
    expect(bad.code).toBe('NVML_ERROR_INVALID_ARGUMENT');
    expect(existsSync(logPath) && readFileSync(logPath, 'utf8')).toContain('nvmlDeviceResetGpuLockedClocks 1 0');
  });
});

describe('NVML in other processes', () => {
  beforeAll(() => buildFakeNvml());

  it('without the library: available false with the reason, and no crash', () => {
    const r = runIsolated<GpuSampleResult>('return await d.gpuSampler().sample();', {
      OVERNIGHT_NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1',
    });
    expect(r.available).toBe(false);
    if (r.available) return;
    expect(r.reason).toBe('/nonexistent/libnvidia-ml.so.1 not found');
    expect(r.code).toBe('NVML_ERROR_LIBRARY_NOT_FOUND');
  });

  it('falls back to old entry points, and a missing function nulls its field', () => {
    const legacy = new FakeNvmlConfig({ devices: fakeGpus(1, { processes: [{ pid: 77, usedMemory: 123 }] }) });
    const r = runIsolated<{
      info: { functions: Record<string, string | null>; processInfoStride: number };
      sample: GpuSampleResult;
    }>('return { info: d.nvmlInfo(), sample: await d.gpuSampler().sample() };', {
      OVERNIGHT_NVML_LIBRARY: buildFakeNvml().legacy,
      OVERNIGHT_FAKE_NVML_CONFIG: legacy.path,
    });
    expect(r.info.functions.init).toBe('nvmlInit');
    expect(r.info.functions.computeProcesses).toBe('nvmlDeviceGetComputeRunningProcesses');
    expect(r.info.functions.remappedRows).toBeNull();
    expect(r.info.processInfoStride).toBe(16);
    expect(r.sample.available).toBe(true);
    if (!r.sample.available) return;
    const dev = r.sample.devices[0];
    expect(dev.remappedRows).toBeNull();
    expect(dev.errors.remappedRows.code).toBe('NVML_ERROR_FUNCTION_NOT_FOUND');
    expect(dev.memory!.reserved).toBeNull();
    expect(dev.processes).toEqual([{ pid: 77, usedMemory: 123 }]);
    expect(dev.busId).toBe('0000:10:00.0');
  });

  it('reports a failing nvmlInit with its code', () => {
    const cfg = new FakeNvmlConfig({ devices: [], initReturn: 'DRIVER_NOT_LOADED' });
    const r = runIsolated<GpuSampleResult>('return await d.gpuSampler().sample();', {
      OVERNIGHT_NVML_LIBRARY: buildFakeNvml().full,
      OVERNIGHT_FAKE_NVML_CONFIG: cfg.path,
    });
    expect(r.available).toBe(false);
    if (r.available) return;
    expect(r.code).toBe('NVML_ERROR_DRIVER_NOT_LOADED');
  });
});
