/**
 * `overnight events | head`: the reader closes the pipe before the command has written. The command
 * finishes with its own exit code and no stack trace (it used to die of an unhandled EPIPE).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';

function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Closed before the child (which takes a while to start) can write anything: its first write fails.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`overnight ${args.join(' ')} did not exit; stderr: ${stderr.slice(0, 500)}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('a reader that closes stdout early', () => {
  const { file } = writeConfig();
  for (const args of [
    ['events', '--since', '30d', '--json', '--config', file],
    ['sample'],
    ['audit', '--config', file],
    ['token'],
  ]) {
    it(`overnight ${args[0]} exits with its own code, without a stack trace`, async () => {
      const r = await runWithClosedStdout(args);
      expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error'|node:events/);
      expect(r.code).toBe(0);
    });
  }
});
