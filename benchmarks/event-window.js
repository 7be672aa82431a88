// The events a check judges (issue 17 §1: a check must not slow down as the night goes on). Every
// health check and every monitor cycle assesses the Xid window (1 h by default): a noisy night (a
// hung-task storm, an Xid flood) fills it with thousands of events. Before, each check read the whole
// window from SQLite again; now the window is kept and brought up to date from the rows added since
// (src/events/event-window.ts). Interleaved ABAB in the same rounds, on one store:
//   A  fresh: the query each check ran before (EventStore.list of the window, newest first, limit 10,000)
//   B  kept:  EventStore.window() over the same window
// in two states: nothing changed since the last check, and one new event stored by another connection
// (another process) before each check (its write is not timed). Also the whole assessment
// (EventHealth.assess) with the window kept. No goal is stated for these; the ratio is kept/fresh.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchDir, fmtUs, interleave, loadAverage, loadColumn, runIfMain, spanLoad } from './lib/measure.js';

const dist = (p) => import(path.join(benchDir, '../dist', p));
const { openDatabase } = await dist('store/database.js');
const { EventStore } = await dist('events/event-store.js');
const { EventHealth } = await dist('events/event-health.js');

const WINDOW_MS = 3600_000;
const LIMIT = 10_000;

let key = 0;
const hungTask = (timeMs) => {
  key++;
  return {
    source: 'kmsg',
    kind: key % 10 ? 'hung_task' : 'xid',
    severity: 'warning',
    subject: key % 10 ? { pid: key, comm: 'python3' } : { xid: 13, gpuIndex: 0, xidClass: 'app', pid: key },
    message: `INFO: task python3:${key} blocked for more than 120 seconds.`,
    bootId: 'bench',
    monoUs: null,
    timeMs,
    key: `bench-${key}`,
  };
};

async function atSize(n) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-evwin-'));
  const db = openDatabase(dir);
  const otherDb = openDatabase(dir);
  try {
    const store = new EventStore(db);
    const other = new EventStore(otherDb);
    const now = Date.now();
    // Spread over the last 50 minutes, inside the 1 h window.
    store.add(Array.from({ length: n }, (_, i) => hungTask(now - 3000_000 + Math.floor((i * 3000_000) / (n || 1)))));
    const health = new EventHealth(store, { gpu: { xidWindowSec: WINDOW_MS / 1000 } });
    const since = () => Date.now() - WINDOW_MS;
    const perRound = n >= 10_000 ? 3 : n >= 1000 ? 20 : 100;
    const opts = { rounds: 7, perRound, warmup: 2 };
    const unchanged = await interleave(
      {
        fresh: () => store.list({ sinceMs: since(), limit: LIMIT }),
        kept: () => store.window(since(), LIMIT),
        assess: () => health.assess(Date.now(), null),
      },
      opts,
    );
    // One new event from another connection before each call: interleave's `before` runs once per round, so the
    // write is made inside the call and timed apart, then subtracted.
    const writeUs = [];
    const timedWrite = () => {
      const t0 = process.hrtime.bigint();
      other.add([hungTask(Date.now())]);
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      writeUs.push(us);
      return us;
    };
    const withNew = await interleave(
      {
        fresh: () => (timedWrite(), store.list({ sinceMs: since(), limit: LIMIT })),
        kept: () => (timedWrite(), store.window(since(), LIMIT)),
        assess: () => (timedWrite(), health.assess(Date.now(), null)),
      },
      opts,
    );
    const w = writeUs.sort((a, b) => a - b)[Math.floor(writeUs.length / 2)];
    for (const c of ['fresh', 'kept', 'assess']) withNew[c].medianUs = Math.max(0, withNew[c].medianUs - w);
    return { n, unchanged, withNew, writeUs: w };
  } finally {
    db.close();
    otherDb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run() {
  const before = loadAverage();
  const sizes = [];
  for (const n of [100, 1000, 10_000]) sizes.push(await atSize(n));
  const rows = [];
  for (const s of sizes) {
    for (const [state, r] of [
      ['unchanged', s.unchanged],
      ['one new event from another process', s.withNew],
    ]) {
      rows.push([
        `${s.n.toLocaleString('en')} events, ${state}`,
        fmtUs(r.fresh.medianUs),
        fmtUs(r.kept.medianUs),
        `${(r.kept.medianUs / r.fresh.medianUs).toFixed(3)}x`,
        fmtUs(r.assess.medianUs),
        loadColumn(r.load),
      ]);
    }
  }
  const load = spanLoad(sizes[0].unchanged.load, sizes.at(-1).withNew.load);
  return {
    title: 'The events a check judges: the Xid window read fresh vs kept (ABAB rounds)',
    head: [
      'events in the window (1 h)',
      'read fresh (as before)',
      'kept window',
      'kept / fresh',
      'whole assessment, kept',
      'load',
    ],
    rows,
    notes: [
      'fresh = EventStore.list({ sinceMs, limit: 10,000 }), what every check ran before; kept = EventStore.window(), ' +
        'brought up to date from the rows added since (src/events/event-window.ts); whole assessment = ' +
        'EventHealth.assess() (verdicts, Xids, the 50 most recent), as each health check and monitor cycle runs it',
      'medians of 7 interleaved rounds; "one new event": another connection stores one event before each call, its ' +
        `write (median ${sizes.map((s) => fmtUs(s.writeUs)).join(' / ')}, synchronous=FULL) subtracted`,
      `load average ${before} before, ${loadAverage()} after`,
    ],
    load,
    targets: [],
    raw: sizes.map((s) => ({
      n: s.n,
      unchangedUs: {
        fresh: s.unchanged.fresh.medianUs,
        kept: s.unchanged.kept.medianUs,
        assess: s.unchanged.assess.medianUs,
      },
      withNewUs: { fresh: s.withNew.fresh.medianUs, kept: s.withNew.kept.medianUs, assess: s.withNew.assess.medianUs },
      writeUs: s.writeUs,
    })),
  };
}

await runIfMain(import.meta.url, run);
