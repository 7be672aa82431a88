// HTTP under load (issue 17 §4): `overnight serve --http 0` on loopback, 100 clients × 100
// `healthCheck quick` calls each, all at once. Goal: 0 errors, p99 < 1 s, ≥ 500 calls/s, and the
// server's RSS back within 10 % of its start afterwards.
//
// Two clients against the same server, their timed rounds interleaved (ABAB, order alternating, so
// both meet the same JIT state and the same machine load):
//  - a plain keep-alive HTTP client (one JSON-RPC tools/call POST per call, as a 2025-era stateless
//    client sends it): the server's own capacity, without the SDK client's cost in the same 2 cores;
//  - the SDK's StreamableHTTPClientTransport (what an agent runs).
// Each population first makes one call per client at once (the cold wave: new connections, server
// instances made for the pool), reported on its own row, then BENCH_HTTP_WARMUP untimed calls per
// client. The timed load is BENCH_HTTP_ROUNDS rounds of each; figures are medians over rounds
// (p99 over every call). The server's CPU time per call (utime + stime from /proc over each round)
// says what rate one core could carry at most, whatever the machine's load; the load average is
// printed beside every figure.
//
// RSS: "start" is read after the plain client's cold wave (its 100 connections open, before the
// SDK clients connect), after a full GC (benchmarks/fixtures/serve-with-gc.js: SIGUSR2 → gc()) and
// 0.5 s. "Afterwards": every client has gone (the SDK clients close(); the server is stateless, so
// there is no session to DELETE and nothing per client to expire), and the server has sat idle,
// nothing forced, until its RSS is back within 10 % of the start or BENCH_HTTP_SETTLE_MS (90 s)
// passed: what an operator sees after a burst (V8's memory reducer collects on its own some
// seconds after the allocation rate drops; a GC forced 10 s after the load kept the young
// generation sized for the load in 2 of 4 runs, 0.98-1.54x the start). After it, for comparison,
// the same forced GC and 0.5 s, and a second one.
// BENCH_HTTP_CLIENTS, BENCH_HTTP_CALLS (per SDK client, all rounds) and BENCH_HTTP_PLAIN_CALLS
// (per plain client) scale the run; BENCH_HTTP_NODE_FLAGS passes Node/V8 flags to the server alone.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  benchDir,
  fmtUs,
  interleaveRounds,
  loadAverage,
  loadColumn,
  median,
  summarize,
  target,
} from './lib/measure.js';

const statusMiB = (pid, field) =>
  Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const rssMiB = (pid) => statusMiB(pid, 'VmRSS');
/** utime + stime of a process in ms (Linux USER_HZ is 100 on every architecture Node supports). */
const cpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

async function startServer(config) {
  const proc = spawn(
    process.execPath,
    [
      '--expose-gc',
      // Node/V8 flags for the server only, to measure one (e.g. --max-semi-space-size=4) against the default.
      ...(process.env.BENCH_HTTP_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      path.join(benchDir, 'fixtures/serve-with-gc.js'),
      'serve',
      '--http',
      '0',
      '--config',
      config,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: process.env.OVERNIGHT_NVML_LIBRARY ?? '' },
    },
  );
  const server = { proc, err: '', gcs: 0 };
  proc.stderr.on('data', (d) => {
    server.err += d;
    server.gcs = (server.err.match(/overnight-bench: gc done/g) ?? []).length;
  });
  const t0 = Date.now();
  while (!/127\.0\.0\.1:(\d+)\/mcp/.test(server.err)) {
    if (Date.now() - t0 > 60_000 || proc.exitCode !== null) throw new Error(`server did not start: ${server.err}`);
    await delay(50);
  }
  server.url = new URL(`http://127.0.0.1:${/127\.0\.0\.1:(\d+)\/mcp/.exec(server.err)[1]}/mcp`);
  return server;
}

/** Asks the server for a full GC, waits until it has run, and returns its RSS (and V8's spaces) half a second later. */
async function rssAfterGc(server) {
  const before = server.gcs;
  server.proc.kill('SIGUSR2');
  const t0 = Date.now();
  while (server.gcs === before) {
    if (Date.now() - t0 > 30_000) throw new Error('the server did not report its GC within 30 s');
    await delay(20);
  }
  await delay(500);
  const usage = [...server.err.matchAll(/overnight-bench: gc done (\{.*\})/g)].at(-1);
  const v8 = JSON.parse(usage[1]);
  return {
    rss: rssMiB(server.proc.pid),
    // Anonymous (the heaps: V8's and malloc's) apart from file-backed (code pages: the node binary's, the addons').
    anonMiB: statusMiB(server.proc.pid, 'RssAnon'),
    fileMiB: statusMiB(server.proc.pid, 'RssFile'),
    heapMiB: v8.heapUsed / 2 ** 20,
    heapTotalMiB: v8.heapTotal / 2 ** 20,
    newSpaceMiB: (v8.spaces?.new_space ?? NaN) / 2 ** 20,
    oldSpaceMiB: (v8.spaces?.old_space ?? NaN) / 2 ** 20,
  };
}

/** The server's established TCP connections (its side, from /proc/net/tcp and tcp6). */
function serverConnections(port) {
  const hex = `:${Number(port).toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c[1]?.endsWith(hex) && c[3] === '01') n++;
    }
  }
  return n;
}

/** Runs `calls` sequential calls on each of the `clients` at once; latencies in µs, errors counted. */
async function drive(clients, calls, call) {
  const lat = [];
  let errors = 0;
  let firstError = '';
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < calls; i++) {
        const s = performance.now();
        try {
          await call(c);
          lat.push((performance.now() - s) * 1000);
        } catch (e) {
          errors++;
          firstError ||= String(e.message ?? e).slice(0, 160);
        }
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  return {
    ...summarize(lat.length ? lat : [NaN]),
    lat,
    errors,
    firstError,
    wallS,
    callsPerSec: (clients.length * calls) / wallS,
  };
}

/** One tools/call POST on a keep-alive connection, as a stateless 2025-era client sends it. */
function plainPost(url, agent) {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'healthCheck', arguments: { checkType: 'quick' } },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
        },
      },
      (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () =>
          res.statusCode === 200 && b.includes('"result"') && !b.includes('"isError":true')
            ? resolve()
            : reject(new Error(`${res.statusCode} ${b.slice(0, 120)}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function sdkQuick(client) {
  const r = await client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } });
  if (r.isError) throw new Error(r.content?.[0]?.text ?? 'isError');
}

/** One timed round: throughput, latency and the server's CPU time per call. */
async function round(server, clients, calls, call) {
  const cpu0 = cpuMs(server.proc.pid);
  const r = await drive(clients, calls, call);
  return { ...r, cpuPerCallMs: (cpuMs(server.proc.pid) - cpu0) / (clients.length * calls) };
}

/** A population's rounds as one row: medians over rounds, p99 and errors over every call. */
function combine(rounds, load) {
  const all = rounds.flatMap((r) => r.lat);
  const errors = rounds.reduce((n, r) => n + r.errors, 0);
  return {
    ...summarize(all.length ? all : [NaN]),
    medianUs: median(rounds.map((r) => r.medianUs)),
    errors,
    firstError: rounds.find((r) => r.firstError)?.firstError ?? '',
    wallS: rounds.reduce((s, r) => s + r.wallS, 0),
    callsPerSec: median(rounds.map((r) => r.callsPerSec)),
    cpuPerCallMs: median(rounds.map((r) => r.cpuPerCallMs)),
    roundCallsPerSec: rounds.map((r) => +r.callsPerSec.toFixed(0)),
    roundCpuPerCallMs: rounds.map((r) => +r.cpuPerCallMs.toFixed(3)),
    load,
  };
}

export async function run({
  clients = Number(process.env.BENCH_HTTP_CLIENTS ?? 100),
  calls = Number(process.env.BENCH_HTTP_CALLS ?? 100),
  plainCalls = Number(process.env.BENCH_HTTP_PLAIN_CALLS ?? 50),
  rounds = Number(process.env.BENCH_HTTP_ROUNDS ?? 5),
  warmup = Number(process.env.BENCH_HTTP_WARMUP ?? 5),
  settleMs = Number(process.env.BENCH_HTTP_SETTLE_MS ?? 90_000),
} = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-http-'));
  const config = path.join(dir, 'config.json');
  // The kernel log off: on a shared test machine its ring holds the Xid lines other tests inject,
  // and the check would report (and the benchmark measure) that pollution, not this node.
  writeFileSync(config, JSON.stringify({ stateDir: path.join(dir, 'state'), kernelLog: { enabled: false } }));
  const server = await startServer(config);
  const loadStart = loadAverage();
  const sdk = [];
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  try {
    // The plain keep-alive client: one connection per client. The SDK client: one Client (and transport) each.
    const plainClients = Array.from({ length: clients }, () => agent);
    const plainCold = await drive(plainClients, 1, (a) => plainPost(server.url, a));
    // "start": as in the runs before this file interleaved, after the plain cold wave (100 connections open).
    const start = await rssAfterGc(server);
    for (let i = 0; i < clients; i++) {
      const c = new Client({ name: `load-${i}`, version: '1' });
      await c.connect(new StreamableHTTPClientTransport(server.url));
      sdk.push(c);
    }
    const sdkCold = await drive(sdk, 1, sdkQuick);
    await drive(plainClients, warmup, (a) => plainPost(server.url, a));
    await drive(sdk, warmup, sdkQuick);

    const perRound = (n) => Math.max(1, Math.round(n / rounds));
    const timed = await interleaveRounds(
      {
        plain: () => round(server, plainClients, perRound(plainCalls), (a) => plainPost(server.url, a)),
        sdk: () => round(server, sdk, perRound(calls), sdkQuick),
      },
      { rounds },
    );
    const plain = combine(timed.plain.rounds, timed.load);
    const viaSdk = combine(timed.sdk.rounds, timed.load);
    plain.cold = { ...plainCold, lat: undefined };
    viaSdk.cold = { ...sdkCold, lat: undefined };
    const rssPeak = rssMiB(server.proc.pid);

    // Every client goes: the SDK clients close their transports, the plain agent its sockets.
    await Promise.all(sdk.splice(0).map((c) => c.close().catch(() => undefined)));
    agent.destroy();
    await delay(500);
    const rssGone = rssMiB(server.proc.pid);
    // Sockets the SDK client's fetch (undici) keeps for reuse stay open, idle, until its keep-alive
    // time (the server's hint less 1 s) runs out; they are counted, not waited for.
    const gone = serverConnections(server.url.port);
    // Idle until V8 gives the load's memory back by itself (its memory reducer collects some seconds
    // after the allocation rate drops), bounded: back within 10 % of the start, or settleMs passed.
    const idleFrom = Date.now();
    let rssIdle = rssMiB(server.proc.pid);
    while (rssIdle > 1.1 * start.rss && Date.now() - idleFrom < settleMs) {
      await delay(500);
      rssIdle = rssMiB(server.proc.pid);
    }
    const settledS = (Date.now() - idleFrom) / 1000;
    const after = await rssAfterGc(server);
    // A second GC: the first one's young-generation sizing looks at the allocation rate since the GC before it
    // (inside the load); this one sees the idle time. Reported beside the target, not as it.
    const again = await rssAfterGc(server);
    const load = { before: loadStart, after: loadAverage() };
    const { rss: rssStart, heapMiB: heapStart, heapTotalMiB: heapTotalStart } = start;
    const { rss: rssAfter, heapMiB: heapAfter, heapTotalMiB: heapTotalAfter } = after;

    const rssRatio = rssIdle / rssStart;
    const row = (who, r, n) => [
      who,
      `${r.errors} of ${n}${r.firstError ? ` (first: ${r.firstError})` : ''}`,
      `${fmtUs(r.medianUs)} / ${fmtUs(r.p99Us)}`,
      `${r.callsPerSec.toFixed(0)} calls/s (${r.wallS.toFixed(1)} s)`,
      r.cpuPerCallMs === undefined
        ? ''
        : `${r.cpuPerCallMs.toFixed(2)} ms (≤ ${(1000 / r.cpuPerCallMs).toFixed(0)}/s a core)`,
      loadColumn(r.load ?? load),
    ];
    const totalPlain = rounds * perRound(plainCalls);
    const totalSdk = rounds * perRound(calls);
    const targets = [];
    for (const [who, r, n] of [
      ['SDK client', viaSdk, totalSdk],
      ['plain client', plain, totalPlain],
    ]) {
      targets.push(
        target(`${who}: errors in ${clients} × ${n} calls`, r.errors, '<=', 0),
        target(`${who}: p99 latency (ms)`, +(r.p99Us / 1000).toFixed(1), '<', 1000),
        target(`${who}: calls/s (median of ${rounds} interleaved rounds)`, +r.callsPerSec.toFixed(0), '>=', 500),
      );
    }
    targets.push(
      target(
        `server RSS afterwards (clients gone, idle, no GC forced; waited ${settledS.toFixed(1)} s of at most ` +
          `${settleMs / 1000} s), vs its start`,
        +rssRatio.toFixed(3),
        '<=',
        1.1,
      ),
    );
    const mib = (v) => v.toFixed(1);
    return {
      title: `HTTP under load: ${clients} clients × healthCheck quick calls at once (loopback)`,
      head: ['client', 'errors', 'latency median / p99', 'throughput', 'server CPU per call', 'load average'],
      rows: [
        row(`plain keep-alive, ${clients} × ${totalPlain} (${rounds} rounds)`, plain, clients * totalPlain),
        row(`plain keep-alive, cold wave (${clients} × 1, new connections)`, plain.cold, clients),
        row(`SDK StreamableHTTP, ${clients} × ${totalSdk} (${rounds} rounds)`, viaSdk, clients * totalSdk),
        row(`SDK StreamableHTTP, cold wave (${clients} × 1)`, viaSdk.cold, clients),
        [
          'server RSS: start → end of load → clients gone → idle (afterwards) → a GC',
          `${mib(rssStart)} → ${mib(rssPeak)} → ${mib(rssGone)} → ${mib(rssIdle)} after ${settledS.toFixed(1)} s ` +
            `(${((rssRatio - 1) * 100).toFixed(1)} %) → ${mib(rssAfter)} MiB ` +
            `(${((rssAfter / rssStart - 1) * 100).toFixed(1)} %; anon ${mib(start.anonMiB)} → ` +
            `${mib(after.anonMiB)}, file ${mib(start.fileMiB)} → ${mib(after.fileMiB)}); ` +
            `V8 heap used ${mib(heapStart)} → ${mib(heapAfter)} MiB, ` +
            `committed ${mib(heapTotalStart)} → ${mib(heapTotalAfter)} MiB (new space ${mib(start.newSpaceMiB)} → ` +
            `${mib(after.newSpaceMiB)}, old ${mib(start.oldSpaceMiB)} → ${mib(after.oldSpaceMiB)}); ` +
            `after a second GC ${mib(again.rss)} MiB (${((again.rss / rssStart - 1) * 100).toFixed(1)} %; ` +
            `anon ${mib(again.anonMiB)}, new space ${mib(again.newSpaceMiB)}, old ${mib(again.oldSpaceMiB)})`,
          '',
          '',
          '',
          loadColumn(load),
        ],
      ],
      notes: [
        `plain and SDK rounds interleaved (ABAB, order alternating), ${rounds} rounds each after ${warmup} untimed ` +
          'calls per client; throughput and CPU per call are medians over rounds (per round: plain ' +
          `${plain.roundCallsPerSec.join(', ')} calls/s; SDK ${viaSdk.roundCallsPerSec.join(', ')} calls/s)`,
        "clients and server share this machine's cores: the server CPU per call bounds the rate one core could " +
          'carry; the rest of a round trip is the client and the scheduler',
        '"start" = RSS after the plain cold wave (its connections open), a GC and 0.5 s; "afterwards" = every client ' +
          `gone (SDK clients closed, plain sockets destroyed; ${gone} idle keep-alive connections of the SDK ` +
          "client's fetch pool still open), then idle, nothing forced, until its RSS is back within 10 % of the " +
          `start or ${settleMs / 1000} s have passed (BENCH_HTTP_SETTLE_MS): V8's memory reducer collects on its ` +
          'own some seconds after the allocation rate drops; the server is stateless (no sessions to DELETE or ' +
          'expire). Then, for comparison, a GC (SIGUSR2 → gc() in benchmarks/fixtures/serve-with-gc.js) and 0.5 s, ' +
          'and a second one: the first GC after a load may keep the young generation it grew (V8 sizes it by the ' +
          'allocation rate since the GC before, inside the load), the second sees the idle time',
        "the kernel log is off in the server's configuration (a shared test machine's ring holds other tests' " +
          'injected Xid lines)',
      ],
      load,
      targets,
      clients,
      calls: totalSdk,
      plainCalls: totalPlain,
      rounds,
      plain: { ...plain, lat: undefined },
      sdk: { ...viaSdk, lat: undefined },
      rssStart,
      rssPeak,
      rssGone,
      rssIdle,
      settledS,
      rssAfter,
      connectionsLeft: gone,
      rssAfterSecondGc: again.rss,
      anonFileStart: { anonMiB: start.anonMiB, fileMiB: start.fileMiB },
      anonFileAfter: { anonMiB: after.anonMiB, fileMiB: after.fileMiB },
      heapStart,
      heapAfter,
      heapTotalStart,
      heapTotalAfter,
      spacesStart: { newMiB: start.newSpaceMiB, oldMiB: start.oldSpaceMiB },
      spacesAfter: { newMiB: after.newSpaceMiB, oldMiB: after.oldSpaceMiB },
    };
  } finally {
    await Promise.all(sdk.map((c) => c.close().catch(() => undefined)));
    agent.destroy();
    server.proc.kill('SIGTERM');
    await new Promise((r) => (server.proc.exitCode !== null ? r() : server.proc.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}
