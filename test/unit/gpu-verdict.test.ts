import { describe, expect, it } from 'vitest';
import { GpuHealthTracker, gpuVerdict } from '../../src/gpu/verdict.js';
import { classifyXid, FATAL_XIDS } from '../../src/gpu/xid.js';
import { loadNative } from '../../src/native.js';
import type { GpuDeviceSample } from '../../src/native.js';

const healthy: GpuDeviceSample = {
  index: 0,
  uuid: 'GPU-0',
  temperatureC: 50,
  slowdownTemperatureC: 89,
  shutdownTemperatureC: 92,
  clocksEventReasons: { mask: 0, names: [] },
  eccUncorrectedVolatile: 0,
  retiredPagesSingleBit: 0,
  retiredPagesDoubleBit: 0,
  retiredPagesPending: false,
  remappedRows: { correctable: 0, uncorrectable: 0, pending: false, failure: false },
  pcieReplayCounter: 0,
  recoveryAction: 'none',
  lost: false,
  errors: {},
};

describe('Xid classifier', () => {
  it("follows NVIDIA's catalog and DCGM's fatal set", () => {
    for (const x of [48, 74, 79, 95, 119, 120, 140]) expect(classifyXid(x).severity).toBe('fatal');
    for (const x of [13, 31, 43, 68, 109]) expect(classifyXid(x).severity).toBe('application');
    expect(classifyXid(45).severity).toBe('info');
    expect(classifyXid(79).resettable).toBe(false);
    expect(classifyXid(79).ladder).toEqual(['drain_node', 'reboot_node']);
    expect(classifyXid(48).ladder).toContain('reset_gpu');
    expect(classifyXid(63).description).toMatch(/row remapping/);
    expect(classifyXid(64).severity).toBe('fatal');
    expect(classifyXid(9999).severity).toBe('degraded');
    expect(FATAL_XIDS).toContain(79);
  });
});

describe('GPU verdicts', () => {
  it('healthy when nothing is wrong', () => {
    expect(gpuVerdict(healthy, { nowMs: 0 })).toMatchObject({ status: 'healthy', reasons: [], actions: [] });
  });

  it.each([
    ['temperature at slowdown', { temperatureC: 89 }, 'degraded', /slowdown threshold/],
    ['temperature at shutdown', { temperatureC: 93 }, 'failed', /shutdown threshold/],
    ['hardware slowdown', { clocksEventReasons: { mask: 8, names: ['hw_slowdown'] } }, 'degraded', /hw_slowdown/],
    [
      'power brake',
      { clocksEventReasons: { mask: 0x80, names: ['hw_power_brake_slowdown'] } },
      'degraded',
      /power_brake/,
    ],
    ['uncorrectable ECC', { eccUncorrectedVolatile: 2 }, 'failed', /uncorrectable ECC/],
    [
      'retired pages over the limit',
      { retiredPagesSingleBit: 50, retiredPagesDoubleBit: 10 },
      'failed',
      /retired pages/,
    ],
    ['retirement pending', { retiredPagesPending: true }, 'degraded', /reset applies/],
    [
      'row remap pending',
      { remappedRows: { correctable: 1, uncorrectable: 0, pending: true, failure: false } },
      'degraded',
      /remapping pending/,
    ],
    [
      'row remap failure',
      { remappedRows: { correctable: 0, uncorrectable: 3, pending: false, failure: true } },
      'failed',
      /spare rows/,
    ],
    ['driver recovery action', { recoveryAction: 'gpu_reset' }, 'failed', /gpu_reset/],
    ['lost GPU', { lost: true }, 'failed', /lost/],
  ] as const)('%s', (_name, patch, status, reason) => {
    const v = gpuVerdict({ ...healthy, ...patch } as GpuDeviceSample, { nowMs: 0 });
    expect(v.status).toBe(status);
    expect(v.reasons.join('; ')).toMatch(reason);
    // A failed GPU always comes with a ladder; a hot or throttled one may need no automatic step.
    if (status === 'failed') expect(v.actions.length).toBeGreaterThan(0);
  });

  it('counts recent Xids only, and escalates to the worst ladder', () => {
    const now = 10 * 3600_000;
    const v = gpuVerdict(healthy, {
      nowMs: now,
      recentXids: [
        { gpuIndex: 0, xid: 13, timeMs: now - 1000 },
        { gpuIndex: 0, xid: 79, timeMs: now - 2000 },
      ],
    });
    expect(v.status).toBe('failed');
    expect(v.actions).toEqual(['drain_node', 'reboot_node']);
    const old = gpuVerdict(healthy, { nowMs: now, recentXids: [{ gpuIndex: 0, xid: 79, timeMs: now - 2 * 3600_000 }] });
    expect(old.status).toBe('healthy');
    const other = gpuVerdict(healthy, { nowMs: now, recentXids: [{ gpuIndex: 1, xid: 79, timeMs: now }] });
    expect(other.status).toBe('healthy');
  });

  it("classifies per NVIDIA's catalog: cause, immediate action, resettable", () => {
    for (const x of [13, 31, 43, 45, 68, 109]) expect(classifyXid(x).cause).toBe('application');
    expect(classifyXid(13).action).toBe('restart_app');
    expect(classifyXid(45).action).toBe('ignore');
    for (const x of [9, 12, 38, 119, 120]) expect(classifyXid(x).cause).toBe('driver');
    for (const x of [48, 63, 64, 74, 79, 94, 95]) expect(classifyXid(x).cause).toBe('hardware');
    expect(classifyXid(48).action).toBe('workflow_xid_48');
    expect(classifyXid(79).action).toBe('restart_bm');
    expect(classifyXid(79).resettable).toBe(false);
    expect(classifyXid(9).ladder).toEqual(['drain_node', 'reboot_node']);
    // A contained ECC error is hardware, but only the application it hit restarts: the GPU stays usable.
    expect(classifyXid(94).severity).toBe('application');
    for (const x of FATAL_XIDS) expect(classifyXid(x).cause).not.toBe('application');
    expect(classifyXid(9999).cause).toBe('unknown');
  });

  it('an application Xid (13) leaves the GPU healthy, no reset planned; a note says restart the application', () => {
    const now = 10 * 3600_000;
    for (const xid of [13, 31, 43, 45, 109]) {
      const v = gpuVerdict(healthy, { nowMs: now, recentXids: [{ gpuIndex: 0, xid, timeMs: now - 1000 }] });
      expect(v.status).toBe('healthy');
      expect(v.actions).toEqual([]);
      expect(v.notes![0]).toMatch(new RegExp(`^Xid ${xid} 1 s ago: .*the GPU is fine`));
    }
    const v = gpuVerdict(healthy, {
      nowMs: now,
      recentXids: [
        { gpuIndex: 0, xid: 13, timeMs: now - 1000 },
        { gpuIndex: 0, xid: 48, timeMs: now - 500 },
      ],
    });
    expect(v.status).toBe('failed');
    expect(v.actions).toContain('reset_gpu');
    expect(v.reasons.some((r) => r.startsWith('Xid 13'))).toBe(false);
  });

  it('Xid state expires after the configured window, and the last Xid reads 0 again', () => {
    const t = new GpuHealthTracker({ xidWindowMs: 60_000 });
    t.recordXid({ gpuIndex: 0, xid: 48, timeMs: 1000 });
    t.recordXid({ gpuIndex: 0, xid: 13, timeMs: 2000 });
    t.recordXid({ gpuIndex: 1, xid: 79, timeMs: 3000 });
    expect([...t.lastXids(10_000)]).toEqual([
      [0, 13],
      [1, 79],
    ]);
    expect(t.verdicts([healthy], 10_000)[0].status).toBe('failed');
    expect([...t.lastXids(62_500)]).toEqual([[1, 79]]);
    expect(t.verdicts([healthy], 62_500)[0].status).toBe('healthy');
    expect(t.lastXids(70_000).size).toBe(0);
  });

  it('measures the PCIe replay rate across samples', () => {
    const t = new GpuHealthTracker();
    expect(t.verdicts([{ ...healthy, pcieReplayCounter: 100 }], 0)[0].status).toBe('healthy');
    expect(t.verdicts([{ ...healthy, pcieReplayCounter: 103 }], 60_000)[0].status).toBe('healthy');
    const v = t.verdicts([{ ...healthy, pcieReplayCounter: 150 }], 120_000)[0];
    expect(v.status).toBe('degraded');
    expect(v.reasons[0]).toMatch(/PCIe replay rate/);
  });

  it('decodes process entries with each layout and rejects garbage', () => {
    const { parsers } = loadNative();
    const buf = Buffer.alloc(96);
    for (let i = 0; i < 3; i++) {
      buf.writeUInt32LE(100 + i, i * 32);
      buf.writeBigUInt64LE(BigInt(1000 * (i + 1)), i * 32 + 8);
    }
    expect(parsers.gpuProcesses(buf, 3, 32, 1e9)!.map((p) => p.pid)).toEqual([100, 101, 102]);
    expect(parsers.gpuProcesses(buf, 3, 24, 1e9)).toBeNull();
  });
});
