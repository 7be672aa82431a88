// HTTP under load (issue 17 §4): `overnight serve --http 0` on loopback, 100 clients × 100
// `healthCheck quick` calls each, all at once. Goal: 0 errors, p99 < 1 s, ≥ 500 calls/s, and the
// server's RSS back within 10 % of its start afterwards.
//
// Two clients, one after the other against the same server:
//  - a plain keep-alive HTTP client (one JSON-RPC tools/call POST per call, as a 2025-era stateless
//    client sends it): the server's own capacity, without the SDK client's cost in the same 2 cores;
//  - the SDK's StreamableHTTPClientTransport (what an agent runs).
// Each client population first makes one call per client at once (the cold wave: new connections,
// server instances made for the pool), reported on its own row; the timed load follows. The server's
// CPU time per call (utime + stime from /proc over the timed load) says what rate one core could
// carry at most, whatever the machine's load; the load average is printed beside every figure.
//
// "RSS afterwards": after the last client of both populations has disconnected, the server runs a
// full GC (benchmarks/fixtures/serve-with-gc.js: SIGUSR2 → gc()) and its VmRSS is read 0.5 s later;
// "start" is the same measure after the plain client's cold wave (the server warm, before the load).
// BENCH_HTTP_CLIENTS, BENCH_HTTP_CALLS (SDK client) and BENCH_HTTP_PLAIN_CALLS scale the run.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { benchDir, fmtUs, loadAverage, loadColumn, summarize } from './lib/measure.js';

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
/** utime + stime of a process in ms (Linux USER_HZ is 100 on every architecture Node supports). */
const cpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

async function startServer(config) {
  const proc = spawn(
    process.execPath,
    ['--expose-gc', path.join(benchDir, 'fixtures/serve-with-gc.js'), 'serve', '--http', '0', '--config', config],
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

/** Asks the server for a full GC, waits until it has run, and returns its RSS half a second later. */
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
  return { rss: rssMiB(server.proc.pid), heapMiB: v8.heapUsed / 2 ** 20, heapTotalMiB: v8.heapTotal / 2 ** 20 };
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

/** The timed load, with the load average and the server's CPU time per call. */
async function phase(server, clients, calls, call) {
  const before = loadAverage();
  const cpu0 = cpuMs(server.proc.pid);
  const timed = await drive(clients, calls, call);
  const cpuPerCallMs = (cpuMs(server.proc.pid) - cpu0) / (clients.length * calls);
  return { ...timed, cpuPerCallMs, load: { before, after: loadAverage() } };
}

export async function run({
  clients = Number(process.env.BENCH_HTTP_CLIENTS ?? 100),
  calls = Number(process.env.BENCH_HTTP_CALLS ?? 100),
  plainCalls = Number(process.env.BENCH_HTTP_PLAIN_CALLS ?? 20),
} = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-http-'));
  const config = path.join(dir, 'config.json');
  // The kernel log off: on a shared test machine its ring holds the Xid lines other tests inject,
  // and the check would report (and the benchmark measure) that pollution, not this node.
  writeFileSync(config, JSON.stringify({ stateDir: path.join(dir, 'state'), kernelLog: { enabled: false } }));
  const server = await startServer(config);
  const loadStart = loadAverage();
  const sdk = [];
  try {
    // 1. The plain keep-alive client: one connection per client.
    const agent = new Agent({ keepAlive: true, maxSockets: clients });
    const plainClients = Array.from({ length: clients }, () => agent);
    const plainCold = await drive(plainClients, 1, (a) => plainPost(server.url, a));
    const { rss: rssStart, heapMiB: heapStart, heapTotalMiB: heapTotalStart } = await rssAfterGc(server);
    const plain = await phase(server, plainClients, plainCalls, (a) => plainPost(server.url, a));
    plain.cold = plainCold;
    agent.destroy();

    // 2. The SDK client, one Client (and transport) per client.
    for (let i = 0; i < clients; i++) {
      const c = new Client({ name: `load-${i}`, version: '1' });
      await c.connect(new StreamableHTTPClientTransport(server.url));
      sdk.push(c);
    }
    const sdkCold = await drive(sdk, 1, sdkQuick);
    const rssPeak = rssMiB(server.proc.pid);
    const viaSdk = await phase(server, sdk, calls, sdkQuick);
    viaSdk.cold = sdkCold;
    await Promise.all(sdk.splice(0).map((c) => c.close().catch(() => undefined)));
    const { rss: rssAfter, heapMiB: heapAfter, heapTotalMiB: heapTotalAfter } = await rssAfterGc(server);
    const load = { before: loadStart, after: loadAverage() };

    const rssRatio = rssAfter / rssStart;
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
    const targets = [];
    for (const [who, r] of [
      ['SDK client', viaSdk],
      ['plain client', plain],
    ]) {
      targets.push(
        {
          what: `${who}: errors in ${clients} × ${r === plain ? plainCalls : calls} calls`,
          value: r.errors,
          goal: '0',
          met: r.errors === 0,
        },
        { what: `${who}: p99 latency (ms)`, value: +(r.p99Us / 1000).toFixed(1), goal: '< 1000', met: r.p99Us < 1e6 },
        { what: `${who}: calls/s`, value: +r.callsPerSec.toFixed(0), goal: '≥ 500', met: r.callsPerSec >= 500 },
      );
    }
    targets.push({
      what: 'server RSS after both loads and a GC, vs its start',
      value: +rssRatio.toFixed(3),
      goal: '≤ 1.10',
      met: rssRatio <= 1.1,
    });
    return {
      title: `HTTP under load: ${clients} clients × healthCheck quick calls at once (loopback)`,
      head: ['client', 'errors', 'latency median / p99', 'throughput', 'server CPU per call', 'load average'],
      rows: [
        row(`plain keep-alive, ${clients} × ${plainCalls}`, plain, clients * plainCalls),
        row(`plain keep-alive, cold wave (${clients} × 1, new connections)`, plain.cold, clients),
        row(`SDK StreamableHTTP, ${clients} × ${calls}`, viaSdk, clients * calls),
        row(`SDK StreamableHTTP, cold wave (${clients} × 1)`, viaSdk.cold, clients),
        [
          'server RSS: start → with SDK clients connected → after both loads, clients gone and a GC',
          `${rssStart.toFixed(1)} → ${rssPeak.toFixed(1)} → ${rssAfter.toFixed(1)} MiB ` +
            `(${((rssRatio - 1) * 100).toFixed(1)} %); V8 heap used ${heapStart.toFixed(1)} → ` +
            `${heapAfter.toFixed(1)} MiB, committed ${heapTotalStart.toFixed(1)} → ${heapTotalAfter.toFixed(1)} ` +
            `MiB`,
          '',
          '',
          '',
          loadColumn(load),
        ],
      ],
      notes: [
        "clients and server share this machine's cores: the server CPU per call bounds the rate one core could " +
          'carry; the rest of a round trip is the client and the scheduler',
        '"start" = RSS after the cold wave and a GC; "afterwards" = after every client disconnected and a GC ' +
          '(SIGUSR2 → gc() in benchmarks/fixtures/serve-with-gc.js), read 0.5 s later',
        "the kernel log is off in the server's configuration (a shared test machine's ring holds other tests' " +
          'injected Xid lines)',
      ],
      load,
      targets,
      clients,
      calls,
      plainCalls,
      plain,
      sdk: viaSdk,
      rssStart,
      rssPeak,
      rssAfter,
      heapStart,
      heapAfter,
      heapTotalStart,
      heapTotalAfter,
    };
  } finally {
    await Promise.all(sdk.map((c) => c.close().catch(() => undefined)));
    server.proc.kill('SIGTERM');
    await new Promise((r) => (server.proc.exitCode !== null ? r() : server.proc.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}
