// The night's journal: the kernel-log reader thread's CPU at idle, how many kernel records per
// second the parser + catalog handle (and the real reader over the whole ring buffer), the metric
// history's bytes per node-day, and the morning report's build time for a 24 h night (issue 15 asks for these four
// figures; no goal is set on them, so the benchmark states no targets). There is no peer to alternate with: each
// figure is a rate or a size of our own, given with the load average over the run (the idle thread's CPU is its own
// schedstat, which load does not inflate; the rates are what a loaded node would see).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchDir, loadAverage, median, scaled } from './lib/measure.js';

const dist = (p) => import(path.join(benchDir, '../dist', p));
const { loadNative } = await dist('native.js');
const { matchKernelLine } = await dist('events/kmsg-matcher.js');
const { EventStore } = await dist('events/event-store.js');
const { KernelLogWatcher } = await dist('events/kernel-log.js');
const { currentBoot } = await dist('events/boots.js');
const { MetricHistory } = await dist('history/metric-history.js');
const { openDatabase } = await dist('store/database.js');
const { buildNightReport } = await dist('report/report-data.js');
const { renderNightHtml } = await dist('report/report-html.js');
const { ProgressTracker } = await dist('progress/progress-tracker.js');
const { parseConfig } = await dist('config/load.js');
const { ManualClock } = await dist('util/clock.js');

const native = loadNative();
const tmp = (p) => mkdtempSync(path.join(tmpdir(), `ovn-bench-${p}-`));
const threadIds = () => new Set(readdirSync('/proc/self/task'));
// CPU time of one thread in ns (schedstat's first field: time on the CPU).
const threadCpuNs = (tid) => Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);

async function idleCost(seconds) {
  const before = threadIds();
  const reader = new native.KernelLogReader('/dev/kmsg', { fromEnd: true }, () => {});
  await new Promise((r) => setTimeout(r, 200));
  const tid = [...threadIds()].find((t) => !before.has(t));
  const c0 = threadCpuNs(tid);
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpuNs = threadCpuNs(tid) - c0;
  const wallNs = Number(process.hrtime.bigint() - t0);
  reader.stop();
  return { cpuNs, wallNs, pct: (cpuNs / wallNs) * 100 };
}

function parseMatchRate() {
  const corpus = readFileSync(path.join(benchDir, '../test/fixtures/kmsg/corpus.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.slice(l.indexOf('\t') + 1));
  const records = corpus.map((line, i) => `3,${1000 + i},${123456789 + i},-;${line}\n SUBSYSTEM=pci\n`);
  const quiet = Array.from(
    { length: 40 },
    (_, i) => `6,${2000 + i},${1000 + i},-;usb 1-${i}: new high-speed USB device number ${i} using xhci_hcd\n`,
  );
  const mix = [...records, ...quiet]; // about half the lines are events, as on a troubled night
  const rounds = [];
  for (let round = 0; round < 7; round++) {
    const n = 20_000;
    const t0 = process.hrtime.bigint();
    let matched = 0;
    for (let i = 0; i < n; i++) {
      const r = native.parsers.kmsgRecord(mix[i % mix.length]);
      if (matchKernelLine(r.text, r.facility)) matched++;
    }
    rounds.push(n / (Number(process.hrtime.bigint() - t0) / 1e9));
    if (!matched) throw new Error('nothing matched');
  }
  return median(rounds.slice(2));
}

async function ringRate() {
  const dir = tmp('ring');
  const db = openDatabase(dir);
  const store = new EventStore(db);
  const w = new KernelLogWatcher({ native, store, boot: currentBoot() });
  const t0 = process.hrtime.bigint();
  w.start();
  const st = await w.caughtUpWith(60_000);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  w.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { records: st.records, events: st.events, seconds: s, perSec: st.records / s };
}

function row(t, gpus) {
  const v = {
    mem_used_bytes: 4e9 + Math.sin(t / 6e5) * 3e8,
    mem_available_bytes: 1.2e10 - Math.sin(t / 6e5) * 3e8,
    cpu_busy: 0.4 + 0.3 * Math.sin(t / 9e5),
    psi_cpu_some: 3.2 + Math.sin(t / 3e5),
    psi_memory_some: 0.41,
    psi_memory_full: 0.02,
    psi_io_some: 1.37,
  };
  for (let g = 0; g < gpus; g++)
    Object.assign(v, {
      [`gpu${g}_util`]: 90 + 5 * Math.sin(t / 1e5 + g),
      [`gpu${g}_mem_used_bytes`]: 6.4e10 + g * 1e6,
      [`gpu${g}_temp_c`]: 70 + (g % 3),
      [`gpu${g}_power_w`]: 300 + 20 * Math.sin(t / 2e5),
    });
  return v;
}

function dbBytes(db) {
  db.pragma('wal_checkpoint(TRUNCATE)');
  return db.pragma('page_count', { simple: true }) * db.pragma('page_size', { simple: true });
}

function historyBytesPerDay(gpus) {
  const dir = tmp('hist');
  const db = openDatabase(dir);
  const empty = dbBytes(db);
  const h = new MetricHistory(db, 10_000);
  const start = Date.now() - 86_400_000;
  db.transaction(() => {
    for (let t = start; t < start + 86_400_000; t += 10_000) h.record(t, 'boot', row(t, gpus));
  })();
  const bytes = dbBytes(db) - empty;
  const rows = h.rowCount();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { bytes, rows };
}

async function reportBuild() {
  const dir = tmp('report');
  const stateDir = path.join(dir, 'state');
  const db = openDatabase(stateDir);
  const end = Date.now();
  const start = end - 86_400_000;
  const h = new MetricHistory(db, 10_000);
  db.transaction(() => {
    for (let t = start; t <= end; t += 10_000) h.record(t, 'boot', row(t, 1));
  })();
  const store = new EventStore(db);
  const kinds = ['xid', 'oom_kill', 'hung_task', 'io_error', 'segfault'];
  store.add(
    Array.from({ length: 200 }, (_, i) => ({
      source: 'kmsg',
      kind: kinds[i % 5],
      severity: 'warning',
      subject: { pid: 1000 + i },
      message: `line ${i}`,
      bootId: 'boot',
      monoUs: null,
      timeMs: start + i * 400_000,
      key: `b:${i}`,
    })),
  );
  const clock = new ManualClock(start);
  const progress = new ProgressTracker(db, parseConfig({ stateDir }), clock);
  for (let i = 0; i <= 20; i++) {
    clock.set(start + i * 3600_000);
    await progress.trackCodingProgress('bench-task', [{ stage: 'work', completion: i / 24 }]);
  }
  const times = [];
  let html = '';
  for (let i = 0; i < 6; i++) {
    const t0 = process.hrtime.bigint();
    const r = await buildNightReport(
      { db, events: store, history: h, progress, config: { history: { retentionDays: 14 } } },
      start,
      end,
    );
    html = renderNightHtml(r);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { ms: median(times.slice(1)), htmlBytes: Buffer.byteLength(html) };
}

export async function run() {
  const before = loadAverage();
  const idle = await idleCost(scaled(10));
  const rate = parseMatchRate();
  const ring = await ringRate();
  const host = historyBytesPerDay(0);
  const eight = historyBytesPerDay(8);
  const rep = await reportBuild();
  const load = { before, after: loadAverage() };
  return {
    title: 'Kernel log, event history and morning report',
    head: ['measure', 'figure', 'detail'],
    rows: [
      [
        'kmsg reader thread at idle',
        `${(idle.cpuNs / 1e3).toFixed(1)} µs CPU in ${(idle.wallNs / 1e9).toFixed(0)} s`,
        `${idle.pct.toFixed(5)} % of one core (blocked in poll(2); schedstat of the thread)`,
      ],
      [
        'parse + match (native parser, TS catalog)',
        `${Math.round(rate).toLocaleString('en')} records/s`,
        'corpus lines and ordinary lines mixed 50/50, one JS thread',
      ],
      [
        'reader over the whole ring buffer, stored',
        `${Math.round(ring.perSec).toLocaleString('en')} records/s`,
        `${ring.records} records, ${ring.events} events stored, ${(ring.seconds * 1000).toFixed(0)} ms to catch up`,
      ],
      [
        'metric history, host only',
        `${(host.bytes / 2 ** 20).toFixed(2)} MiB per node-day`,
        `${host.rows} rows at 10 s, ${(host.bytes / host.rows).toFixed(0)} B/row`,
      ],
      [
        'metric history, host + 8 GPUs',
        `${(eight.bytes / 2 ** 20).toFixed(2)} MiB per node-day`,
        `${eight.rows} rows at 10 s, ${(eight.bytes / eight.rows).toFixed(0)} B/row`,
      ],
      [
        'report for a 24 h night (data + HTML)',
        `${rep.ms.toFixed(0)} ms`,
        `8,641 rows, 200 events, one task; HTML ${(rep.htmlBytes / 2 ** 10).toFixed(0)} KiB`,
      ],
    ],
    notes: [
      `load average ${load.before} before, ${load.after} after`,
      'no peer or limit: rates and sizes of our own, for the record (issue 15)',
    ],
    load,
    targets: [],
    raw: { idle, rate, ring, host, eight, rep },
  };
}
