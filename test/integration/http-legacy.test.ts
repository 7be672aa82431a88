/**
 * 2025-era (stateless) requests over `serve --http`: a call that asked for no progress is answered
 * with one JSON body; one that carries a progressToken still gets an SSE stream with its progress
 * notifications before the result.
 */
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createOvernightContext } from '../../src/context.js';
import { serveOnHttp } from '../../src/mcp/http.js';
import { wantsProgress } from '../../src/mcp/http-legacy.js';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

function post(port: number, message: object): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
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

describe('the 2025-era HTTP leg', () => {
  const name = 'answers a call without a progressToken as one JSON body, and one with it as SSE with progress first';
  it(name, async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'ovn-legacy-'));
    const context = await createOvernightContext({
      config: { ...parseConfig({ kernelLog: { enabled: false } }), stateDir },
      health: { gpu: null },
    });
    const server = await serveOnHttp(context, { port: 0 });
    stop = async () => {
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
    };
    const port = (server.address() as { port: number }).port;

    const plain = await post(port, {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'healthCheck', arguments: { checkType: 'quick' } },
    });
    expect(plain.status).toBe(200);
    expect(plain.type).toMatch(/^application\/json/);
    const answer = JSON.parse(plain.body) as { id: number; result: { structuredContent: { check_type: string } } };
    expect(answer.id).toBe(7);
    expect(answer.result.structuredContent.check_type).toBe('quick');

    const streamed = await post(port, {
      jsonrpc: '2.0',
      id: 8,
      method: 'tools/call',
      params: { name: 'healthCheck', arguments: { checkType: 'full' }, _meta: { progressToken: 'p1' } },
    });
    expect(streamed.status).toBe(200);
    expect(streamed.type).toMatch(/^text\/event-stream/);
    const events = streamed.body
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { method?: string; id?: number; result?: unknown });
    const firstResult = events.findIndex((e) => e.id === 8);
    expect(firstResult).toBeGreaterThan(0);
    expect(events.slice(0, firstResult).every((e) => e.method === 'notifications/progress')).toBe(true);

    // Bad input on the JSON path is still the tool's own clear error.
    const bad = await post(port, {
      jsonrpc: '2.0',
      id: 9,
      method: 'tools/call',
      params: { name: 'healthCheck', arguments: { checkType: 'nope' } },
    });
    expect(bad.type).toMatch(/^application\/json/);
    expect(bad.body).toContain('nope');
  });

  it('looks for a progressToken in single messages and batches', () => {
    expect(wantsProgress({ params: { _meta: { progressToken: 0 } } })).toBe(true);
    expect(wantsProgress([{ params: {} }, { params: { _meta: { progressToken: 'x' } } }])).toBe(true);
    expect(wantsProgress({ params: { _meta: {} } })).toBe(false);
    expect(wantsProgress(null)).toBe(false);
  });
});
