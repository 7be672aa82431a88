import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { loadNative } from '../../src/native.js';
import { NodeChecker } from '../../src/node-checks/node-checker.js';
import { OvernightMetrics } from '../../src/metrics/prometheus.js';
import { ManualClock } from '../../src/util/clock.js';
import { ACTIVE, makeSysfsRoot, writeIbPort } from '../helpers/fake-sysfs.js';

const native = loadNative();
const roots: string[] = [];
const fresh = () => {
  const r = makeSysfsRoot();
  roots.push(r);
  return r;
};
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

describe('readInfiniband (native sysfs reader)', () => {
  it('reads state, physical state, rate, link layer and every counter of every port', async () => {
    const root = fresh();
    writeIbPort(root, 'mlx5_0', 1, { ...ACTIVE, counters: { symbol_error: 7, link_downed: 2 } });
    writeIbPort(root, 'mlx5_1', 1, {
      state: '1: DOWN',
      physState: '3: Disabled',
      rate: '10 Gb/sec (4X SDR)',
      linkLayer: 'InfiniBand',
    });
    writeIbPort(root, 'mlx5_1', 2, {
      state: '4: ACTIVE',
      physState: '5: LinkUp',
      rate: '2.5 Gb/sec (1X SDR)',
      linkLayer: 'Ethernet',
    });
    const devs = await native.readInfiniband(root);
    expect(devs.map((d) => d.name)).toEqual(['mlx5_0', 'mlx5_1']);
    expect(devs[0]).toMatchObject({ boardId: 'MT_0000000223', firmwareVersion: '28.39.1002', hcaType: 'MT4123' });
    const p = devs[0].ports[0];
    expect(p).toMatchObject({
      port: 1,
      state: 4,
      stateName: 'ACTIVE',
      physState: 5,
      physStateName: 'LinkUp',
      rateGbps: 200,
      rateText: '200 Gb/sec (4X HDR)',
      linkLayer: 'InfiniBand',
    });
    expect(p.counters).toMatchObject({ symbol_error: 7, link_downed: 2, port_rcv_data: 1000 });
    expect(devs[1].ports.map((x) => [x.port, x.state, x.physStateName, x.rateGbps, x.linkLayer])).toEqual([
      [1, 1, 'Disabled', 10, 'InfiniBand'],
      [2, 4, 'LinkUp', 2.5, 'Ethernet'],
    ]);
  });

  it('a port whose state is unreadable says why; a tree without infiniband rejects with ENOENT', async () => {
    const root = fresh();
    writeIbPort(root, 'mlx5_0', 1, { physState: '2: Polling' });
    const [d] = await native.readInfiniband(root);
    expect(d.ports[0]).toMatchObject({ state: null, physState: 2, rateGbps: null });
    expect(d.ports[0].error?.code).toBe('ENOENT');
    await expect(native.readInfiniband(fresh())).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('InfiniBand verdicts through the node checker', () => {
  const checker = (root: string, clock: ManualClock, infiniband: object) =>
    new NodeChecker(parseConfig({ nodeChecks: { sysfsRoot: root, infiniband } }), { clock });

  it('expected port down is critical, a slow port degraded, a missing one critical', async () => {
    const root = fresh();
    writeIbPort(root, 'mlx5_0', 1, { ...ACTIVE, state: '1: DOWN', physState: '2: Polling' });
    writeIbPort(root, 'mlx5_1', 1, { ...ACTIVE, rate: '100 Gb/sec (4X EDR)' });
    writeIbPort(root, 'mlx5_2', 1, ACTIVE);
    const clock = new ManualClock();
    const c = checker(root, clock, {
      expected: [
        { device: 'mlx5_0', port: 1 },
        { device: 'mlx5_1', port: 1, rateGbps: 200 },
        { device: 'mlx5_2', port: 1, rateGbps: 200 },
        { device: 'mlx5_3', port: 1 },
      ],
    });
    const r = await c.run([]);
    expect(r.infiniband.available).toBe(true);
    const bySubject = Object.fromEntries(r.findings.filter((f) => f.check === 'infiniband').map((f) => [f.subject, f]));
    expect(bySubject['mlx5_0/1']).toMatchObject({ severity: 'critical' });
    expect(bySubject['mlx5_0/1'].message).toContain('expected ACTIVE, is DOWN, physical Polling');
    expect(bySubject['mlx5_1/1']).toMatchObject({ severity: 'degraded' });
    expect(bySubject['mlx5_1/1'].message).toContain('rate 100 Gb/s below the expected 200 Gb/s');
    expect(bySubject['mlx5_3/1']).toMatchObject({ severity: 'critical' });
    expect(bySubject['mlx5_2/1']).toBeUndefined();
    if (r.infiniband.available) expect(r.infiniband.ports.find((p) => p.device === 'mlx5_2')!.status).toBe('healthy');
  });

  it('growing link_downed and symbol errors are degraded; an ACTIVE port that goes down is critical', async () => {
    const root = fresh();
    writeIbPort(root, 'mlx5_0', 1, ACTIVE);
    writeIbPort(root, 'mlx5_1', 1, ACTIVE);
    const clock = new ManualClock();
    const c = checker(root, clock, {}); // nothing expected: the defaults judge counters and transitions
    expect((await c.run([])).findings).toEqual([]);
    clock.advance(600_000);
    writeIbPort(root, 'mlx5_0', 1, { ...ACTIVE, counters: { link_downed: 1, symbol_error: 1 } });
    writeIbPort(root, 'mlx5_1', 1, { ...ACTIVE, counters: { symbol_error: 20 } });
    const r = await c.run([]);
    const msgs = r.findings.map((f) => `${f.severity} ${f.message}`);
    expect(msgs).toContain('degraded InfiniBand mlx5_0/1: link_downed grew by 1 in 600 s (6/h > 0/h)');
    expect(msgs).toContain('degraded InfiniBand mlx5_1/1: symbol_error grew by 20 in 600 s (120/h > 10/h)');
    // one symbol error in 10 minutes is 6/h: under the default 10/h
    expect(msgs.some((m) => m.includes('mlx5_0/1: symbol_error'))).toBe(false);
    clock.advance(60_000);
    writeIbPort(root, 'mlx5_1', 1, {
      ...ACTIVE,
      state: '1: DOWN',
      physState: '3: Disabled',
      counters: { symbol_error: 20 },
    });
    const down = await c.run([]);
    expect(down.findings.find((f) => f.subject === 'mlx5_1/1')).toMatchObject({
      severity: 'critical',
      message: 'InfiniBand mlx5_1/1: was ACTIVE, went DOWN, physical Disabled',
    });
  });

  it('no InfiniBand: unavailable with the reason, and OVERNIGHT_SYSFS_ROOT is the default root', async () => {
    const root = fresh();
    process.env.OVERNIGHT_SYSFS_ROOT = root;
    try {
      const r = await new NodeChecker(parseConfig({})).run([]);
      expect(r.infiniband).toMatchObject({ available: false, sysfs_root: root, code: 'ENOENT' });
      expect((r.infiniband as { reason: string }).reason).toContain('no InfiniBand devices');
    } finally {
      delete process.env.OVERNIGHT_SYSFS_ROOT;
    }
  });

  it("exports node_exporter's node_infiniband_* names and labels", async () => {
    const root = fresh();
    writeIbPort(root, 'mlx5_0', 1, { ...ACTIVE, counters: { symbol_error: 3, port_rcv_data: 250 } });
    const r = await checker(root, new ManualClock(), {}).run([]);
    const m = new OvernightMetrics();
    m.nodeChecks.update(r);
    const text = await m.text();
    expect(text).toContain('node_infiniband_state_id{device="mlx5_0",port="1"} 4');
    expect(text).toContain('node_infiniband_physical_state_id{device="mlx5_0",port="1"} 5');
    expect(text).toContain('node_infiniband_rate_bytes_per_second{device="mlx5_0",port="1"} 25000000000');
    expect(text).toContain('node_infiniband_symbol_error_total{device="mlx5_0",port="1"} 3');
    expect(text).toContain('node_infiniband_port_data_received_bytes_total{device="mlx5_0",port="1"} 1000');
    expect(text).toContain('# TYPE node_infiniband_link_downed_total counter');
    expect(text).toContain(
      'node_infiniband_info{device="mlx5_0",board_id="MT_0000000223",' +
        'firmware_version="28.39.1002",hca_type="MT4123"} 1',
    );
  });
});
