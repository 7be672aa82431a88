/**
 * The fast lane of `serve --http` (src/mcp/http-stateless.ts): plain 2025-era requests share one
 * server and one transport. Concurrent clients that all use the same JSON-RPC id each get their own
 * answer under their own id; no per-request server is built for them; nothing stays pending; and a
 * request the lane does not take (unsupported protocol version, missing Accept, initialize) is
 * answered by the SDK's path in its own words.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createOvernightContext } from '../../src/context.js';
import { serveOnHttp } from '../../src/mcp/http.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

interface Answer {
  status: number;
  type: string;
  body: string;
}

function post(port: number, message: unknown, headers: Record<string, string> = {}, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
          ...headers,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(message));
  });
}

async function start() {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'ovn-lane-'));
  const context = await createOvernightContext({
    config: { ...parseConfig({ kernelLog: { enabled: false } }), stateDir },
    health: { gpu: null },
  });
  const server = await serveOnHttp(context, { port: 0 });
  cleanup = async () => {
    await new Promise((r) => server.close(r));
    server.closeAllConnections();
    rmSync(stateDir, { recursive: true, force: true });
  };
  return { server, port: (server.address() as { port: number }).port };
}

const quick = (id: unknown) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'healthCheck', arguments: { checkType: 'quick' } },
});

describe('the stateless fast lane', () => {
  const sameIds =
    'answers 40 concurrent calls that all use id 1 (and string ids) each under its own id, no server each';
  it(sameIds, async () => {
    const { server, port } = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    try {
      const ids: unknown[] = Array.from({ length: 40 }, (_, i) => (i % 4 === 3 ? `call-${i}` : 1));
      const answers = await Promise.all(ids.map((id) => post(port, quick(id), {}, agent)));
      for (const [i, a] of answers.entries()) {
        expect(a.status).toBe(200);
        expect(a.type).toBe('application/json');
        const m = JSON.parse(a.body) as { id: unknown; result?: { structuredContent?: { check_type?: string } } };
        expect(m.id).toEqual(ids[i]);
        expect(m.result?.structuredContent?.check_type).toBe('quick');
      }
      // An error answer keeps the client's id too.
      const unknown = JSON.parse(
        (await post(port, { jsonrpc: '2.0', id: 'x', method: 'tools/call', params: { name: 'nope', arguments: {} } }))
          .body,
      ) as { id: unknown; error?: { message: string } };
      expect(unknown.id).toBe('x');
      expect(unknown.error?.message).toMatch(/nope/);
      expect(server.pool.created).toBe(0);
      expect(server.lane.inFlight).toBe(0);
    } finally {
      agent.destroy();
    }
  });

  const keepAlive =
    "keeps an idle keep-alive connection past Node's 5 s: a lagging client does not reuse a closing socket";
  it(keepAlive, async () => {
    const { port } = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const send = () =>
        new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port,
              path: '/mcp',
              method: 'POST',
              agent,
              headers: {
                'content-type': 'application/json',
                accept: 'application/json, text/event-stream',
                'mcp-protocol-version': '2025-06-18',
              },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }));
        });
      expect(await send()).toEqual({ status: 200, reused: false });
      await new Promise((r) => setTimeout(r, 6500));
      expect(await send()).toEqual({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  });

  it('leaves what it does not take to the SDK path: its errors, and initialize on a pooled server', async () => {
    const { server, port } = await start();
    const badVersion = await post(port, quick(1), { 'mcp-protocol-version': '1999-01-01' });
    expect(badVersion.status).toBe(400);
    expect(badVersion.body).toMatch(/Unsupported protocol version: 1999-01-01/);
    const noSse = await post(port, quick(2), { accept: 'application/json' });
    expect(noSse.status).toBe(406);
    expect(noSse.body).toMatch(/text\/event-stream/);
    const init = await post(port, {
      jsonrpc: '2.0',
      id: 3,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    expect(init.status).toBe(200);
    expect(init.body).toMatch(/"serverInfo"/);
    expect(server.pool.created).toBeGreaterThanOrEqual(1);
    expect(server.lane.inFlight).toBe(0);
  });
});
