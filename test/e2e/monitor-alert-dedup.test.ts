/**
 * Alert de-duplication survives a monitor crash: the monitor is killed with SIGKILL while an alert
 * is active and started again on the same state directory; a real local webhook receiver counts
 * deliveries. Without persistence every restart of a crash-looping monitor re-sends every active
 * alert (webhook/Slack spam).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';
import { waitFor } from '../helpers/children.js';

const started: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const s of servers.splice(0)) s.close();
});

async function receiver(): Promise<{ url: string; keys: string[] }> {
  const keys: string[] = [];
  const server = createServer((req, res) => {
    let b = '';
    req.on('data', (d: Buffer) => (b += d.toString()));
    req.on('end', () => {
      keys.push((JSON.parse(b) as { key: string }).key);
      res.writeHead(200).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/alert`, keys };
}

/** Starts the monitor; `cycles()` counts the cycles it reported that carried the disk alert. */
function monitor(file: string): { proc: ChildProcess; cycles: () => number } {
  const proc = spawn(process.execPath, [CLI, 'monitor', '--config', file, '--interval', '0.3', '--json'], {
    env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(proc);
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, cycles: () => out.split('\n').filter((l) => l.includes('"key":"disk:full:/"')).length };
}

async function killHard(p: ChildProcess): Promise<void> {
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
}

describe('monitor restart after SIGKILL', () => {
  it('does not re-send an alert that is still active and was sent within the dedup window', async () => {
    const hook = await receiver();
    // "/" over 1 % is always true here: an alert that stays active across both runs.
    const config = {
      paths: ['/'],
      thresholds: { disk: 0.01 },
      escalation: { webhooks: [{ url: hook.url, format: 'json' }], dedupSec: 3600, retries: 0 },
    };
    const { file, dir } = writeConfig(config);

    const first = monitor(file);
    await waitFor(() => hook.keys.length >= 1 && first.cycles() >= 3, 60_000, 50);
    await killHard(first.proc);
    expect(hook.keys).toEqual(['disk:full:/']);

    // The same state directory: the restarted monitor sees the alert active for several cycles, sends nothing.
    const second = monitor(file);
    await waitFor(() => second.cycles() >= 4, 60_000, 50);
    await killHard(second.proc);
    expect(hook.keys).toEqual(['disk:full:/']);

    // The control: a monitor with a fresh state directory (nothing remembered) does send it.
    const fresh = writeConfig({ ...config, stateDir: path.join(dir, 'other-state') });
    const third = monitor(fresh.file);
    await waitFor(() => hook.keys.length >= 2, 60_000, 50);
    await killHard(third.proc);
    expect(hook.keys).toEqual(['disk:full:/', 'disk:full:/']);
  }, 200_000);
});
