// HTTP under load (issue 17 §4): 100 clients × 100 `healthCheck quick` calls each, all at once,
// over loopback against `overnight serve --http 0`. Reports errors (exceptions, isError results,
// 503s the client could not retry), p50/p99 latency, calls/s, and the server's RSS before and after.
// Goal: 0 errors, p99 < 1 s, ≥ 500 calls/s, RSS back within 10 % of its start.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { benchDir, fmtUs, summarize } from './lib/measure.js';

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

async function startServer(config) {
  const proc = spawn(
    process.execPath,
    [path.join(benchDir, '../bin/overnight.js'), 'serve', '--http', '0', '--config', config],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: process.env.OVERNIGHT_NVML_LIBRARY ?? '' },
    },
  );
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const t0 = Date.now();
  while (!/127\.0\.0\.1:(\d+)\/mcp/.test(err)) {
    if (Date.now() - t0 > 60_000 || proc.exitCode !== null) throw new Error(`server did not start: ${err}`);
    await delay(50);
  }
  return { proc, url: new URL(`http://127.0.0.1:${/127\.0\.0\.1:(\d+)\/mcp/.exec(err)[1]}/mcp`) };
}

/**
 * The same load from a plain keep-alive HTTP client (one JSON-RPC tools/call POST per call, as a
 * 2025-era stateless client sends it): separates the server's cost from the SDK client's.
 */
async function rawLoad(url, clients, calls) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'healthCheck', arguments: { checkType: 'quick' } },
  });
  const post = () =>
    new Promise((resolve, reject) => {
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
  const lat = [];
  let errors = 0;
  let firstError = '';
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < calls; i++) {
        const s = performance.now();
        try {
          await post();
          lat.push((performance.now() - s) * 1000);
        } catch (e) {
          errors++;
          firstError ||= String(e.message ?? e).slice(0, 160);
        }
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  agent.destroy();
  return { ...summarize(lat), errors, firstError, wallS, callsPerSec: (clients * calls) / wallS };
}

export async function run({
  clients = Number(process.env.BENCH_HTTP_CLIENTS ?? 100),
  calls = Number(process.env.BENCH_HTTP_CALLS ?? 100),
} = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-http-'));
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ stateDir: path.join(dir, 'state') }));
  const { proc, url } = await startServer(config);
  const conns = [];
  try {
    for (let i = 0; i < clients; i++) {
      const c = new Client({ name: `load-${i}`, version: '1' });
      await c.connect(new StreamableHTTPClientTransport(url));
      conns.push(c);
    }
    // Warm-up: every client once, then settle, then the baseline RSS.
    await Promise.all(conns.map((c) => c.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } })));
    await delay(1000);
    const rssBefore = rssMiB(proc.pid);
    const loadBefore = loadavg();
    const lat = [];
    let errors = 0;
    let firstError = '';
    const t0 = performance.now();
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < calls; i++) {
          const s = performance.now();
          try {
            const r = await c.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } });
            if (r.isError) throw new Error(r.content?.[0]?.text ?? 'isError');
            lat.push((performance.now() - s) * 1000);
          } catch (e) {
            errors++;
            firstError ||= String(e.message ?? e).slice(0, 160);
          }
        }
      }),
    );
    const wallS = (performance.now() - t0) / 1000;
    const loadAfter = loadavg();
    const rssPeak = rssMiB(proc.pid);
    await delay(5000);
    const rssAfter = rssMiB(proc.pid);
    const s = summarize(lat);
    const total = clients * calls;
    const rate = total / wallS;
    const loadRawBefore = loadavg();
    const raw = await rawLoad(url, clients, calls);
    const loadRawAfter = loadavg();
    return {
      title: `HTTP under load: ${clients} clients × ${calls} healthCheck quick calls at once (loopback)`,
      head: ['measure', 'value', 'goal'],
      rows: [
        ['errors', `${errors} of ${total}${firstError ? ` (first: ${firstError})` : ''}`, '0'],
        ['latency median / p99', `${fmtUs(s.medianUs)} / ${fmtUs(s.p99Us)}`, 'p99 < 1 s'],
        ['throughput', `${rate.toFixed(0)} calls/s (${wallS.toFixed(1)} s)`, '≥ 500 calls/s'],
        [
          'server RSS before → right after → 5 s later',
          `${rssBefore.toFixed(1)} → ${rssPeak.toFixed(1)} → ${rssAfter.toFixed(1)} MiB ` +
            `(${((rssAfter / rssBefore - 1) * 100).toFixed(1)} %)`,
          'within 10 % of the start',
        ],
        ['load average before → after', `${loadBefore} → ${loadAfter}`, ''],
        [
          'plain keep-alive HTTP client, same load: errors',
          `${raw.errors} of ${total}${raw.firstError ? ` (first: ${raw.firstError})` : ''}`,
          '0',
        ],
        ['plain client: latency median / p99', `${fmtUs(raw.medianUs)} / ${fmtUs(raw.p99Us)}`, 'p99 < 1 s'],
        [
          'plain client: throughput',
          `${raw.callsPerSec.toFixed(0)} calls/s (${raw.wallS.toFixed(1)} s)`,
          '≥ 500 calls/s',
        ],
        ['plain client: load average before → after', `${loadRawBefore} → ${loadRawAfter}`, ''],
      ],
      raw: {
        plainClient: raw,
        clients,
        calls,
        errors,
        firstError,
        medianUs: s.medianUs,
        p99Us: s.p99Us,
        callsPerSec: rate,
        wallS,
        rssBefore,
        rssPeak,
        rssAfter,
        loadBefore,
        loadAfter,
      },
    };
  } finally {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
