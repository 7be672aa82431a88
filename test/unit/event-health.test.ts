import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { BootRegistry } from '../../src/events/boots.js';
import { EventHealth } from '../../src/events/event-health.js';
import { EventStore } from '../../src/events/event-store.js';
import { GpuInventory } from '../../src/events/gpu-inventory.js';
import type { NodeEvent } from '../../src/events/types.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { openDatabase, type Db } from '../../src/store/database.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ovn-evh-'));
  db = openDatabase(dir);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const ev = (over: Partial<NodeEvent> & Pick<NodeEvent, 'kind' | 'key'>): NodeEvent => ({
  source: 'kmsg',
  severity: 'warning',
  subject: {},
  message: over.kind,
  bootId: 'b1',
  monoUs: null,
  timeMs: Date.now(),
  ...over,
});

describe('EventStore', () => {
  it('stores a key once, lists newest first with filters, prunes by age and rows', () => {
    const s = new EventStore(db);
    const now = Date.now();
    expect(
      s.add([ev({ kind: 'xid', key: 'k1', timeMs: now - 1000 }), ev({ kind: 'oom_kill', key: 'k2', timeMs: now })]),
    ).toHaveLength(2);
    expect(s.add([ev({ kind: 'xid', key: 'k1', timeMs: now - 1000 })])).toHaveLength(0);
    expect(s.list().map((e) => e.key)).toEqual(['k2', 'k1']);
    expect(s.list({ kinds: ['xid'] }).map((e) => e.key)).toEqual(['k1']);
    expect(s.list({ minSeverity: 'critical' })).toEqual([]);
    s.add([ev({ kind: 'old', key: 'k0', timeMs: now - 20 * 86_400_000 })]);
    expect(s.prune(14, 1, now)).toBe(2); // k0 by age, k1 beyond one row
    expect(s.list().map((e) => e.key)).toEqual(['k2']);
  });

  it('one NVML event seen by two processes (two timestamps) is one row', () => {
    const a = new EventStore(db);
    const db2 = openDatabase(dir);
    try {
      const b = new EventStore(db2);
      const e = ev({ source: 'nvml', kind: 'xid', key: 'nvml:1', subject: { gpuIndex: 0, xid: 48 } });
      expect(a.addNear(e, 5000)).toBe(true);
      expect(b.addNear({ ...e, key: 'nvml:2', timeMs: e.timeMs + 40 }, 5000)).toBe(false);
      expect(b.addNear({ ...e, key: 'nvml:3', timeMs: e.timeMs + 60_000 }, 5000)).toBe(true);
      expect(a.list({ sources: ['nvml'] })).toHaveLength(2);
    } finally {
      db2.close();
    }
  });
});

describe('BootRegistry', () => {
  it('writes one boot event per boot, saying whether the previous boot ended with a clean stop', () => {
    const s = new EventStore(db);
    const r = new BootRegistry(db, s);
    expect(r.recordStart({ bootId: 'boot-1', bootTimeMs: 1000 })?.subject).toEqual({});
    expect(r.recordStart({ bootId: 'boot-1', bootTimeMs: 1000 })).toBeNull();
    r.recordStop({ bootId: 'boot-1', bootTimeMs: 1000 });
    const second = r.recordStart({ bootId: 'boot-2', bootTimeMs: 2000 });
    expect(second).toMatchObject({ severity: 'info', subject: { previousBootId: 'boot-1', previousCleanStop: true } });
    // boot-2 never stops cleanly: power loss.
    const third = r.recordStart({ bootId: 'boot-3', bootTimeMs: 3000 });
    expect(third).toMatchObject({
      severity: 'warning',
      subject: { previousBootId: 'boot-2', previousCleanStop: false },
    });
    expect(s.list({ kinds: ['boot'] })).toHaveLength(3);
  });
});

describe('GpuInventory', () => {
  it('remembers the GPUs of the first healthy check and names the one that is gone', () => {
    const inv = new GpuInventory(db, undefined);
    const two = { count: 2, busIds: ['00000000:3B:00.0', '00000000:86:00.0'] };
    expect(inv.check(two, false).expected).toBeNull(); // not healthy: not remembered
    // A quick sample without bus ids: not remembered.
    expect(inv.check({ count: 2, busIds: null }, true).expected).toBeNull();
    expect(inv.check(two, true)).toMatchObject({ expected: 2, seen: 2, basis: 'first_healthy_boot' });
    expect(inv.check({ count: 2, busIds: null }, true).problem).toBeUndefined(); // both there, bus ids unread
    const c = inv.check({ count: 1, busIds: ['00000000:86:00.0'] }, true);
    expect(c.problem).toBe('expected 2 GPU(s), found 1: GPU 0000:3b:00.0 is gone');
    expect(inv.check({ count: 1, busIds: null }, true).problem).toBe('expected 2 GPU(s), found 1: 1 GPU(s) missing');
    expect(new GpuInventory(db, undefined).check(null, true).problem).toMatch(/NVML is not available/);
  });
  it('gpu.expectedCount wins over the remembered count', () => {
    expect(new GpuInventory(db, 8).check({ count: 1, busIds: ['0000:3b:00.0'] }, true)).toMatchObject({
      expected: 8,
      basis: 'config',
      problem: expect.stringMatching(/expected 8 GPU\(s\), found 1/) as string,
    });
    expect(new GpuInventory(db, 0).check(null, true).problem).toBeUndefined();
  });
});

describe('the health check with the event history', () => {
  const check = async (events: NodeEvent[], extra: Record<string, unknown> = {}) => {
    const store = new EventStore(db);
    store.add(events);
    const config = parseConfig({ hysteresis: { sustainSamples: 1 }, ...extra });
    const monitor = new HealthMonitor({
      config,
      gpu: null,
      events: new EventHealth(store, config, new GpuInventory(db, config.gpu.expectedCount)),
    });
    return monitor.checkSystemHealth('full', { memory: 1, disk: 1, cpu: 1 });
  };

  it('many fatal Xids of one GPU are one critical fault (one alert), a second GPU another', async () => {
    const xid = (key: string, bus: string, ago: number) =>
      ev({
        kind: 'xid',
        key,
        severity: 'critical',
        timeMs: Date.now() - ago,
        subject: { xid: 79, pciBusId: bus, xidClass: 'fatal' },
        message: `Xid 79 on ${bus}`,
      });
    const r = await check([
      xid('a', '0000:3b:00.0', 3000),
      xid('b', '0000:3b:00.0', 2000),
      xid('c', '0000:3b:00.0', 1000),
      xid('d', '0000:86:00.0', 500),
    ]);
    expect(r.status).toBe('critical');
    const faults = r.critical_faults.filter((f) => f.subject.startsWith('event:'));
    expect(faults.map((f) => f.subject)).toEqual(['event:gpu:0000:86:00.0', 'event:gpu:0000:3b:00.0']);
  });

  it('a fatal Xid within gpu.xidWindowSec is critical without NVML, listed newest first with recent_xids', async () => {
    const r = await check([
      ev({
        kind: 'xid',
        key: 'x',
        severity: 'critical',
        subject: { xid: 79, pciBusId: '0000:3b:00.0', xidClass: 'fatal' },
        message: 'NVRM: Xid (PCI:0000:3b:00): 79, GPU has fallen off the bus.',
      }),
      ev({ kind: 'hung_task', key: 'h', timeMs: Date.now() - 10_000 }),
    ]);
    expect(r.status).toBe('critical');
    const events = r.metrics.events as { critical: string[]; recent: { kind: string }[] };
    expect(events.critical[0]).toMatch(/fatal .*xid GPU 0000:3b:00.0 Xid 79/);
    expect(events.recent.map((e) => e.kind)).toEqual(['xid', 'hung_task']);
    expect(r.metrics.gpu_health.recent_xids).toEqual([expect.objectContaining({ xid: 79, pciBusId: '0000:3b:00.0' })]);
  });

  it("a GPU reset recorded by any process supersedes that GPU's earlier Xids, not another GPU's", async () => {
    const store = new EventStore(db);
    const config = parseConfig({});
    const h = new EventHealth(store, config, null, () => null, 'b1');
    const t = Date.now() - 60_000;
    store.add([
      ev({
        kind: 'xid',
        key: 'x0',
        severity: 'critical',
        subject: { xid: 48, gpuIndex: 0, xidClass: 'fatal' },
        timeMs: t,
      }),
      ev({
        kind: 'xid',
        key: 'x1',
        severity: 'critical',
        subject: { xid: 48, pciBusId: '0000:3b:00.0', xidClass: 'fatal' },
        timeMs: t,
      }),
    ]);
    expect(h.assess(Date.now(), null).critical).toHaveLength(2);
    h.recordGpuReset(0, '00000000:11:00.0', t + 1000);
    expect(h.recentXids(Date.now()).map((x) => x.pciBusId ?? x.gpuIndex)).toEqual(['0000:3b:00.0']);
    h.recordGpuReset(1, '00000000:3B:00.0', t + 2000);
    expect(h.assess(Date.now(), null).critical).toEqual([]);
    expect(store.list({ kinds: ['gpu_reset'] })).toHaveLength(2);
  });

  it('a flood past the window limit hides neither a fatal Xid nor a GPU reset; its lines are bounded', () => {
    const store = new EventStore(db);
    const otherDb = openDatabase(dir); // another process's connection writes the flood
    const freshDb = openDatabase(dir);
    const other = new EventStore(otherDb);
    const h = new EventHealth(store, parseConfig({}), null, () => null, 'b1');
    const now = Date.now();
    const fatal = (key: string, gpuIndex: number) =>
      ev({
        kind: 'xid',
        key,
        severity: 'critical',
        subject: { xid: 79, gpuIndex, xidClass: 'fatal' },
        timeMs: now - 600_000,
      });
    store.add([fatal('gpu0', 0), fatal('gpu1', 1)]);
    // GPU 1 was reset afterwards: its Xid no longer counts, even when the reset is far behind the flood.
    store.add([ev({ kind: 'gpu_reset', key: 'reset1', subject: { gpuIndex: 1 }, timeMs: now - 590_000 })]);
    expect(h.assess(now, null).critical).toHaveLength(1); // the window is kept from here on
    const flood = Array.from({ length: 10_050 }, (_, i) =>
      ev({ kind: 'hung_task', key: `h${i}`, subject: { pid: i }, timeMs: now - 500_000 + i }),
    );
    other.add(flood);
    const a = h.assess(Date.now(), null);
    expect(a.critical).toHaveLength(1);
    expect(a.critical[0]).toMatch(/fatal .*xid GPU 0 Xid 79/);
    expect(a.degraded).toHaveLength(51);
    expect(a.degraded.at(-1)).toMatch(/^and more than 9,950 more events like these since /);
    // The same from a process that never saw the window before (a one-shot health check).
    const fresh = new EventHealth(new EventStore(freshDb), parseConfig({}), null, () => null, 'b1');
    expect(fresh.assess(Date.now(), null).critical).toEqual(a.critical);
    otherDb.close();
    freshDb.close();
  });

  it('a flood of other critical events (10,001 lockups) does not push a fatal Xid out either', () => {
    const store = new EventStore(db);
    const h = new EventHealth(store, parseConfig({}), null, () => null, 'b1');
    const now = Date.now();
    store.add([
      ev({
        kind: 'xid',
        key: 'fatal',
        severity: 'critical',
        subject: { xid: 79, gpuIndex: 0, xidClass: 'fatal' },
        timeMs: now - 120_000,
      }),
    ]);
    store.add(
      Array.from({ length: 10_001 }, (_, i) =>
        ev({ kind: 'lockup', key: `l${i}`, severity: 'critical', timeMs: now - 60_000 + i }),
      ),
    );
    expect(h.assess(Date.now(), null).critical).toEqual([expect.stringMatching(/fatal .*xid GPU 0 Xid 79/)]);
  });

  it('count pruning keeps a fatal Xid and a GPU reset within the Xid window; age pruning does not', () => {
    const store = new EventStore(db);
    const now = Date.now();
    store.add([
      ev({
        kind: 'xid',
        key: 'fatal',
        severity: 'critical',
        subject: { xid: 79, xidClass: 'fatal' },
        timeMs: now - 120_000,
      }),
      ev({ kind: 'gpu_reset', key: 'reset', severity: 'info', subject: { gpuIndex: 1 }, timeMs: now - 110_000 }),
      ev({
        kind: 'xid',
        key: 'old',
        severity: 'critical',
        subject: { xid: 79, xidClass: 'fatal' },
        timeMs: now - 7200_000,
      }),
    ]);
    store.add(
      Array.from({ length: 150 }, (_, i) =>
        ev({ kind: 'boot', key: `b${i}`, severity: 'info', timeMs: now - 60_000 + i }),
      ),
    );
    store.prune(14, 100, now, now - 3600_000);
    const left = store.list({ limit: 1000 });
    expect(left.map((e) => e.key)).toEqual(expect.arrayContaining(['fatal', 'reset']));
    expect(left.map((e) => e.key)).not.toContain('old'); // outside the window: the count may take it
    expect(left.filter((e) => e.kind === 'boot')).toHaveLength(100); // the newest 100 rows, and the two kept besides
    store.prune(0.001, 100, now, now - 3600_000); // 86 s: age wins over everything
    expect(store.list({ limit: 1000 }).map((e) => e.key)).not.toContain('fatal');
  });

  it('three hundred GPUs with fatal Xids and kilobyte messages: lines and their length are bounded', () => {
    const store = new EventStore(db);
    const h = new EventHealth(store, parseConfig({}), null, () => null, 'b1');
    const t = Date.now() - 60_000;
    store.add(
      Array.from({ length: 300 }, (_, i) =>
        ev({
          kind: 'xid',
          key: `g${i}`,
          severity: 'critical',
          subject: { xid: 79, pciBusId: `0000:${i.toString(16).padStart(2, '0')}:00.0`, xidClass: 'fatal' },
          message: 'x'.repeat(1024),
          timeMs: t + i,
        }),
      ),
    );
    const a = h.assess(Date.now(), null);
    expect(a.critical).toHaveLength(256);
    expect(Math.max(...a.critical.map((l) => l.length))).toBeLessThanOrEqual(410);
  });

  it('one GPU with a hundred fatal Xids is a bounded list that still names every GPU', () => {
    const store = new EventStore(db);
    const h = new EventHealth(store, parseConfig({}), null, () => null, 'b1');
    const t = Date.now() - 60_000;
    store.add(
      Array.from({ length: 100 }, (_, i) =>
        ev({
          kind: 'xid',
          key: `a${i}`,
          severity: 'critical',
          subject: { xid: 79, gpuIndex: 0, xidClass: 'fatal' },
          timeMs: t + i,
        }),
      ).concat([
        ev({
          kind: 'xid',
          key: 'b',
          severity: 'critical',
          subject: { xid: 79, gpuIndex: 1, xidClass: 'fatal' },
          timeMs: t - 1,
        }),
      ]),
    );
    const a = h.assess(Date.now(), null);
    expect(a.critical).toHaveLength(51);
    expect(new Set(a.critical_subjects)).toEqual(new Set(['gpu:0', 'gpu:1']));
  });

  it('an Xid older than the window no longer counts', async () => {
    const r = await check(
      [ev({ kind: 'xid', key: 'x', subject: { xid: 79, xidClass: 'fatal' }, timeMs: Date.now() - 7200_000 })],
      { gpu: { xidWindowSec: 3600 } },
    );
    expect((r.metrics.events as { critical: string[] }).critical).toEqual([]);
  });

  it('an OOM kill in the agent scope is degraded with the victim named; one outside scope is only listed', async () => {
    const r = await check([
      ev({ kind: 'oom_kill', key: 'o1', subject: { pid: 4242, comm: 'trainer', inScope: true } }),
      ev({ kind: 'oom_kill', key: 'o2', subject: { pid: 77, comm: 'other', inScope: false } }),
    ]);
    const events = r.metrics.events as { degraded: string[]; critical: string[] };
    expect(events.degraded).toEqual([expect.stringMatching(/OOM kill in the agent's scope: .*pid 4242 trainer/)]);
    expect(events.critical).toEqual([]);
    expect(r.status).not.toBe('healthy');
  });
});

describe('overnight_events_total', () => {
  it('counts the shared history by source, kind and severity at scrape time', async () => {
    const { OvernightMetrics } = await import('../../src/metrics/prometheus.js');
    const store = new EventStore(db);
    const metrics = new OvernightMetrics();
    metrics.attachEvents(store);
    store.add([
      ev({ kind: 'xid', key: 'a', severity: 'critical' }),
      ev({ kind: 'xid', key: 'b', severity: 'critical' }),
      ev({ kind: 'oom_kill', key: 'c' }),
    ]);
    let text = await metrics.registry.metrics();
    expect(text).toContain('# TYPE overnight_events_total counter');
    expect(text).toMatch(/^overnight_events_total\{source="kmsg",kind="xid",severity="critical"\} 2$/m);
    expect(text).toMatch(/^overnight_events_total\{source="kmsg",kind="oom_kill",severity="warning"\} 1$/m);
    store.add([ev({ kind: 'oom_kill', key: 'd' })]); // written after the first scrape: seen at the next
    text = await metrics.registry.metrics();
    expect(text).toMatch(/^overnight_events_total\{source="kmsg",kind="oom_kill",severity="warning"\} 2$/m);
  });
});
