import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { OvernightMetrics } from '../../src/metrics/prometheus.js';
import { ManualClock } from '../../src/util/clock.js';
import { FakeNvmlConfig, buildFakeNvml, fakeGpus, useFakeNvml, type FakeGpu } from '../helpers/fake-nvml.js';
import { runIsolated } from '../helpers/isolated.js';
import type { GpuSampleResult } from '../../src/native.js';
import { killAll, spawnCommand } from '../helpers/children.js';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const link = (extra: Record<string, unknown> = {}) => ({
  active: true,
  version: 4,
  replay: 0,
  recovery: 0,
  crcFlit: 0,
  crcData: 0,
  ...extra,
});
const links = (n: number) => Array.from({ length: n }, () => link());
const hgx = (n: number, extra: Partial<FakeGpu> = {}): FakeGpu[] =>
  fakeGpus(n).map((g) => ({
    ...g,
    nvlinks: links(18),
    fabric: { state: 3, status: 0, cliqueId: 7, clusterUuid: '00112233445566778899aabbccddeeff', healthMask: 2 },
    ...extra,
  }));

const fake = new FakeNvmlConfig({ devices: hgx(2) });
useFakeNvml('full', fake);
const { gpuSampler } = await import('../../src/gpu/gpu-sampler.js');
afterAll(() => gpuSampler().close());
afterEach(() => killAll());

const sysfs = mkdtempSync(path.join(tmpdir(), 'overnight-nosysfs-'));
afterAll(() => rmSync(sysfs, { recursive: true, force: true }));
const monitor = (gpu: object = {}, clock = new ManualClock()) =>
  new HealthMonitor({ config: parseConfig({ nodeChecks: { sysfsRoot: sysfs }, gpu }), gpu: gpuSampler(), clock });

/** A real process whose argv[0] is nv-fabricmanager (a copy of sleep under that name). */
function fakeFabricManager() {
  const dir = mkdtempSync(path.join(tmpdir(), 'overnight-fm-'));
  const bin = path.join(dir, 'nv-fabricmanager');
  copyFileSync('/bin/sleep', bin);
  return spawnCommand(bin, ['600']);
}

describe('NVLink and NVSwitch through the fake NVML', () => {
  it('samples every link with version, remote PCI and counters, and the fabric state', async () => {
    fake.write({
      devices: hgx(1, {
        nvlinks: [link({ crcFlit: 5, replay: 2 }), null, link({ active: false, remoteBusId: '00000000:C1:00.0' })],
      }),
    });
    const s = await gpuSampler().sample({ processes: false });
    if (!s.available) throw new Error(s.reason);
    const d = s.devices[0];
    expect(d.nvlinks!.map((l) => [l.link, l.active, l.version, l.crcFlitErrors, l.replayErrors])).toEqual([
      [0, true, 4, 5, 2],
      [2, false, 4, 0, 0],
    ]);
    expect(d.nvlinks![0].remoteBusId).toBe('00000000:80:00.0');
    expect(d.nvlinks![1].remoteBusId).toBe('00000000:C1:00.0');
    expect(d.fabric).toEqual({
      state: 'completed',
      stateId: 3,
      status: { code: 'NVML_SUCCESS', message: 'Success' },
      cliqueId: 7,
      clusterUuid: '00112233445566778899aabbccddeeff',
      healthMask: 2,
    });
  });

  it('a PCIe-only GPU is NOT_SUPPORTED for NVLink and fabric, and that is no finding', async () => {
    fake.write({ devices: fakeGpus(1) });
    const r = await monitor().checkSystemHealth('full');
    const ic = r.metrics.node_checks!.gpu_interconnect!;
    expect(ic.gpus[0]).toMatchObject({
      nvlink: null,
      nvlink_reason: 'no NVLink on this GPU',
      fabric: null,
      fabric_reason: 'not part of an NVSwitch fabric',
    });
    expect(ic.fabric_manager.needed).toBe(false);
    expect(
      r.metrics.node_checks!.findings.filter((f) => ['nvlink', 'fabric', 'fabric_manager'].includes(f.check)),
    ).toEqual([]);
  });

  it('a link that went down is critical; growing CRC and recovery counters are degraded', async () => {
    fakeFabricManager();
    fake.write({ devices: hgx(2) });
    const clock = new ManualClock();
    const m = monitor({}, clock);
    await waitForFm(m);
    clock.advance(600_000);
    const bad = hgx(2);
    bad[0].nvlinks = links(18).map((l, i) =>
      i === 3 ? link({ active: false }) : i === 5 ? link({ crcData: 4, recovery: 1 }) : l,
    );
    bad[1].nvlinks = links(18).map((l, i) => (i === 0 ? link({ crcFlit: 10 }) : l)); // 60/h < 100/h
    fake.write({ devices: bad });
    const r = await m.checkSystemHealth('full');
    const f = r.metrics
      .node_checks!.findings.filter((x) => x.check === 'nvlink')
      .map((x) => `${x.severity} ${x.message}`);
    expect(f).toEqual(
      [
        'critical GPU 0 NVLink 3 was up and went down',
        'degraded GPU 0 NVLink 5: recovery errors grew by 1 in 600 s (6/h > 0/h)',
        'degraded GPU 0 NVLink 5: crcData errors grew by 4 in 600 s (24/h > 10/h)',
      ].sort((a, b) => (a.startsWith('critical') ? -1 : b.startsWith('critical') ? 1 : 0)),
    );
    expect(r.status).toBe('critical');
    const metrics = new OvernightMetrics();
    metrics.updateHealth(r, new Set());
    const text = await metrics.text();
    expect(text).toContain(
      'DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL{gpu="0",UUID="GPU-fake-0",modelName="Fake H100"} 4',
    );
    expect(text).toContain(
      'DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL{gpu="1",UUID="GPU-fake-1",modelName="Fake H100"} 10',
    );
    expect(text).toContain('# TYPE DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL counter');
    expect(text).toContain('overnight_nvlink_up{gpu="0",UUID="GPU-fake-0",modelName="Fake H100",link="3"} 0');
    expect(text).toContain('overnight_fabric_manager_running 1');
  });

  it('fabric registration failed or not started: critical (restart it); fabric manager missing: critical', async () => {
    const devs = hgx(3);
    devs[0].fabric = { state: 3, status: 'TIMEOUT', cliqueId: 0 };
    devs[1].fabric = { state: 1 };
    devs[2].fabric = { state: 2, healthMask: 1 };
    fake.write({ devices: devs });
    const r = await monitor().checkSystemHealth('full');
    const f = r.metrics.node_checks!.findings.filter((x) => x.check.startsWith('fabric'));
    expect(f.map((x) => [x.severity, x.message])).toEqual([
      ['critical', 'GPU 0: NVSwitch fabric registration failed (NVML_ERROR_TIMEOUT: Timeout)'],
      ['critical', 'GPU 1: NVSwitch fabric registration has not started'],
      ['critical', 'nvidia-fabricmanager is not running on an NVSwitch system'],
      ['degraded', 'GPU 2: NVSwitch fabric registration in progress'],
      ['degraded', 'GPU 2: NVSwitch fabric reports degraded bandwidth'],
    ]);
    expect(f[0].action).toContain('systemctl restart nvidia-fabricmanager');
    expect(r.status).toBe('critical');
  });

  it('persistence off where expected degraded; fewer GPUs than expected: critical; other model: degraded', async () => {
    fake.write({
      devices: [
        ...fakeGpus(1, { persistence: 0 }),
        ...fakeGpus(1, { name: 'Fake A10' }).map((g) => ({ ...g, uuid: 'GPU-x' })),
      ],
    });
    const r = await monitor({ expectedCount: 8, expectedModels: ['H100'], persistenceMode: true }).checkSystemHealth(
      'full',
    );
    const f = r.metrics.node_checks!.findings.map((x) => [x.check, x.severity, x.message]);
    expect(f).toContainEqual(['gpu_count', 'critical', '2 GPUs visible, 8 expected']);
    expect(f).toContainEqual(['gpu_model', 'degraded', 'GPU 1 is a Fake A10, not one of H100']);
    expect(f).toContainEqual(['persistence_mode', 'degraded', 'GPU 0: persistence mode is off']);
    expect(r.status).toBe('critical');
    const fine = await monitor({ expectedCount: 2, persistenceMode: false }).checkSystemHealth('full');
    expect(
      fine.metrics.node_checks!.findings.filter((x) => x.check.startsWith('gpu_') || x.check === 'persistence_mode'),
    ).toEqual([]);
  });
});

describe('older drivers (the legacy fake: no _v2 remote PCI, no fabric V entry point)', () => {
  it('reads the v1 layouts: remote PCI bus id from the 16-byte field, fabric state without a health mask', () => {
    const legacy = new FakeNvmlConfig({ devices: hgx(1, { nvlinks: [link({ crcData: 3 })] }) });
    const r = runIsolated<{ info: { functions: Record<string, string | null> }; sample: GpuSampleResult }>(
      'return { info: d.nvmlInfo(), sample: await d.gpuSampler().sample({ processes: false }) };',
      { OVERNIGHT_NVML_LIBRARY: buildFakeNvml().legacy, OVERNIGHT_FAKE_NVML_CONFIG: legacy.path },
    );
    expect(r.info.functions.nvLinkRemotePci).toBe('nvmlDeviceGetNvLinkRemotePciInfo');
    expect(r.info.functions.fabricInfoV).toBeNull();
    expect(r.info.functions.fabricInfo).toBe('nvmlDeviceGetGpuFabricInfo');
    if (!r.sample.available) throw new Error(r.sample.reason);
    const d = r.sample.devices[0];
    expect(d.nvlinks).toEqual([
      {
        link: 0,
        active: true,
        version: 4,
        remoteBusId: '0000:80:00.0',
        replayErrors: 0,
        recoveryErrors: 0,
        crcFlitErrors: 0,
        crcDataErrors: 3,
        errors: {},
      },
    ]);
    expect(d.fabric).toMatchObject({
      state: 'completed',
      status: { code: 'NVML_SUCCESS' },
      cliqueId: 7,
      clusterUuid: '00112233445566778899aabbccddeeff',
      healthMask: null,
    });
  });
});

async function waitForFm(m: HealthMonitor) {
  for (let i = 0; i < 100; i++) {
    const r = await m.checkSystemHealth('full');
    if (r.metrics.node_checks!.gpu_interconnect!.fabric_manager.running) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('the fake fabric manager never showed up in the process scan');
}
