/**
 * SIGTERM with a client stalled mid-request: `serve --http` and `monitor --metrics` drop idle
 * connections, give requests a 2 s grace and then cut the rest, instead of waiting for the client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';

const procs: ChildProcess[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

/** Starts the CLI and waits until stderr matches `ready`; returns the process and the match. */
async function start(args: string[], ready: RegExp): Promise<{ p: ChildProcess; m: RegExpExecArray }> {
  const p = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
  });
  procs.push(p);
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const t0 = Date.now();
  while (!ready.test(err)) {
    if (Date.now() - t0 > 40_000) throw new Error(`not ready: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { p, m: ready.exec(err)! };
}

/** A connection that sent half of its request headers; resolves once they are written. */
function halfSent(port: number, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n`, () =>
        resolve(s),
      );
    });
    s.on('error', () => {});
    s.once('error', reject);
    sockets.push(s);
  });
}

/** Milliseconds from SIGTERM to exit, or Infinity past `limitMs`. */
async function exitAfterTerm(p: ChildProcess, limitMs: number): Promise<number> {
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  const t0 = Date.now();
  p.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, limitMs))]);
  return p.exitCode === null && p.signalCode === null ? Infinity : Date.now() - t0;
}

describe('SIGTERM with a half-sent request', () => {
  // Without the cut the process waits for the client (Node's header timeout is checked only every 30 s).
  it('serve --http exits within 8 s', async () => {
    const { file } = writeConfig({});
    const { p, m } = await start(['serve', '--http', '0', '--config', file], /127\.0\.0\.1:(\d+)\/mcp/);
    await halfSent(Number(m[1]), '/mcp');
    expect(await exitAfterTerm(p, 8000)).toBeLessThan(8000);
  }, 60_000);

  it('monitor --metrics exits within 8 s', async () => {
    const { file } = writeConfig({});
    const { p, m } = await start(
      ['monitor', '--config', file, '--interval', '0.5', '--metrics', '0'],
      /"metrics":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/,
    );
    await halfSent(Number(m[1]), '/metrics');
    expect(await exitAfterTerm(p, 8000)).toBeLessThan(8000);
  }, 60_000);
});
