/**
 * Streamable HTTP reuses server instances across requests instead of building one (and
 * registering every tool) per request; answers stay correct for every client, in both eras.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createOvernightContext } from '../../src/context.js';
import { serveOnHttp } from '../../src/mcp/http.js';
import { createOvernightServer } from '../../src/mcp/server.js';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

function legacyInit(port: number): Promise<number> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTP server instances', () => {
  it('serves 60 calls from 3 clients (and legacy initializes) with a few instances, not one per request', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'ovn-pool-'));
    const context = await createOvernightContext({ config: { ...parseConfig({}), stateDir }, health: { gpu: null } });
    const server = await serveOnHttp(context, { port: 0 });
    const clients: Client[] = [];
    stop = async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
    };
    const port = (server.address() as { port: number }).port;
    for (let i = 0; i < 3; i++) {
      const c = new Client({ name: `pool-${i}`, version: '1' });
      await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
      clients.push(c);
    }
    for (let round = 0; round < 20; round++) {
      const results = await Promise.all(
        clients.map((c) => c.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } })),
      );
      for (const r of results)
        expect((r.structuredContent as { status: string }).status).toMatch(/healthy|degraded|critical/);
      expect(await legacyInit(port)).toBe(200);
    }
    // A bad call on a reused instance is still refused, and a good one after it still served.
    const bad = await clients[0].callTool({ name: 'healthCheck', arguments: { checkType: 'nope' } });
    expect(bad.isError).toBe(true);
    expect((await clients[1].callTool({ name: 'healthCheck', arguments: {} })).isError).toBeFalsy();
    // 80+ requests; at most a few instances at once were ever needed.
    expect(server.pool.created).toBeLessThanOrEqual(8);
  });

  it('every instance shares one JSON Schema of each output schema, and lists it over the wire', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'ovn-pool-'));
    const context = await createOvernightContext({ config: { ...parseConfig({}), stateDir }, health: { gpu: null } });
    const server = await serveOnHttp(context, { port: 0 });
    const client = new Client({ name: 'schema', version: '1' });
    stop = async () => {
      await client.close().catch(() => undefined);
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
    };
    type Tools = Record<string, { outputSchemaJson?: Record<string, unknown> }>;
    const toolsOf = (s: ReturnType<typeof createOvernightServer>) =>
      (s as unknown as { _registeredTools: Tools })._registeredTools;
    const a = toolsOf(createOvernightServer(context));
    const b = toolsOf(createOvernightServer(context));
    for (const name of ['healthCheck', 'recoverOperation', 'trackProgress', 'manageResources']) {
      expect(a[name]?.outputSchemaJson).toBeDefined();
      expect(b[name]?.outputSchemaJson).toBe(a[name]?.outputSchemaJson);
    }
    // What a client is told is that same schema.
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`)),
    );
    const listed = (await client.listTools()).tools.find((t) => t.name === 'healthCheck');
    expect(listed?.outputSchema).toEqual(JSON.parse(JSON.stringify(a.healthCheck?.outputSchemaJson)));
    const r = await client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } });
    expect(r.isError).toBeFalsy();
  });
});
