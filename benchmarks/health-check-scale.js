// healthCheck at scale (issue 17 §1), over the real MCP client on stdio, in one run:
//  1. the server-side cost (the report's duration_ms) of `quick` after 100 calls vs after N
//     (default 10,000, the figure: ~8 s on the dev VM; BENCH_HC_CALLS to change it). Goal ≤ 1.2×.
//  2. the `quick` round trip vs a trivial tool on a bare SDK v2 server (benchmarks/fixtures/
//     bare-sdk-server.js), interleaved ABAB by interleave(), median of round medians. Goal ≤ 1.5×.
//  3. how stale a quick check's host reading may be: while the background sampler runs, quick reuses
//     its host reading, event verdict and 60 s window for one sampler tick (1 s by default, never
//     more); the largest `sample_age_ms` seen over the N calls must stay within it.
//  4. where a round trip's time goes: the CPU each side spends per call (the server's main thread, from
//     /proc/<pid>/schedstat; the client's whole process, from process.cpuUsage()), quick vs ping, in
//     interleaved rounds. What is left of the wall time is the two wake-ups across the pipes.
// BENCH_HC_BASELINE=<dir>: also runs `<dir>/bin/overnight.js serve` (a scratch copy of an earlier
// build, never a committed one) as a third case in the same ABAB rounds, for before/after figures.
// The server runs with the kernel log off: on a shared test machine the ring holds the Xid lines
// other tests inject, and every report would then carry (and this benchmark measure) that history.
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchDir, fmtUs, interleave, interleaveRounds, loadAverage, loadColumn, median } from './lib/measure.js';

async function connect(args, env = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    env: { ...process.env, ...env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return { client, pid: transport.pid };
}

/** CPU time (ns) the main thread of process `pid` has run: the first field of /proc/<pid>/schedstat. */
const mainThreadNs = (pid) => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);

/** µs of CPU per call: the server's main thread and this (client) process, over `n` calls of `call`. */
async function cpuPerCall(pid, call, n) {
  const s0 = mainThreadNs(pid);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await call();
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000 / n;
  const c = process.cpuUsage(c0);
  return { serverUs: (mainThreadNs(pid) - s0) / 1000 / n, clientUs: (c.user + c.system) / n, wallUs };
}

export async function run({
  calls = Number(process.env.BENCH_HC_CALLS ?? 10_000),
  rounds = Number(process.env.BENCH_HC_ROUNDS ?? 15),
  perRound = 100,
  cpuRounds = 6,
  cpuCalls = 300,
} = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-hc-'));
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ stateDir: path.join(dir, 'state'), kernelLog: { enabled: false } }));
  const oursSide = await connect([path.join(benchDir, '../bin/overnight.js'), 'serve', '--config', config], {
    OVERNIGHT_NVML_LIBRARY: process.env.OVERNIGHT_NVML_LIBRARY ?? '',
  });
  const bareSide = await connect([path.join(benchDir, 'fixtures/bare-sdk-server.js')]);
  const baselineDir = process.env.BENCH_HC_BASELINE;
  // Its own state directory: two servers never share one store.
  const baselineConfig = path.join(dir, 'baseline.json');
  writeFileSync(
    baselineConfig,
    JSON.stringify({ stateDir: path.join(dir, 'baseline-state'), kernelLog: { enabled: false } }),
  );
  const baseSide = baselineDir
    ? await connect([path.join(path.resolve(baselineDir), 'bin/overnight.js'), 'serve', '--config', baselineConfig], {
        OVERNIGHT_NVML_LIBRARY: process.env.OVERNIGHT_NVML_LIBRARY ?? '',
      })
    : null;
  const baseline = baseSide
    ? () => baseSide.client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } })
    : null;
  const ours = oursSide.client;
  const bare = bareSide.client;
  const quick = () => ours.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } });
  const ping = () => bare.callTool({ name: 'ping', arguments: {} });
  try {
    // 1. Server-side cost as the call count grows: the medians of calls 100-199 and of the last 100.
    const loadGrowth = { before: loadAverage(), after: '' };
    const server = new Float64Array(calls);
    let maxAgeMs = 0;
    const t0 = Date.now();
    for (let i = 0; i < calls; i++) {
      const r = await quick();
      server[i] = r.structuredContent.duration_ms;
      maxAgeMs = Math.max(maxAgeMs, r.structuredContent.sample_age_ms ?? 0);
    }
    loadGrowth.after = loadAverage();
    const growSec = (Date.now() - t0) / 1000;
    // The baseline server gets the same history (and JIT warm-up) before the rounds compare them.
    if (baseline) for (let i = 0; i < calls; i++) await baseline();
    const early = median(server.subarray(100, 200));
    const late = median(server.subarray(calls - 100));
    const growth = late / early;

    // 2. Round trips, ABAB: quick and the bare server's ping alternate round by round.
    const rt = await interleave({ quick, ping, ...(baseline ? { baseline } : {}) }, { rounds, perRound, warmup: 50 });
    const ratio = rt.quick.medianUs / rt.ping.medianUs;

    // 4. CPU per call on each side, quick vs ping, interleaved round by round.
    const cpu = await interleaveRounds(
      {
        quick: () => cpuPerCall(oursSide.pid, quick, cpuCalls),
        ping: () => cpuPerCall(bareSide.pid, ping, cpuCalls),
        ...(baseline ? { baseline: () => cpuPerCall(baseSide.pid, baseline, cpuCalls) } : {}),
      },
      { rounds: cpuRounds },
    );
    const cpuRow = (what, field) => [
      `${what}, median of ${cpuRounds} ABAB rounds of ${cpuCalls} calls (quick / ping)`,
      fmtUs(cpu.quick[field]),
      fmtUs(cpu.ping[field]),
      `${(cpu.quick[field] / cpu.ping[field]).toFixed(2)}× (+${fmtUs(cpu.quick[field] - cpu.ping[field])})`,
      loadColumn(cpu.load),
    ];

    const load = { before: loadGrowth.before, after: cpu.load.after };
    return {
      title:
        `healthCheck quick at scale: server-side cost over ${calls} calls, round trip vs a bare SDK server ` +
        `(stdio)`,
      head: ['measure', 'value', 'reference', 'ratio (goal)', 'load average'],
      rows: [
        [
          `server-side duration_ms, median of the last 100 of ${calls} calls vs calls 100-199`,
          `${late.toFixed(3)} ms`,
          `${early.toFixed(3)} ms`,
          `${growth.toFixed(2)}× (≤ 1.2×)`,
          loadColumn(loadGrowth),
        ],
        [
          `quick round trip vs bare SDK v2 \`ping\`, median of ${rounds} ABAB round medians (${perRound} calls each)`,
          fmtUs(rt.quick.medianUs),
          fmtUs(rt.ping.medianUs),
          `${ratio.toFixed(2)}× (≤ 1.5×)`,
          loadColumn(rt.load),
        ],
        [
          `p99 over all round-trip calls (quick / ping)`,
          fmtUs(rt.quick.p99Us),
          fmtUs(rt.ping.p99Us),
          `${(rt.quick.p99Us / rt.ping.p99Us).toFixed(2)}×`,
          loadColumn(rt.load),
        ],
        cpuRow("CPU per call, server's main thread", 'serverUs'),
        cpuRow('CPU per call, client process', 'clientUs'),
        ...(baseline
          ? [
              [
                `baseline (${baselineDir}) quick round trip vs bare \`ping\`, same ABAB rounds (quick / baseline)`,
                fmtUs(rt.quick.medianUs),
                fmtUs(rt.baseline.medianUs),
                `${(rt.quick.medianUs / rt.baseline.medianUs).toFixed(2)}× (baseline ` +
                  `${(rt.baseline.medianUs / rt.ping.medianUs).toFixed(2)}× ping)`,
                loadColumn(rt.load),
              ],
              [
                "baseline: CPU per call, server's main thread (quick / baseline)",
                fmtUs(cpu.quick.serverUs),
                fmtUs(cpu.baseline.serverUs),
                `${(cpu.quick.serverUs / cpu.baseline.serverUs).toFixed(2)}× ` +
                  `(${fmtUs(cpu.quick.serverUs - cpu.baseline.serverUs)})`,
                loadColumn(cpu.load),
              ],
            ]
          : []),
        [
          `largest sample_age_ms over the ${calls} quick calls (host reading reused for one sampler tick)`,
          `${maxAgeMs.toFixed(1)} ms`,
          '1000 ms',
          '',
          loadColumn(loadGrowth),
        ],
      ],
      notes: [
        `${calls} calls took ${growSec.toFixed(1)} s; the bare server registers one tool with an empty input ` +
          `schema and does no work`,
        'quick reuses the host reading, the event-history verdict, the watch suspects and the sampler 60 s window ' +
          'for one sampler tick (sampleIntervalMs, at most 1 s), and leaves the sampler readings to the ' +
          "monitor's timer for that tick; full checks read afresh",
        'the kernel log is off in the server configuration (a shared test machine ring holds other tests ' +
          'injected Xid lines)',
        "CPU per call: the server's main thread (where the SDK, the tool and its validation run; the sampler " +
          'thread is not counted) and the whole client process; the rest of a round trip is the wake-ups ' +
          'across the two pipes',
      ],
      load,
      targets: [
        {
          what: `server-side cost after ${calls} calls / after 100`,
          value: +growth.toFixed(3),
          goal: '≤ 1.2',
          met: growth <= 1.2,
        },
        {
          what: 'quick round trip / bare SDK ping round trip (stdio)',
          value: +ratio.toFixed(3),
          goal: '≤ 1.5',
          met: ratio <= 1.5,
        },
        {
          what: 'largest host-reading age in a quick check (ms)',
          value: +maxAgeMs.toFixed(1),
          goal: '≤ 1000 (one sampler tick)',
          met: maxAgeMs <= 1000,
        },
      ],
      calls,
      early,
      late,
      growth,
      quickUs: rt.quick.medianUs,
      pingUs: rt.ping.medianUs,
      roundTripRatio: ratio,
      roundsQuick: rt.quick.roundMedians,
      roundsPing: rt.ping.roundMedians,
      cpuPerCallUs: {
        quick: { server: cpu.quick.serverUs, client: cpu.quick.clientUs, wall: cpu.quick.wallUs },
        ping: { server: cpu.ping.serverUs, client: cpu.ping.clientUs, wall: cpu.ping.wallUs },
      },
      maxSampleAgeMs: maxAgeMs,
      ...(baseline
        ? {
            baseline: {
              dir: baselineDir,
              quickUs: rt.baseline.medianUs,
              roundTripRatio: rt.baseline.medianUs / rt.ping.medianUs,
              rounds: rt.baseline.roundMedians,
              serverCpuUs: cpu.baseline.serverUs,
            },
          }
        : {}),
    };
  } finally {
    await ours.close();
    await bare.close();
    await baseSide?.client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
