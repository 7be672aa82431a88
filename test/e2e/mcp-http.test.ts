import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, structured, writeConfig } from '../helpers/mcp.js';

const TOKEN = 'test-token-0123456789abcdef';
let proc: ChildProcess;
let port = 0;

beforeAll(async () => {
  const { file } = writeConfig({ server: { token: TOKEN } });
  proc = spawn(process.execPath, [CLI, 'serve', '--http', '0', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
  });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const t0 = Date.now();
  while (!/127\.0\.0\.1:(\d+)\/mcp/.test(err)) {
    if (Date.now() - t0 > 15_000) throw new Error(`server did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  port = Number(/127\.0\.0\.1:(\d+)\/mcp/.exec(err)![1]);
});
afterAll(() => proc?.kill());

function raw(headers: Record<string, string>, body = '{}'): Promise<number> {
  return rawAnswer(headers, body).then((r) => r.status);
}

function rawAnswer(headers: Record<string, string>, body = '{}'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const init = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

describe('Streamable HTTP transport', () => {
  it('binds to 127.0.0.1 and serves healthCheck to a client with the token', async () => {
    const client = new Client({ name: 'http-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('healthCheck');
    const r = structured<{ status: string }>(
      await client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } }),
    );
    expect(['healthy', 'degraded', 'critical']).toContain(r.status);
    await client.close();
  });

  it('refuses a request without the token, or with a wrong one (401)', async () => {
    expect(await raw({}, init)).toBe(401);
    expect(await raw({ authorization: 'Bearer wrong-token-0123456789ab' }, init)).toBe(401);
    expect(await raw({ authorization: `Bearer ${TOKEN}` }, init)).toBe(200);
  });

  it('refuses a foreign Host or Origin header (DNS rebinding)', async () => {
    expect(await raw({ authorization: `Bearer ${TOKEN}`, host: 'evil.example.com' }, init)).toBe(403);
    expect(await raw({ authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example.com' }, init)).toBe(403);
    expect(await raw({ authorization: `Bearer ${TOKEN}`, origin: `http://localhost:${port}` }, init)).toBe(200);
  });
});

describe('HTTP error bodies', () => {
  it('a 15 KB Host header comes back bounded in the 403 body, with the allowed hostnames', async () => {
    const host = `${'a'.repeat(15_000)}.example`;
    const r = await rawAnswer({ authorization: `Bearer ${TOKEN}`, host }, init);
    expect(r.status).toBe(403);
    const message = (JSON.parse(r.body) as { error: { message: string } }).error.message;
    expect(message).toMatch(/^Host "a{60}…" \(15008 characters\) is not this server; allowed hostnames: localhost, /);
    expect(r.body.length).toBeLessThan(400);
  });

  it('an MCP-Protocol-Version that is no date is refused with a bounded echo and the supported versions', async () => {
    const r = await rawAnswer({ authorization: `Bearer ${TOKEN}`, 'mcp-protocol-version': 'v'.repeat(14_000) }, init);
    expect(r.status).toBe(400);
    const message = (JSON.parse(r.body) as { error: { message: string } }).error.message;
    expect(message).toMatch(
      /^MCP-Protocol-Version: got "v{60}…" \(14000 characters\); expected a protocol version date/,
    );
    expect(message).toContain('2025-06-18');
    expect(r.body.length).toBeLessThan(600);
  });
});

describe('HTTP without a bearer token', () => {
  const serveOnce = (host: string) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const { file } = writeConfig({ server: { host } });
      const p = spawn(process.execPath, [CLI, 'serve', '--http', '0', '--config', file], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: Object.fromEntries(
          Object.entries({ ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' }).filter(([k]) => k !== 'OVERNIGHT_TOKEN'),
        ),
      });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Serving on loopback: it said what it had to say, and stays up; end it.
        if (stderr.includes('serving MCP on http')) p.kill('SIGTERM');
      });
      p.on('exit', (code) => resolve({ code, stderr }));
    });

  it('refuses to serve a non-loopback address, naming server.token; warns on loopback (any local user)', async () => {
    const open = await serveOnce('0.0.0.0');
    expect(open.code).toBe(78);
    expect(open.stderr).toMatch(
      /--http on 0\.0\.0\.0 without server\.token: anyone who can reach this port could act on the node/,
    );
    const local = await serveOnce('127.0.0.1');
    expect(local.stderr).toMatch(/no server\.token: every local user can call the tools over HTTP on 127\.0\.0\.1/);
  }, 60_000);
});
