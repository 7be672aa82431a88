/**
 * Streamable HTTP at its edges: the Origin's scheme, host and port must be the server's own; deep
 * or oversize bodies are refused with named errors; past the request queue the server answers
 * 503 with Retry-After, and the queued requests are still served.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';

let proc: ChildProcess;
let port = 0;

beforeAll(async () => {
  const { file } = writeConfig({
    server: {
      allowedOrigins: ['https://proxy.example:8443'],
      maxConcurrentRequests: 1,
      maxQueuedRequests: 1,
      maxMessageBytes: 1024 * 1024,
    },
  });
  proc = spawn(process.execPath, [CLI, 'serve', '--http', '0', '--config', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
  });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const t0 = Date.now();
  while (!/127\.0\.0\.1:(\d+)\/mcp/.test(err)) {
    if (Date.now() - t0 > 30_000) throw new Error(`server did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  port = Number(/127\.0\.0\.1:(\d+)\/mcp/.exec(err)![1]);
});
afterAll(() => {
  proc?.kill();
});

const init = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

function post(
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      },
      (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe("Origin: scheme, host and port must be the server's own", () => {
  it('refuses another port, scheme or a foreign host; accepts its own and a configured full origin', async () => {
    const wrongPort = await post({ origin: 'http://localhost:1' }, init);
    expect(wrongPort.status).toBe(403);
    expect((JSON.parse(wrongPort.body) as { error: { message: string } }).error.message).toMatch(
      new RegExp(
        String.raw`Origin "http://localhost:1" is not this server \(scheme, host and port must match\); ` +
          String.raw`allowed: .*http://localhost:\d+`,
      ),
    );
    expect((await post({ origin: `https://localhost:${port}` }, init)).status).toBe(403);
    expect((await post({ origin: `http://evil.example:${port}` }, init)).status).toBe(403);
    expect((await post({ origin: 'null' }, init)).status).toBe(403);
    expect((await post({ origin: `http://localhost:${port}` }, init)).status).toBe(200);
    expect((await post({ origin: `http://127.0.0.1:${port}` }, init)).status).toBe(200);
    expect((await post({ origin: 'https://proxy.example:8443' }, init)).status).toBe(200);
    expect((await post({ origin: 'https://proxy.example' }, init)).status).toBe(403);
  });
});

describe('bodies', () => {
  it('refuses 10,000-deep nesting with a named error, not a stack overflow', async () => {
    const deep = '{"a":'.repeat(10_000) + '{}' + '}'.repeat(10_000);
    const body =
      '{"jsonrpc":"2.0","id":7,"method":"tools/call",' +
      `"params":{"name":"healthCheck","arguments":{"checkType":"quick","thresholds":${deep}}}}`;
    const r = await post({}, body);
    expect(r.status).toBe(400);
    const j = JSON.parse(r.body) as { id: number; error: { message: string } };
    expect(j.id).toBe(7);
    expect(j.error.message).toMatch(/^arguments\.thresholds\.a\.a.*: nested deeper than 64 levels/);
  });

  it('refuses a body over server.maxMessageBytes with 413 naming the limit', async () => {
    const r = await post(
      {},
      JSON.stringify({
        jsonrpc: '2.0',
        id: 8,
        method: 'tools/call',
        params: { name: 'healthCheck', arguments: { note: 'x'.repeat(2 * 1024 * 1024) } },
      }),
    );
    expect(r.status).toBe(413);
    expect(r.body).toMatch(/over the limit of 1048576 bytes \(server\.maxMessageBytes\)/);
  });
});

describe('past the request queue', () => {
  it('answers 503 with Retry-After, and still serves the requests it queued', async () => {
    // Bodies are read before a request takes a slot (a stalled body holds none), so the queue is
    // filled by a burst of complete full checks (each runs for a while): one runs, one waits, the
    // rest are turned away at once.
    const call = (id: number): string =>
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'healthCheck', arguments: { checkType: 'full' } },
      });
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => post({ 'mcp-protocol-version': '2025-06-18' }, call(100 + i))),
    );
    const busy = replies.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const r of busy) {
      expect(r.headers['retry-after']).toBe('1');
      expect((JSON.parse(r.body) as { error: { message: string } }).error.message).toMatch(
        /server busy: 1 requests running and 1 waiting .*retry after 1 s/,
      );
    }
    // At least the running one and the queued one are served.
    const served = replies.filter((r) => r.status !== 503);
    expect(served.length).toBeGreaterThanOrEqual(2);
    for (const r of served) expect(r.status).toBe(200);
  });
});
