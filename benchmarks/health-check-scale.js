// healthCheck at scale (issue 17 §1), both over the real MCP client on stdio:
//  1. server-side cost (duration_ms) of `quick` after 100 calls vs after 10,000 (goal ≤ 1.2×);
//  2. `quick` round trip vs a trivial tool on a bare SDK v2 server, interleaved ABAB in rounds,
//     median of round medians (goal ≤ 1.5×).
// The load average is printed beside each figure: these machines are shared.
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchDir, fmtUs, median } from './lib/measure.js';

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function connect(args, env = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    env: { ...process.env, ...env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return client;
}

/** Times one awaited call in µs. */
async function timed(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1000;
}

export async function run({ calls = Number(process.env.BENCH_HC_CALLS ?? 10_000), rounds = 20, perRound = 50 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-hc-'));
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ stateDir: path.join(dir, 'state') }));
  const ours = await connect([path.join(benchDir, '../bin/overnight.js'), 'serve', '--config', config], {
    OVERNIGHT_NVML_LIBRARY: process.env.OVERNIGHT_NVML_LIBRARY ?? '',
  });
  const bare = await connect([path.join(benchDir, 'fixtures/bare-sdk-server.js')]);
  const quick = () => ours.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } });
  const ping = () => bare.callTool({ name: 'ping', arguments: {} });
  try {
    // 1. Server-side cost as the call count grows: the medians of calls 100-199 and of the last 100.
    const server = new Float64Array(calls);
    const t0 = Date.now();
    let loadEarly = '';
    for (let i = 0; i < calls; i++) {
      const r = await quick();
      server[i] = r.structuredContent.duration_ms;
      if (i === 199) loadEarly = loadavg();
    }
    const loadLate = loadavg();
    const early = median(server.subarray(100, 200));
    const late = median(server.subarray(calls - 100));
    const growSec = (Date.now() - t0) / 1000;

    // 2. Round trips, ABAB: each round times perRound quick calls then perRound pings (order alternates).
    for (let i = 0; i < 50; i++) await ping();
    const a = [];
    const b = [];
    for (let r = 0; r < rounds; r++) {
      const runA = async () => {
        const t = [];
        for (let i = 0; i < perRound; i++) t.push(await timed(quick));
        a.push(median(t));
      };
      const runB = async () => {
        const t = [];
        for (let i = 0; i < perRound; i++) t.push(await timed(ping));
        b.push(median(t));
      };
      if (r % 2) {
        await runB();
        await runA();
      } else {
        await runA();
        await runB();
      }
    }
    const loadRt = loadavg();
    const quickUs = median(a);
    const pingUs = median(b);
    const growth = late / early;
    const rt = quickUs / pingUs;
    return {
      title: 'healthCheck quick at scale: server-side cost over 10,000 calls, round trip vs a bare SDK server (stdio)',
      head: ['measure', 'value', 'reference', 'ratio (goal)', 'load average'],
      rows: [
        [
          `server-side duration_ms, median of calls 100-199 vs last 100 of ${calls}`,
          `${late.toFixed(3)} ms`,
          `${early.toFixed(3)} ms`,
          `${growth.toFixed(2)}× (≤ 1.2×)`,
          `${loadEarly} → ${loadLate}`,
        ],
        [
          `quick round trip vs bare SDK v2 \`ping\`, median of ${rounds} ABAB round medians`,
          fmtUs(quickUs),
          fmtUs(pingUs),
          `${rt.toFixed(2)}× (≤ 1.5×)`,
          loadRt,
        ],
      ],
      notes: [
        `${calls} calls took ${growSec.toFixed(1)} s; the bare server registers one tool with an empty input ` +
          `schema and does no work`,
      ],
      raw: {
        calls,
        early,
        late,
        growth,
        quickUs,
        pingUs,
        roundTripRatio: rt,
        roundsA: a,
        roundsB: b,
        loadEarly,
        loadLate,
        loadRt,
      },
    };
  } finally {
    await ours.close();
    await bare.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
