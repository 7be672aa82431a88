/**
 * `overnight events | head`, or a daemon whose log reader went away: the reader closes the pipe
 * before the command has written. The command finishes with its own exit code and no stack trace (it
 * used to die of an unhandled EPIPE).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';

function runWithClosedPipe(
  args: string[],
  closed: 'stdout' | 'stderr',
): Promise<{ code: number | null; other: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Closed before the child (which takes a while to start) can write anything: its first write fails.
  (closed === 'stdout' ? child.stdout : child.stderr).destroy();
  let other = '';
  (closed === 'stdout' ? child.stderr : child.stdout).setEncoding('utf8').on('data', (d: string) => (other += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`overnight ${args.join(' ')} did not exit; other stream: ${other.slice(0, 500)}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, other });
    });
  });
}

describe('a reader that closes its pipe early', () => {
  const { file } = writeConfig();
  for (const args of [
    ['events', '--since', '30d', '--json', '--config', file],
    ['sample'],
    ['audit', '--config', file],
    ['token'],
  ]) {
    it(`stdout: overnight ${args[0]} exits with its own code, without a stack trace`, async () => {
      const r = await runWithClosedPipe(args, 'stdout');
      expect(r.other).not.toMatch(/EPIPE|Unhandled 'error'|node:events/);
      expect(r.code).toBe(0);
    });
  }

  it('serve on stdio: a client that closed our stdout but kept stdin open ends the server', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--config', file], {
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    try {
      child.stdout.destroy();
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.stdin.write(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }) + '\n',
      );
      // Bounded: it used to serve on for nobody until killed.
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('stderr: the monitor runs its cycles and stops with 0; record returns its command’s status', async () => {
    const monitor = await runWithClosedPipe(
      ['monitor', '--config', file, '--interval', '0.2', '--cycles', '3'],
      'stderr',
    );
    expect(monitor.code).toBe(0);
    const record = await runWithClosedPipe(['record', '--', 'sh', '-c', 'exit 3'], 'stderr');
    expect(record.code).toBe(3);
  });
});
