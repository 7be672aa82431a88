// The sampler: achieved interval and jitter (p50/p99 of the gap between samples) at 10 ms, 1 ms and 100 µs; the
// CPU cost of its thread against a C loop that waits the same way and preads the same files at the same cadences
// (limit/sampler_limit.c: the physical limit); the timer's own floor; the process channel's cost a scan; the cost
// of a window() query; and the JS event-loop delay with and without the sampler running.
//
// Each A/B pair (sampler vs C limit, event loop without vs with) runs in alternating rounds (ABBA...) of
// BENCH_SAMPLER_ROUND_MS (1 s) each and quotes the median of the rounds, with the load average over the pair: on
// these VMs a 2 s figure moves by a whole percent of a core from one minute to the next, and alternating rounds
// move both sides alike. Targets (issue 17 §6 and the sampler's design): at 1 kHz with the default read intervals
// under 3 % of one core and p99 jitter (p99 gap minus the interval) under 200 µs. Those absolute goals sit below
// what the C loop itself achieves on a loaded VM (its timer wake-ups alone cost ~4 % of a core here), so two more
// targets judge the sampler against the C loop measured in the same rounds: thread CPU ≤ 1.2× the C loop's (the
// sampler parses and keeps statistics for 16 channels the C loop only reads; 1.2× is the GPU sample's bar, below
// the host sample's 1.3×), and p99 jitter ≤ the C loop's + 100 µs (both wait the same way, so what is left is the
// length of a tick, a few µs, and round-to-round noise). The absolute targets stay in the table.
import { execFileSync, spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Sampler } from '../dist/sampler/sampler.js';
import { compile, fmtUs, interleaveRounds, loadAverage, loadColumn, median, scaled, target } from './lib/measure.js';
import { pinTogether } from './lib/pin.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function loopDelay(ms) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // Keep the loop doing small work, as a server would.
  const t = setInterval(() => JSON.stringify({ a: [1, 2, 3] }), 1);
  await sleep(ms);
  clearInterval(t);
  h.disable();
  return { p50: h.percentile(50) / 1e3, p99: h.percentile(99) / 1e3, max: h.max / 1e3 };
}

// The files a signal group reads (what the C limit preads at the same cadence).
const groupFiles = {
  memory: ['/proc/meminfo'],
  cpu: ['/proc/stat'],
  psi: ['/proc/pressure/cpu', '/proc/pressure/memory', '/proc/pressure/io'],
  pids: [`/proc/${process.pid}/stat`],
};

function limitArgs(report, intervalUs) {
  const out = [];
  for (const [group, us] of Object.entries(report.readIntervalsUs)) {
    for (const f of groupFiles[group] ?? []) out.push(`${f}:${Math.max(1, Math.round(us / intervalUs))}`);
  }
  return out;
}

// Thread CPU as a share of one core at the nominal rate: CPU per sample taken × samples per second asked for.
// On a loaded machine both loops skip missed deadlines (hundreds a second at load 9), and a thread that took half
// its samples must not look twice as cheap; the share it actually used is kept in raw as measuredCpu.
const atFullRate = (threadCpuMs, samples, intervalUs) =>
  (threadCpuMs / Math.max(1, samples) / (intervalUs / 1000)) * 100;

const DEFAULT_CASE = '1 ms, memory+cpu+psi (default read intervals)';

export async function run() {
  const rows = [];
  const raw = {};
  const roundMs = Number(process.env.BENCH_SAMPLER_ROUND_MS ?? 1000);
  const rounds = scaled(5);
  const loadFirst = loadAverage();
  const limitBin = compile('limit/sampler_limit.c', 'sampler_limit', ['-lpthread']);
  const cLimit = (args, env = process.env) => {
    const c = JSON.parse(execFileSync(limitBin, args, { encoding: 'utf8', env }));
    return {
      cpu: atFullRate(c.threadCpuMs, c.samples, Number(args[0])),
      measuredCpu: (c.threadCpuMs / c.durationMs) * 100,
      p50: c.gapP50,
      p99: c.gapP99,
      samples: c.samples,
    };
  };
  const cases = [
    ['10 ms, memory+cpu+psi', { intervalUs: 10_000 }],
    [DEFAULT_CASE, { intervalUs: 1000 }],
    ['1 ms, memory+cpu+psi, every group every sample', { intervalUs: 1000, cpuIntervalUs: 0, psiIntervalUs: 0 }],
    ['1 ms, one pid', { intervalUs: 1000, signals: [], pids: [process.pid] }],
    ['100 µs, memory only', { intervalUs: 100, signals: ['memory'] }],
  ];
  // The sampler and the C loop (a child, which inherits the CPU) run pinned to one CPU together, as in
  // host-sample (lib/pin.js): the ratio compares the two loops, not two vCPUs. The event-loop and
  // process-channel parts below run unpinned (the JS thread and the sampler's would share one CPU).
  const pin = pinTogether([process.pid]);
  let floor;
  try {
    floor = await pinnedCases();
  } finally {
    pin.restore?.();
  }
  raw.pinnedCpu = pin.cpu;
  async function pinnedCases() {
    for (const [name, opts] of cases) {
      const intervals = new Sampler(opts).start().stop().readIntervalsUs;
      const args = [
        String(opts.intervalUs),
        String(roundMs),
        ...limitArgs({ readIntervalsUs: intervals }, opts.intervalUs),
      ];
      const r = await interleaveRounds(
        {
          ours: async () => {
            const s = new Sampler(opts).start();
            await sleep(roundMs);
            const rep = s.stop();
            return {
              cpu: atFullRate(rep.threadCpuMs, rep.samples, opts.intervalUs),
              measuredCpu: (rep.threadCpuMs / rep.durationMs) * 100,
              p50: rep.intervalUs.p50,
              p99: rep.intervalUs.p99,
              missed: rep.missedDeadlines,
              samples: rep.samples,
            };
          },
          // The C loop is a child process and blocks the JS thread meanwhile; nothing else runs then.
          limit: async () => cLimit(args),
        },
        { rounds },
      );
      // The ratio of each round's pair (adjacent in time), then their median: steadier than a ratio of medians.
      const vsC = median(r.ours.rounds.map((o, i) => o.cpu / r.limit.rounds[i].cpu));
      raw[name] = { ...r, vsC, intervalUs: opts.intervalUs, readIntervalsUs: intervals };
      rows.push([
        name,
        Object.entries(intervals)
          .map(([g, us]) => `${g} ${us >= 1000 ? `${us / 1000} ms` : `${us} µs`}`)
          .join(', ') || '–',
        fmtUs(r.ours.p50),
        fmtUs(r.ours.p99),
        fmtUs(r.limit.p99),
        `${r.ours.cpu.toFixed(2)} %`,
        `${r.limit.cpu.toFixed(2)} %`,
        `${vsC.toFixed(2)}x`,
        String(r.ours.missed),
        loadColumn(r.load),
      ]);
    }
    // The timer's own floor (the C loop waking and reading nothing): what no sampler can go below.
    const floor = await interleaveRounds(
      {
        '1 ms': async () => cLimit(['1000', String(roundMs)]),
        // The same wake-ups on a condition variable, as the sampler waited before its futex wait (in this
        // single-threaded process without the mutex wake-up the sampler paid inside Node).
        '1 ms, condvar': async () =>
          cLimit(['1000', String(roundMs)], { ...process.env, SAMPLER_LIMIT_WAIT: 'condvar' }),
        // The same wake-ups in clock_nanosleep, as the sampler waited before stop() became wakeable.
        '1 ms, nanosleep': async () =>
          cLimit(['1000', String(roundMs)], { ...process.env, SAMPLER_LIMIT_WAIT: 'nanosleep' }),
        '100 µs': async () => cLimit(['100', String(roundMs)]),
        // A periodic timerfd armed once (no timer set up per wake-up): not cheaper here, so the sampler keeps the
        // futex wait stop() can wake.
        '1 ms, timerfd': async () =>
          cLimit(['1000', String(roundMs)], { ...process.env, SAMPLER_LIMIT_WAIT: 'timerfd' }),
        // The kernel's default 50 µs timer slack instead of the 1 µs the sampler sets: what the prctl buys.
        '1 ms, 50 µs slack': async () =>
          cLimit(['1000', String(roundMs)], { ...process.env, SAMPLER_LIMIT_SLACK_NS: '50000' }),
      },
      { rounds: Math.max(3, Math.round(rounds / 2)) },
    );
    raw.timerFloor = floor;
    return floor;
  }
  // window(): what a rolling-statistics query costs the JS thread (10 s of 1 kHz samples).
  const ws = new Sampler({ intervalUs: 1000 }).start();
  await sleep(10_500);
  const windowUs = [];
  for (let i = 0; i < 21; i++) {
    const t = process.hrtime.bigint();
    ws.window(10_000);
    windowUs.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  ws.stop();
  raw.window10s = { medianUs: median(windowUs), channels: ws.channels.length };
  // The process channel: a scan of this process's descendants on the scanner's own thread.
  const kids = Array.from({ length: 20 }, () => spawn('sleep', ['60'], { stdio: 'ignore' }));
  let pr;
  try {
    const ps = new Sampler({
      intervalUs: 1000,
      signals: [],
      processes: { descendantsOf: process.pid, intervalUs: 20_000 },
    }).start();
    await sleep(2000);
    pr = ps.stop();
  } finally {
    for (const k of kids) k.kill('SIGKILL');
  }
  const perScanUs = (pr.processThreadCpuMs * 1000) / Math.max(1, pr.processScans);
  raw.processChannel = { scans: pr.processScans, threadCpuMs: pr.processThreadCpuMs, perScanUs, processes: 20 };
  // Event-loop delay without and with the 1 kHz sampler, alternating.
  const loop = await interleaveRounds(
    {
      without: () => loopDelay(roundMs),
      with: async () => {
        const s = new Sampler({ intervalUs: 1000 }).start();
        try {
          return await loopDelay(roundMs);
        } finally {
          s.stop();
        }
      },
    },
    { rounds: Math.max(3, rounds) },
  );
  raw.eventLoop = loop;
  const def = raw[DEFAULT_CASE];
  const us = (v) => `${v.toFixed(0)} µs`;
  const pct = (v) => `${v.toFixed(2)} % of a core`;
  const targets = [
    target('1 kHz sampler (default read intervals): thread CPU', def.ours.cpu, '<', 3, pct),
    target('1 kHz sampler: p99 jitter (p99 gap − 1 ms)', Math.max(0, def.ours.p99 - 1000), '<', 200, us),
    target(
      '1 kHz sampler: thread CPU vs the C loop doing the same reads (same rounds)',
      def.vsC,
      '<=',
      1.2,
      (v) => `${v.toFixed(2)}x`,
    ),
    target(
      "1 kHz sampler: p99 jitter vs the C loop's p99 jitter + 100 µs (same rounds)",
      Math.max(0, def.ours.p99 - 1000),
      '<=',
      Math.max(0, def.limit.p99 - 1000) + 100,
      us,
    ),
  ];
  // Where the C loop doing the same reads is itself over the goal, no implementation can meet it on this machine
  // at this load: say so beside the figures rather than leave a bare "not met".
  const limitNote =
    def.limit.cpu >= 3
      ? `the C loop doing the same reads at 1 kHz used ${def.limit.cpu.toFixed(2)} % of a core in the same ` +
        `rounds: the 3 % goal is below this machine's limit at this load`
      : `the C loop doing the same reads at 1 kHz used ${def.limit.cpu.toFixed(2)} % of a core in the same rounds`;
  return {
    title:
      `Sampler: achieved interval, jitter and thread CPU vs the C limit (median of ${rounds} alternating rounds ` +
      `of ${roundMs / 1000} s per case)`,
    head: [
      'case',
      'read intervals',
      'gap p50',
      'gap p99',
      'C limit gap p99',
      'thread CPU at the full rate (of one core)',
      'C limit CPU',
      'vs C',
      'missed deadlines',
      'load (1 min)',
    ],
    rows,
    notes: [
      pin.cpu !== null
        ? `the sampler and the C loop ran pinned together to CPU ${pin.cpu} (taskset -a; lib/pin.js) for the ` +
          'cases and the timer floor; the window, process-channel and event-loop figures ran unpinned'
        : `not pinned (${pin.why}): the sampler and the C loop ran on whichever CPUs the scheduler picked`,
      `timer floor (the C loop waking and reading nothing): ${floor['1 ms'].cpu.toFixed(2)} % of a core at 1 ` +
        `ms (gap p99 ${fmtUs(floor['1 ms'].p99)}), ${floor['100 µs'].cpu.toFixed(2)} % at 100 µs; alternating ` +
        `with it, waiting on a condition variable instead of the futex ${floor['1 ms, condvar'].cpu.toFixed(2)} % ` +
        `(gap p99 ${fmtUs(floor['1 ms, condvar'].p99)}), in clock_nanosleep ` +
        `${floor['1 ms, nanosleep'].cpu.toFixed(2)} % at 1 ms (gap p99 ${fmtUs(floor['1 ms, nanosleep'].p99)}); ` +
        `on a periodic timerfd ${floor['1 ms, timerfd'].cpu.toFixed(2)} % (gap p99 ` +
        `${fmtUs(floor['1 ms, timerfd'].p99)}); with the default 50 µs timer slack instead of 1 µs ` +
        `${floor['1 ms, 50 µs slack'].cpu.toFixed(2)} % (gap p99 ${fmtUs(floor['1 ms, 50 µs slack'].p99)}) ` +
        `(load ${loadColumn(floor.load)})`,
      `window(10 s) at 1 kHz (${ws.channels.length} channels, 10,000 samples): ${fmtUs(median(windowUs))} on ` +
        `the JS thread (median of 21)`,
      `process channel: ${pr.processScans} scans of 20 descendants in 2 s, ${fmtUs(perScanUs)} of ` +
        `scanner-thread CPU a scan`,
      `event-loop delay (monitorEventLoopDelay, 1 ms timer work), median of ${loop.rounds} alternating rounds: ` +
        `without the sampler p50 ${us(loop.without.p50)} / p99 ${us(loop.without.p99)}; with the 1 kHz sampler ` +
        `p50 ${us(loop.with.p50)} / p99 ${us(loop.with.p99)} (load ${loadColumn(loop.load)})`,
      limitNote,
      'thread CPU is CPU per sample taken × the asked rate (both loops skip missed deadlines under load); ' +
        'the C limit waits as the sampler does (a futex wait to an absolute CLOCK_MONOTONIC deadline, timer ' +
        'slack 1 µs, missed deadlines skipped); "vs C" is the median over rounds of thread CPU over the C loop ' +
        'doing the same reads in the adjacent round',
    ],
    load: { before: loadFirst, after: loadAverage() },
    targets,
    raw,
  };
}
