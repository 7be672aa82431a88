/**
 * A port that cannot be bound is one line naming the flag and its value, and exit 78 (EX_CONFIG).
 * Before: the bare listen error was printed while the background sampler kept the process running.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';

function runCli(args: string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The timeout is a backstop against the old hang (it would fail the exit-code check), not a wait.
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' }, timeout: 60_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('a port that cannot be bound', () => {
  let busy: Server;
  let busyPort = 0;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => busy.close(() => r())));

  it('monitor --metrics on a busy port: names --metrics and the port, exits 78', async () => {
    const { file } = writeConfig();
    const r = await runCli(['monitor', '--config', file, '--json', '--cycles', '1', '--metrics', String(busyPort)]);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^overnight: --metrics ${busyPort}: port ${busyPort} on 127\\.0\\.0\\.1 is already in use \\(EADDRINUSE\\)`,
      ),
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.code).toBe(78);
  }, 70_000);

  it('monitor --metrics-host on an address the host does not have: names --metrics-host, exits 78', async () => {
    const { file } = writeConfig();
    // 192.0.2.1 (TEST-NET-1, RFC 5737) is assigned to no host.
    const r = await runCli([
      'monitor',
      '--config',
      file,
      '--json',
      '--cycles',
      '1',
      '--metrics',
      '0',
      '--metrics-host',
      '192.0.2.1',
    ]);
    expect(r.stderr.trim()).toMatch(
      /^overnight: --metrics-host 192\.0\.2\.1: 192\.0\.2\.1 is not an address of this host \(EADDRNOTAVAIL\)/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.code).toBe(78);
  }, 70_000);

  it('serve --http on a busy port: names --http and the port, exits 78', async () => {
    const { file } = writeConfig({ server: { token: 'Kq3vP9zR2mT7wX4yB8nL5cJ6hG1fD0sA' } });
    const r = await runCli(['serve', '--config', file, '--http', String(busyPort)]);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^overnight: --http ${busyPort}: port ${busyPort} on 127\\.0\\.0\\.1 is already in use \\(EADDRINUSE\\)`,
      ),
    );
    expect(r.code).toBe(78);
  }, 70_000);

  it('serve --host on an address the host does not have: names --host, exits 78', async () => {
    const { file } = writeConfig({ server: { token: 'Kq3vP9zR2mT7wX4yB8nL5cJ6hG1fD0sA' } });
    const r = await runCli(['serve', '--config', file, '--http', '0', '--host', '192.0.2.1']);
    expect(r.stderr.trim()).toMatch(/^overnight: --host 192\.0\.2\.1: 192\.0\.2\.1 is not an address of this host/);
    expect(r.code).toBe(78);
  }, 70_000);

  it('serve --http with a value that is not a port: names --http, exits 78', async () => {
    const { file } = writeConfig();
    const r = await runCli(['serve', '--config', file, '--http', 'abc']);
    expect(r.stderr.trim()).toBe('overnight: --http: got "abc"; expected a TCP port from 0 (any free port) to 65535');
    expect(r.code).toBe(78);
  }, 70_000);
});
