// Process-table scan at 100, 1,000 and 5,000 processes (the machine's own plus `sleep` children
// started in one process group and killed at the end):
//  - the sync scan (listProcesses()) against the C limit (benchmarks/limit/proc_limit.cc: stat and
//    status of every pid, kept open, nothing else), interleaved in ABAB rounds (interleave());
//  - the async scan (listProcessesAsync(): the scan and the packing on a worker thread, the rows
//    decoded on the main thread in chunks that yield) and the event loop's worst delay (p100 of
//    perf_hooks.monitorEventLoopDelay) while it runs, beside the worst delay of an idle loop over a
//    window of the same length in the same rounds: on a loaded machine the idle figure is the
//    floor (the scheduler's share), and the difference is what the scan costs the loop;
//  - the background sampler's process channel over every process: a scan on its thread, then
//    readProcessesChunked() (as ProcessWatch drains it), with the loop's worst delay measured the same way;
//  - the loop delays are measured in a child process that only scans (lib/scan-probe.js): in this one,
//    the garbage of the other cases (sync scans, peers) was collected inside the async scans' windows.
//    OVN_BENCH_SCAN_BASELINE=/path/to/other/dist adds a second child on that build, in the same rounds
//    (a before/after comparison; V8 shares object shapes within a process, so it needs its own);
//  - Node's readdirSync + readFileSync, pidusage and systeminformation as peers, at the smallest size.
// The C limit's pipe round trip is measured in the same rounds (`noop`) and subtracted.
// OVN_BENCH_SCAN_SIZES="100,1000,5000" picks the sizes; OVN_BENCH_SCAN_ROUNDS scales the rounds.
import { fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import pidusage from 'pidusage';
import si from 'systeminformation';
import { createProcessTable } from '../dist/readers/processes.js';
import { Sampler } from '../dist/sampler/sampler.js';
import { startProcLimit } from './limit/proc-limit.js';
import {
  fmtUs,
  interleave,
  interleaveRounds,
  loadAverage,
  loadColumn,
  median,
  timeAsync,
  timeSpaced,
} from './lib/measure.js';

function nodeScan() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 49 || name.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const status = readFileSync(`/proc/${name}/status`, 'latin1');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const uid = /Uid:\s+(\d+)/.exec(status);
      out.push({
        pid: Number(name),
        state: rest[0],
        ppid: Number(rest[1]),
        utime: Number(rest[11]),
        rss: Number(rest[21]),
        uid: uid && Number(uid[1]),
      });
    } catch {
      /* vanished */
    }
  }
  return out;
}

const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms));
/** Pids in any of the process groups `groups`. */
function membersOf(groups) {
  const wanted = new Set(groups);
  return readdirSync('/proc').filter((name) => {
    if (name.charCodeAt(0) < 49 || name.charCodeAt(0) > 57) return false;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'latin1');
      return wanted.has(Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[2]));
    } catch {
      return false;
    }
  });
}

/** Kills the sleepers' groups and waits (bounded) until they are gone: the next run counts processes. */
async function stopSleepers(groups) {
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + 60_000;
  while (groups.length && membersOf(groups).length > 0 && Date.now() < deadline) await sleepMs(100);
}

/** How many of the rounds' worst delays passed 10 ms: an idle loop's count is the machine's own share. */
const over10 = (delays) => `${delays.filter((ms) => ms > 10).length} of ${delays.length} rounds > 10 ms`;

const countProcesses = () => readdirSync('/proc').filter((n) => n.charCodeAt(0) >= 49 && n.charCodeAt(0) <= 57).length;

/** Starts `n` sleeping children in a new process group; resolves once they all run `sleep`. */
async function startSleepers(n, groups) {
  const sh = spawn('sh', ['-c', `i=0; while [ $i -lt ${n} ]; do sleep 3600 & i=$((i+1)); done; wait`], {
    detached: true,
    stdio: 'ignore',
  });
  groups.push(sh.pid);
  const deadline = Date.now() + 180_000;
  for (;;) {
    const kids = readdirSync('/proc').filter((name) => {
      if (name.charCodeAt(0) < 49 || name.charCodeAt(0) > 57) return false;
      try {
        const s = readFileSync(`/proc/${name}/stat`, 'latin1');
        const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
        return Number(rest[1]) === sh.pid && s.includes('(sleep)');
      } catch {
        return false;
      }
    }).length;
    if (kids >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${kids} of ${n} sleep children started in 180 s`);
    await sleepMs(200);
  }
}

/** A scan probe (lib/scan-probe.js) in a child process on `dist` (ours when absent). */
async function startProbe(dist) {
  const child = fork(new URL('./lib/scan-probe.js', import.meta.url), [], {
    env: dist ? { ...process.env, OVN_BENCH_DIST: dist } : process.env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let nextId = 0;
  let ready;
  const started = new Promise((resolve, reject) => (ready = { resolve, reject }));
  child.on('message', (m) => {
    if (m.ready) return ready.resolve();
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(`scan probe: ${m.error}`));
    else p?.resolve(m);
  });
  child.on('exit', (code, signal) => {
    const err = new Error(`scan probe exited (${code ?? signal})`);
    ready.reject(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  await started;
  return {
    /** { worstMs, ms } of one window: 'async' or 'sampler' scans `batch` times, 'idle' waits as long. */
    ask: (cmd, batch) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, cmd, batch });
      }),
    close: () => child.disconnect(),
  };
}

/** One size: sync vs C limit, async scan and the loop's worst delay vs an idle window. */
async function measureSize(limit, rounds, probes) {
  const table = createProcessTable();
  const n = table.scan().length;
  // A batch of scans per call keeps each case's call well above the timer's and the pipe's noise.
  const batch = Math.max(1, Math.round(2000 / n));
  const sampler = new Sampler({ intervalUs: 1_000_000, signals: [], processes: { descendantsOf: 0, intervalUs: 0 } });
  sampler.start();
  const r = await interleave(
    {
      limit: () => limit.scan(batch),
      sync: () => {
        for (let i = 0; i < batch; i++) table.scan();
      },
      async: async () => {
        for (let i = 0; i < batch; i++) await table.scanAsync();
      },
      sampler: async () => {
        for (let i = 0; i < batch; i++) {
          await sampler.scanProcesses();
          await sampler.readProcessesChunked();
        }
      },
      roundTrip: () => limit.noop(),
    },
    { rounds, perRound: 1, warmup: 1 },
  ).finally(() => sampler.stop());
  // The loop's worst delays, in the probes (twice the rounds: a p100 wants more windows than a median).
  const cases = {
    async: () => probes.ours.ask('async', batch),
    sampler: () => probes.ours.ask('sampler', batch),
    idle: () => probes.ours.ask('idle'),
  };
  if (probes.baseline) cases.baseline = () => probes.baseline.ask('async', batch);
  await probes.ours.ask('async', batch); // warm-up: the probe's first scan opens every pid's files
  await probes.baseline?.ask('async', batch);
  const d = await interleaveRounds(cases, { rounds: 2 * rounds });
  const delays = Object.fromEntries(Object.keys(cases).map((k) => [k, d[k].rounds.map((x) => x.worstMs)]));
  // The figures are per process of `n`: a table that changed size meanwhile (a previous run's
  // children still exiting, say) would make them wrong, so that is a failed measurement.
  const nAfter = table.scan().length;
  if (Math.abs(nAfter - n) > Math.max(10, 0.05 * n))
    throw new Error(`the process table changed from ${n} to ${nAfter} processes during the measurement`);
  const per = (name) => r[name].medianUs / batch;
  const limitUs = Math.max(0, r.limit.medianUs - r.roundTrip.medianUs) / batch;
  return {
    n,
    batch,
    load: r.load,
    delayLoad: d.load,
    limitUs,
    syncUs: per('sync'),
    asyncUs: per('async'),
    samplerUs: per('sampler'),
    worstAsyncMs: Math.max(...delays.async),
    worstSamplerMs: Math.max(...delays.sampler),
    worstIdleMs: Math.max(...delays.idle),
    worstBaselineMs: delays.baseline ? Math.max(...delays.baseline) : undefined,
    delays,
    raw: r,
  };
}

export async function run() {
  const sizes = (process.env.OVN_BENCH_SCAN_SIZES ?? '100,1000,5000').split(',').map(Number);
  const rounds = Number(process.env.OVN_BENCH_SCAN_ROUNDS ?? 7);
  const loadBefore = loadAverage();
  const limit = startProcLimit();
  const groups = [];
  const results = [];
  const baselineDist = process.env.OVN_BENCH_SCAN_BASELINE;
  const probes = {};
  let peers;
  try {
    probes.ours = await startProbe();
    if (baselineDist) probes.baseline = await startProbe(baselineDist);
    for (const size of sizes.sort((a, b) => a - b)) {
      const missing = size - countProcesses();
      if (missing > 0) await startSleepers(missing, groups);
      results.push(await measureSize(limit, rounds, probes));
      if (results.length === 1) {
        // The peers at the smallest size only (systeminformation takes ~1 ms a process).
        const table = createProcessTable();
        const pids = table.scan().map((p) => p.pid);
        const node = await interleave({ node: nodeScan, addon: () => table.scan() }, { rounds: 5, perRound: 10 });
        const pu = await timeAsync(() => pidusage(pids).catch(() => null), { iterations: 20, warmup: 3 });
        // processes() hands back its previous result when called again too soon: space the calls.
        const siP = await timeSpaced(() => si.processes(), 1100, 4);
        peers = { n: pids.length, node, pidusage: pu, si: siP };
      }
    }
  } finally {
    probes.ours?.close();
    probes.baseline?.close();
    limit.close();
    await stopSleepers(groups);
  }
  const rows = [];
  for (const s of results) {
    const load = loadColumn(s.load);
    const per = (us) => fmtUs(us / s.n);
    rows.push([
      `${s.n}`,
      'C limit (stat + status, kept-open fds)',
      fmtUs(s.limitUs),
      per(s.limitUs),
      '1.00×',
      '',
      load,
    ]);
    rows.push([
      `${s.n}`,
      '**overnight-ops listProcesses()**',
      fmtUs(s.syncUs),
      per(s.syncUs),
      `**${(s.syncUs / s.limitUs).toFixed(2)}×**`,
      '',
      load,
    ]);
    rows.push([
      `${s.n}`,
      'overnight-ops listProcessesAsync()',
      fmtUs(s.asyncUs),
      per(s.asyncUs),
      `${(s.asyncUs / s.limitUs).toFixed(2)}×`,
      `${s.worstAsyncMs.toFixed(1)} ms, median round ${median(s.delays.async).toFixed(1)} ms, ` +
        `${over10(s.delays.async)} (idle loop: ${s.worstIdleMs.toFixed(1)} ms, median round ` +
        `${median(s.delays.idle).toFixed(1)} ms, ${over10(s.delays.idle)})`,
      load,
    ]);
    if (s.worstBaselineMs !== undefined)
      rows.push([
        `${s.n}`,
        `listProcessesAsync() of the baseline build (${baselineDist})`,
        '',
        '',
        '',
        `${s.worstBaselineMs.toFixed(1)} ms, median round ${median(s.delays.baseline).toFixed(1)} ms, ` +
          over10(s.delays.baseline),
        loadColumn(s.delayLoad),
      ]);
    rows.push([
      `${s.n}`,
      'sampler process channel: scanProcesses() + readProcessesChunked()',
      fmtUs(s.samplerUs),
      per(s.samplerUs),
      `${(s.samplerUs / s.limitUs).toFixed(2)}× (reads io too)`,
      `${s.worstSamplerMs.toFixed(1)} ms, median round ${median(s.delays.sampler).toFixed(1)} ms, ` +
        over10(s.delays.sampler),
      load,
    ]);
  }
  const base = peers.node.addon.medianUs;
  const peerLoad = loadColumn(peers.node.load);
  rows.push([
    `${peers.n}`,
    'Node readdirSync + readFileSync',
    fmtUs(peers.node.node.medianUs),
    fmtUs(peers.node.node.medianUs / peers.n),
    `${(peers.node.node.medianUs / base).toFixed(2)}× of ours`,
    '',
    peerLoad,
  ]);
  rows.push([
    `${peers.n}`,
    'pidusage (same pids; reads stat only)',
    fmtUs(peers.pidusage.medianUs),
    fmtUs(peers.pidusage.medianUs / peers.n),
    `${(peers.pidusage.medianUs / base).toFixed(1)}× of ours`,
    '',
    peerLoad,
  ]);
  rows.push([
    `${peers.n}`,
    'systeminformation processes()',
    fmtUs(peers.si.medianUs),
    fmtUs(peers.si.medianUs / peers.n),
    `${(peers.si.medianUs / base).toFixed(0)}× of ours`,
    '',
    peerLoad,
  ]);
  const targets = [];
  for (const s of results) {
    targets.push({
      what: `listProcesses() / C limit at ${s.n} processes`,
      value: Number((s.syncUs / s.limitUs).toFixed(2)),
      goal: '≤ 1.5×',
      met: s.syncUs / s.limitUs <= 1.5,
    });
    targets.push({
      what: `worst event-loop delay during listProcessesAsync() at ${s.n} processes`,
      value: Number(s.worstAsyncMs.toFixed(1)),
      goal: '≤ 10 ms',
      met: s.worstAsyncMs <= 10,
    });
    targets.push({
      what: `worst event-loop delay during the sampler's process scan read at ${s.n} processes`,
      value: Number(s.worstSamplerMs.toFixed(1)),
      goal: '≤ 10 ms',
      met: s.worstSamplerMs <= 10,
    });
  }
  const siX = peers.si.medianUs / base;
  targets.push({
    what: `systeminformation processes() / listProcesses() at ${peers.n} processes`,
    value: Number(siX.toFixed(0)),
    goal: '≥ 20×',
    met: siX >= 20,
  });
  return {
    title:
      `Process-table scan at ${results.map((s) => s.n).join(', ')} processes (median of ${rounds} interleaved ` +
      `rounds per size)`,
    head: [
      'processes',
      'implementation',
      'median per scan',
      'per process',
      'vs C limit',
      'worst event-loop delay',
      'load 1 min',
    ],
    rows,
    notes: [
      'worst event-loop delay: p100 of monitorEventLoopDelay (1 ms resolution) over every async scan of the ' +
        "size (and the median over rounds of each round's worst), beside the same for an idle loop over windows " +
        'of the same length in the same rounds (what the machine alone costs the loop); measured in a child ' +
        `process that only scans, in ${2 * rounds} interleaved rounds per size; "k of N rounds > 10 ms" counts ` +
        'the rounds whose worst delay passed the goal, for the scan and for the idle loop alike',
      `load average before ${loadBefore}, after ${loadAverage()}`,
    ],
    load: { before: loadBefore, after: loadAverage() },
    targets,
    raw: { results, peers },
  };
}
