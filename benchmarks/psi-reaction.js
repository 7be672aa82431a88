// Reaction to memory pressure: from the onset of a stall in the agent's cgroup to the monitor's alert.
// A child thrashes in a cgroup of its own (a mapped file larger than its memory limit, every page
// touched over and over; the v1 memory controller sets the limit on a hybrid machine, the unified
// tree's cgroup gives the per-cgroup memory.pressure). A worker thread reads that memory.pressure
// every 20 ms (PSI_REACTION_ONSET_POLL_MS): the onset is its first reading whose `some total` grew by
// monitor.psiMemoryStallUs within monitor.psiWindowUs (the trigger's own condition, observed
// independently of the monitor). The end is the monitor's alert for the cgroup (the escalator sending
// memory_stall:warning:<cg> or critical:memory_stall:<cg>). Beside it: when the monitor's polled
// totals first woke it, and when the kernel's own cgroup trigger first woke it.
// Needs root and a cgroup hierarchy that can limit memory; elsewhere it says why and measures nothing.
// PSI_REACTION_RUNS (default 4) runs, each with a fresh cgroup, child and monitor.
//
// Why not a 2 ms onset poll: reading a pressure file folds the per-CPU stall times into its total
// (collect_percpu_times), weighting each CPU's stall by that CPU's non-idle time converted to whole
// jiffies. Reads less than a jiffy apart (4 ms at HZ=250, 10 ms at HZ=100) give every CPU the weight 0
// and the stall of that interval is dropped from the total, for every reader of the file, the monitor
// included. A 2 ms poll therefore hid most of the stall it was looking for: with the same thrashing
// child, 3-48 % `some` per second with a 2 ms reader beside it, 63-74 % with a 20 ms reader or none
// (HZ=250, measured while this was written). On a busy machine the poll thread ran late, its reads
// were further apart and the stall got through: hence onsets under load and none on a quiet machine.
// 20 ms is two jiffies at HZ=100 and adds at most 20 ms to the onset against a 2.5 s goal.
// Why several thrashing workers: margin. Without swap the only reclaimable memory is the file's page
// cache, and the stall is the time in the memcg's direct reclaim (per-page unmapping of the mapped
// file) and in waits for workingset refaults. One worker given a CPU of its own (SCHED_FIFO) stalled
// its cgroup 21-24 % of the time, close to the 10 % threshold on a slow-I/O day. The child forks
// PSI_REACTION_WORKERS (default twice the CPUs, 4 to 16) processes that scan the same mapping from
// staggered offsets: each page is mapped several times (more unmapping work in reclaim), they charge
// the memcg at once and queue on its reclaim. A run whose child never reaches the onset is listed,
// not counted; the child's measured stall is in the table either way.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadAverage, median } from './lib/measure.js';

const MiB = 2 ** 20;
const UNIFIED = '/sys/fs/cgroup/unified';
const V1_MEMORY = '/sys/fs/cgroup/memory';
const GOAL_MS = 2500;
const KERNEL_WAIT_MS = 15_000;
const ONSET_WAIT_MS = Number(process.env.PSI_REACTION_ONSET_WAIT_MS ?? 30_000);
// Not below a jiffy or two: faster reads of a pressure file drop stall from its total (see above).
const ONSET_POLL_MS = Number(process.env.PSI_REACTION_ONSET_POLL_MS ?? 20);
const debug = process.env.PSI_REACTION_DEBUG ? (...a) => console.error('[psi-reaction]', ...a) : () => {};

const THRASH = `
import mmap, os, sys
path, size, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# Written from inside the limited cgroup, so that every page of it is charged there from the start.
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
chunk = b'\\x07' * (1 << 20)
for _ in range(size >> 20):
    os.write(fd, chunk)
os.fsync(fd)
m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
# The workers share the mapping (one page cache, one memcg); each starts its scan at its own offset.
k = 0
for w in range(1, workers):
    if os.fork() == 0:
        k = w
        break
if k == 0:
    print('ready', os.getpid(), flush=True)
start = size // workers * k // 4096 * 4096
s = 0
while True:
    for off in range(start, size, 4096):
        s += m[off]
    for off in range(0, start, 4096):
        s += m[off]
`;
// Twice the CPUs the benchmark may use, at least 4 (the cgroup's own runqueue contention), at most 16.
const WORKERS = Number(
  process.env.PSI_REACTION_WORKERS ?? Math.min(16, Math.max(4, 2 * (os.availableParallelism?.() ?? os.cpus().length))),
);

// The onset poll, on its own thread so the monitor's work on the main thread cannot delay it.
const ONSET_POLL = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { file, stallUs, windowUs } = workerData;
const fd = fs.openSync(file, 'r');
const buf = Buffer.alloc(256);
const hist = [];
const tick = () => {
  let n;
  try { n = fs.readSync(fd, buf, 0, 256, 0); } catch { parentPort.postMessage({ gone: true }); return; }
  const m = /^some .*total=(\\d+)/m.exec(buf.toString('latin1', 0, n));
  const now = performance.timeOrigin + performance.now();
  if (m) {
    const total = Number(m[1]);
    hist.push([now, total]);
    while (hist.length > 1 && now - hist[1][0] >= windowUs / 1000) hist.shift();
    if (total - hist[0][1] >= stallUs) { parentPort.postMessage({ onset: now, stallUs: total - hist[0][1] }); return; }
  }
  setTimeout(tick, workerData.everyMs);
};
tick();
`;

function unavailable() {
  if (process.getuid?.() !== 0) return 'needs root (it creates cgroups and limits their memory)';
  if (!existsSync(`${UNIFIED}/cgroup.procs`) && !existsSync('/sys/fs/cgroup/cgroup.procs'))
    return 'no cgroup v2 (unified) hierarchy';
  return null;
}

// The cgroup's memory.pressure `some total` (µs).
function someTotal(cgroupDir) {
  return Number(/^some .*total=(\d+)/m.exec(readFileSync(path.join(cgroupDir, 'memory.pressure'), 'utf8'))[1]);
}

function unifiedRoot() {
  return existsSync(`${UNIFIED}/cgroup.procs`) ? UNIFIED : '/sys/fs/cgroup';
}

async function oneRun(i, dir, dist) {
  const root = unifiedRoot();
  const v2Memory = readFileSync(`${root}/cgroup.controllers`, 'utf8').split(/\s+/).includes('memory');
  const name = `ovn-bench-psi-${process.pid}-${i}`;
  const v2 = path.join(root, name);
  const v1 = v2Memory ? null : path.join(V1_MEMORY, name);
  const limit = 64 * MiB;
  const size = 96 * MiB;
  mkdirSync(v2);
  if (v1) {
    mkdirSync(v1);
    writeFileSync(path.join(v1, 'memory.limit_in_bytes'), String(limit));
  } else writeFileSync(path.join(v2, 'memory.max'), String(limit));
  // A fresh file each run, written by the child inside its cgroup (the pages of an earlier file may
  // stay cached, charged to another cgroup, and would never fault).
  const file = path.join(dir, `mapped-${i}`);
  writeFileSync(path.join(dir, 'thrash.py'), THRASH);
  // The runner (a shell) is the scope root; its python child is the one that thrashes. The shell
  // waits for a start line on stdin, so the monitor is watching before the stall begins.
  const join = [v2, ...(v1 ? [v1] : [])].map((d) => `echo $$ > ${d}/cgroup.procs`).join('; ');
  const runner = spawn(
    'sh',
    ['-c', `${join}; read go; python3 ${path.join(dir, 'thrash.py')} ${file} ${size} ${WORKERS}`],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      detached: true,
    },
  );
  // The monitor finds the agent's cgroup through the runner: wait until the runner has joined it.
  // Its "ready" line (the file written, the scan begins): from there on the child's stall is measured.
  let ready = null;
  runner.stdout.on('data', (d) => {
    if (ready === null && d.includes('ready'))
      ready = { at: performance.timeOrigin + performance.now(), some: someTotal(v2) };
  });
  const joined = () => readFileSync(path.join(v2, 'cgroup.procs'), 'utf8').split('\n').includes(String(runner.pid));
  for (let k = 0; k < 500 && !joined(); k++) await new Promise((r) => setTimeout(r, 20));
  const { createOvernightContext, parseConfig } = dist;
  const { OvernightMonitor } = await import('../dist/monitor/overnight-monitor.js');
  const ctx = await createOvernightContext({
    config: parseConfig({
      stateDir: path.join(dir, `state-${i}`),
      policy: { scopeRoot: runner.pid },
      monitor: { recover: 'off', intervalSec: 3600 },
    }),
    identity: { scopeRoot: runner.pid, selfPid: process.pid },
  });
  const m = ctx.config.monitor;
  const t = { start: 0, onset: null, alert: null, poll: null, kernel: null, kernelSystem: null };
  const now = () => performance.timeOrigin + performance.now();
  const cg = `/${name}`;
  // The monitor hands alerts to notify() (decided at once, its log line written, channels delivered in the
  // background); other callers await escalate(). Either counts as the alert being sent.
  const mark = (a, r) => {
    if (
      !r.deduplicated &&
      t.alert === null &&
      (a.key === `memory_stall:warning:${cg}` || a.key === `critical:memory_stall:${cg}`)
    )
      t.alert = now();
    return r;
  };
  const send = ctx.escalator.escalate.bind(ctx.escalator);
  ctx.escalator.escalate = async (a) => mark(a, await send(a));
  const notify = ctx.escalator.notify.bind(ctx.escalator);
  ctx.escalator.notify = (a) => mark(a, notify(a));
  const monitor = new OvernightMonitor(ctx, {
    onEvent: (e) => {
      if (e.kind !== 'psi') return;
      if (e.detail.startsWith('polled totals') && e.detail.includes(`cgroup ${cg}`)) t.poll ??= now();
      if (e.detail.startsWith('kernel trigger') && e.detail.includes(`cgroup ${cg}`)) t.kernel ??= now();
      if (e.detail.startsWith('kernel trigger') && e.detail.includes('system-wide')) t.kernelSystem ??= now();
    },
  });
  const stop = new AbortController();
  let stallPercent = null;
  const running = monitor.run(stop.signal);
  // A .cjs file of its own: an eval'd worker would inherit the parent's module type.
  const pollFile = path.join(dir, 'onset-poll.cjs');
  writeFileSync(pollFile, ONSET_POLL);
  const worker = new Worker(pollFile, {
    workerData: {
      file: path.join(v2, 'memory.pressure'),
      stallUs: m.psiMemoryStallUs,
      windowUs: m.psiWindowUs,
      everyMs: ONSET_POLL_MS,
    },
  });
  let pollError = null;
  worker.on('message', (msg) => {
    if (msg.onset) t.onset ??= msg.onset;
  });
  worker.on('error', (err) => (pollError = err));
  const wait = async (ok, ms) => {
    const end = Date.now() + ms;
    while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  };
  try {
    await wait(() => monitor.cycles > 0, 30_000); // the first cycle ran: triggers and poll are armed
    t.start = now();
    debug('armed, starting the stall');
    runner.stdin.write('go\n');
    await wait(() => (t.onset !== null && t.alert !== null) || pollError !== null, ONSET_WAIT_MS);
    if (pollError) throw pollError;
    debug('onset/alert', t, readFileSync(path.join(v2, 'memory.pressure'), 'utf8'));
    // The kernel's own trigger, for comparison: given a while longer, not for ever.
    if (t.onset !== null) await wait(() => t.kernel !== null, Math.max(0, t.onset + KERNEL_WAIT_MS - now()));
  } finally {
    // How hard the child stalled its cgroup while it scanned (the evidence when no onset came).
    if (ready !== null && now() - ready.at > 100)
      stallPercent = ((someTotal(v2) - ready.some) / 1000 / (now() - ready.at)) * 100;
    debug('cleaning up');
    await worker.terminate();
    debug('worker ended');
    stop.abort();
    monitor.wake('benchmark over');
    await running;
    debug('monitor ended');
    await ctx.close();
    debug('context closed');
    if (runner.exitCode === null) {
      const gone = new Promise((r) => runner.once('exit', r));
      process.kill(-runner.pid, 'SIGKILL');
      await gone;
    }
    for (const d of [v2, ...(v1 ? [v1] : [])])
      for (let k = 0; k < 100 && existsSync(d); k++) {
        try {
          rmdirSync(d);
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
  }
  rmSync(file, { force: true });
  const rel = (x) => (x === null || t.onset === null ? null : x - t.onset);
  return {
    stallPercent,
    startToReadyMs: ready === null ? null : ready.at - t.start,
    startToOnsetMs: t.onset === null ? null : t.onset - t.start,
    onsetToPollMs: rel(t.poll),
    onsetToAlertMs: rel(t.alert),
    onsetToKernelMs: rel(t.kernel),
    onsetToKernelSystemMs: rel(t.kernelSystem),
  };
}

/** This process's PSI watcher threads, by name (native/proc/psi_trigger.cc names them). */
function psiThreads() {
  return readdirSync('/proc/self/task').filter((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/comm`, 'latin1').trim() === 'ovn-psi';
    } catch {
      return false;
    }
  });
}
/** Times a thread got the CPU (schedstat's third field): the watcher's reads, one a wake-up. */
const wakeUps = (tid) => Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ')[2]);

/**
 * What the poll costs the monitor when nothing stalls, against the alternative of polling from the JS
 * side: process CPU time over 2 s spans with (a) the native watcher reading two pressure files every
 * 1 ms on its thread, (b) a JS timer reading and parsing the same two files every 1 ms, (c) the watcher
 * without the poll (the baseline), interleaved round by round; per poll, and scaled to monitor.psiPollMs.
 */
async function pollCost(dist, pollMs) {
  const { loadNative } = dist;
  // A 10 ms threshold: the watcher then reads at every poll (a file far from its threshold is read
  // less often, pollWaitNs), the same cadence as the JS timer it is compared with.
  const specs = [
    { resource: 'memory', name: 'a', stallUs: 10_000, windowUs: 2_000_000 },
    { resource: 'memory', name: 'b', stallUs: 10_000, windowUs: 2_000_000 },
  ];
  const spanMs = 2000;
  const per = { native: [], js: [], none: [] };
  const loadBefore = loadAverage();
  const modes = Object.keys(per);
  for (let r = 0; r < 4; r++) {
    for (const mode of r % 2 === 0 ? modes : [...modes].reverse()) {
      const before = new Set(psiThreads());
      const w = new (loadNative().PsiTriggers)(specs, () => undefined, { pollUs: mode === 'native' ? 1000 : 0 });
      // The thread names itself once it runs: waited for (bounded).
      let tid;
      for (const until = Date.now() + 2000; mode === 'native' && !tid && Date.now() < until;)
        (tid = psiThreads().find((t) => !before.has(t))) || (await new Promise((res) => setTimeout(res, 5)));
      const w0 = tid ? wakeUps(tid) : 0;
      let polls = 0;
      let timer = null;
      const fds = mode === 'js' ? [openSync('/proc/pressure/memory', 'r'), openSync('/proc/pressure/memory', 'r')] : [];
      const buf = Buffer.alloc(256);
      if (mode === 'js')
        timer = setInterval(() => {
          for (const fd of fds) {
            const n = readSync(fd, buf, 0, 256, 0);
            Number(/total=(\d+)/.exec(buf.toString('latin1', 0, n))?.[1]);
          }
          polls++;
        }, 1);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await new Promise((res) => setTimeout(res, spanMs));
      const c = process.cpuUsage(c0);
      const wall = performance.now() - t0;
      if (timer) clearInterval(timer);
      for (const fd of fds) closeSync(fd);
      // The native poll's reads are its thread's wake-ups (it sleeps longer than a poll while the files
      // are far from their thresholds: pollWaitNs); the JS timer counts its own ticks.
      if (mode === 'native') {
        if (!tid) throw new Error('psi-reaction: the watcher thread (ovn-psi) was not found');
        polls = wakeUps(tid) - w0;
      }
      w.stop();
      per[mode].push({ cpuUs: c.user + c.system, wall, polls });
    }
  }
  // CPU µs per poll above the baseline (the baseline's CPU per ms of wall time times the span).
  const base = median(per.none.map((x) => x.cpuUs / x.wall));
  const perPoll = (m) => Math.max(0, median(per[m].map((x) => (x.cpuUs - base * x.wall) / Math.max(1, x.polls))));
  const nativeUs = perPoll('native');
  const jsUs = perPoll('js');
  return {
    nativeUs,
    jsUs,
    nativePercent: (nativeUs / (pollMs * 1000)) * 100,
    jsPercent: (jsUs / (pollMs * 1000)) * 100,
    load: { before: loadBefore, after: loadAverage() },
  };
}

export async function run() {
  const title = `Reaction to memory pressure: onset (${ONSET_POLL_MS} ms poll of the cgroup PSI total) → monitor alert`;
  const head = [
    'run',
    'start → onset',
    'onset → polled wake',
    'onset → alert',
    'onset → kernel cgroup trigger',
    'child stall (some, while it scanned)',
    'load avg',
  ];
  const why = unavailable();
  const loadBefore = loadAverage();
  if (why)
    return {
      title,
      head,
      rows: [['-', '-', '-', `not measured: ${why}`, '-', '-', loadBefore]],
      notes: [`not measured on this machine: ${why}`],
      load: { before: loadBefore, after: loadAverage() },
      targets: [{ what: 'onset → alert, max over runs (ms)', value: null, goal: `≤ ${GOAL_MS}`, met: false }],
    };
  const dist = await import('../dist/index.js');
  const runs = Number(process.env.PSI_REACTION_RUNS ?? 4);
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-psi-'));
  const results = [];
  try {
    for (let i = 0; i < runs; i++) results.push({ ...(await oneRun(i, dir, dist)), load: loadAverage() });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ms = (x) => (x === null ? 'none' : `${Math.round(x)} ms`);
  const rows = results.map((r, i) => [
    String(i + 1),
    ms(r.startToOnsetMs),
    ms(r.onsetToPollMs),
    ms(r.onsetToAlertMs),
    r.onsetToKernelMs === null ? `none within ${KERNEL_WAIT_MS / 1000} s` : ms(r.onsetToKernelMs),
    r.stallPercent === null ? '-' : `${r.stallPercent.toFixed(0)} %`,
    r.load.split(' ')[0],
  ]);
  // Only runs whose child reached the onset say anything about the reaction; an onset without an
  // alert is a failure. (The same thrashing child stalls 5-40 % of the time from run to run here.)
  const withOnset = results.filter((r) => r.startToOnsetMs !== null);
  const alerts = withOnset.map((r) => r.onsetToAlertMs);
  const measured = withOnset.length > 0 && alerts.every((x) => x !== null);
  const med = measured ? median(alerts) : null;
  const max = measured ? Math.max(...alerts) : null;
  const kernels = withOnset.map((r) => r.onsetToKernelMs).filter((x) => x !== null);
  rows.push([
    'median / max',
    `${withOnset.length} of ${runs} runs reached the onset`,
    '',
    measured ? `${Math.round(med)} / ${Math.round(max)} ms` : withOnset.length ? 'an alert was missing' : 'no onset',
    kernels.length
      ? `${Math.round(median(kernels))} / ${Math.round(Math.max(...kernels))} ms (${kernels.length} of ` +
        `${withOnset.length} fired)`
      : 'never fired',
    results.some((r) => r.stallPercent !== null)
      ? `median ${median(results.filter((r) => r.stallPercent !== null).map((r) => r.stallPercent)).toFixed(0)} %`
      : '',
    '',
  ]);
  const cost = await pollCost(dist, 100);
  rows.push([
    'poll cost (native thread)',
    `${cost.nativeUs.toFixed(1)} µs a poll (2 files)`,
    `${cost.nativePercent.toFixed(3)} % of a core at 100 ms`,
    `${(cost.nativeUs / cost.jsUs).toFixed(2)}x the JS timer`,
    '',
    '',
    cost.load.before.split(' ')[0],
  ]);
  rows.push([
    'poll cost (JS timer, for comparison)',
    `${cost.jsUs.toFixed(1)} µs a poll (2 files)`,
    `${cost.jsPercent.toFixed(3)} % of a core at 100 ms`,
    '',
    '',
    '',
    cost.load.after.split(' ')[0],
  ]);
  const loadAfter = loadAverage();
  return {
    title,
    head,
    rows,
    notes: [
      `load average ${loadBefore} before, ${loadAfter} after (1, 5, 15 min)`,
      `onset: a worker thread reads the cgroup memory.pressure every ${ONSET_POLL_MS} ms (not faster: reads under ` +
        'a jiffy apart drop stall from the kernel total); the first reading whose `some ' +
        'total` grew by monitor.psiMemoryStallUs within monitor.psiWindowUs (defaults: 200 ms in 2 s)',
      'alert: the escalator sending the cgroup memory-stall alert; polled wake: the monitor woken by its own ' +
        'poll of the PSI totals (monitor.psiPollMs); kernel trigger: the cgroup trigger written to ' +
        'memory.pressure',
      'poll cost: process CPU time while polling two pressure files every 1 ms, on the native watcher thread ' +
        'or from a JS timer, minus the watcher without the poll (interleaved, 4 rounds of 2 s each, medians), ' +
        'scaled to one poll every monitor.psiPollMs (100 ms by default; while the files are far from their ' +
        'thresholds the watcher reads less often, about every 190 ms with the defaults: pollWaitNs)',
      `the child: ${WORKERS} processes (PSI_REACTION_WORKERS) scanning a 96 MiB mapped file in a 64 MiB ` +
        'memory limit; child stall: the share of the time from its first scan to the end of the run (the ' +
        'kernel trigger or its wait) that its cgroup memory.pressure counted as `some` stall',
      `a run whose child did not reach the onset within ${ONSET_WAIT_MS / 1000} s (PSI_REACTION_ONSET_WAIT_MS) ` +
        `is listed as "none" and left out of the median and max`,
      `the kernel trigger is waited for up to ${KERNEL_WAIT_MS / 1000} s after the onset; "none" means it had ` +
        `not fired by then`,
    ],
    load: { before: loadBefore, after: loadAfter },
    targets: [
      {
        what: 'poll cost, native thread vs a JS timer (ratio, lower is better)',
        value: Math.round((cost.nativeUs / cost.jsUs) * 100) / 100,
        goal: '≤ 1',
        met: cost.nativeUs <= cost.jsUs,
      },
      {
        what: 'onset → alert, max over runs (ms)',
        value: max === null ? null : Math.round(max),
        goal: `≤ ${GOAL_MS}`,
        met: max !== null && max <= GOAL_MS,
      },
    ],
    raw: { runs: results, pollCost: cost },
  };
}
