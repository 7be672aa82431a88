import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../../src/history/history-recorder.js';
import { MetricHistory } from '../../src/history/metric-history.js';
import { openDatabase, type Db } from '../../src/store/database.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ovn-hist-'));
  db = openDatabase(dir);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('MetricHistory', () => {
  it('keeps one row per interval whichever process writes first, and aligns columns that come and go', () => {
    const a = new MetricHistory(db, 10_000);
    const db2 = openDatabase(dir);
    try {
      const b = new MetricHistory(db2, 10_000);
      const t0 = 1_800_000_000_000;
      expect(a.record(t0, 'boot', { cpu_busy: 0.123456 })).toBe(true);
      expect(b.record(t0 + 3000, 'boot', { cpu_busy: 0.9 })).toBe(false); // same 10 s interval
      expect(b.record(t0 + 10_000, 'boot', { cpu_busy: 0.5, gpu0_util: 80 })).toBe(true);
      expect(a.record(t0 + 20_000, 'boot', { gpu0_util: Number.NaN })).toBe(true);
      expect(a.series(t0 - 1, t0 + 30_000)).toEqual({
        t: [t0, t0 + 10_000, t0 + 20_000],
        columns: { cpu_busy: [0.1235, 0.5, null], gpu0_util: [null, 80, null] },
      });
      expect(a.prune(14, 2, t0 + 30_000)).toBe(1);
      expect(a.series(0, t0 + 30_000).t).toEqual([t0 + 10_000, t0 + 20_000]);
    } finally {
      db2.close();
    }
  });
});

describe('HistoryRecorder', () => {
  it('records the sampler means over its window and fresh GPU readings; nothing when nothing was sampled', async () => {
    const h = new MetricHistory(db, 10_000);
    let t = 1_800_000_000_000;
    let windowAsked = 0;
    const src = {
      recentWindow: (ms: number) => {
        windowAsked = ms;
        return {
          count: 3,
          signals: { mem_used_bytes: { mean: 4e9 }, cpu_busy: { mean: 0.25 }, psi_memory_some_avg10: { mean: 1.5 } },
        };
      },
      lastGpuSample: () => ({
        at: t - 1000,
        outcome: {
          available: true,
          devices: [
            {
              index: 0,
              utilization: { gpu: 77, memory: 3 },
              memory: { used: 2e9, total: 8e10 },
              temperatureC: 61,
              powerW: 250,
            },
          ],
        } as never,
      }),
    };
    const r = new HistoryRecorder(h, src, 'boot', () => t, undefined, 20_000);
    expect(await r.recordNow()).toBe(true);
    expect(windowAsked).toBe(20_000);
    expect(h.series(0, t + 1).columns).toEqual({
      mem_used_bytes: [4e9],
      cpu_busy: [0.25],
      psi_memory_some: [1.5],
      gpu0_util: [77],
      gpu0_mem_used_bytes: [2e9],
      gpu0_temp_c: [61],
      gpu0_power_w: [250],
    });
    t += 10_000;
    const empty = new HistoryRecorder(
      h,
      { recentWindow: () => ({ count: 0, signals: {} }), lastGpuSample: () => null },
      'boot',
      () => t,
    );
    expect(await empty.recordNow()).toBe(false);
  });
});
