/**
 * `serve --http` against clients that stall: requests that announce a body and never send it
 * hold no concurrency slot (the body is read, with a 10 s bound, before a slot is taken), so a
 * normal client is still served; the stalled ones are answered 408 and dropped.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, structured, writeConfig } from '../helpers/mcp.js';

let proc: ChildProcess;
let port = 0;
const sockets: Socket[] = [];

beforeAll(async () => {
  const { file } = writeConfig({});
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
  for (const s of sockets) s.destroy();
  proc?.kill();
});

/** A POST /mcp that announces 1000 bytes of body and sends one; resolves once the bytes are written. */
function stalled(): Promise<{ socket: Socket; reply: () => string; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let reply = '';
    let closed = false;
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
          `Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{`,
        () => resolve({ socket, reply: () => reply, closed: () => closed }),
      );
    });
    socket.on('data', (d) => (reply += String(d)));
    socket.on('close', () => (closed = true));
    socket.on('error', reject);
    sockets.push(socket);
  });
}

describe('stalled request bodies', () => {
  it('20 clients stuck mid-body do not starve a healthCheck; they get 408 and are dropped', async () => {
    const stuck = await Promise.all(Array.from({ length: 20 }, () => stalled()));
    const t0 = Date.now();
    const client = new Client({ name: 'stall-test', version: '1' });
    const call = (async () => {
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
      return structured<{ status: string }>(
        await client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } }),
      );
    })();
    // Bounded: before the stalled bodies time out (10 s), with nothing else to free a slot.
    const r = await Promise.race([
      call,
      new Promise<never>((_, no) => setTimeout(() => no(new Error('no answer within 9 s')), 9000)),
    ]);
    expect(Date.now() - t0).toBeLessThan(9000);
    expect(['healthy', 'degraded', 'critical']).toContain(r.status);
    // The stalled clients were still stalled while the call was served.
    expect(stuck.filter((s) => s.closed()).length).toBe(0);
    await client.close();
    const t1 = Date.now();
    while (stuck.some((s) => !s.closed())) {
      if (Date.now() - t1 > 60_000) throw new Error('stalled sockets still open after 60 s');
      await new Promise((res) => setTimeout(res, 100));
    }
    for (const s of stuck) expect(s.reply()).toMatch(/^HTTP\/1\.1 408 /);
  }, 90_000);
});
