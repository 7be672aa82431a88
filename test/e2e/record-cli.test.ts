/** `overnight record`: what the recorded command starts does not outlive record's SIGTERM. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/mcp.js';

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function until<T>(f: () => T | undefined, ms: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('overnight record', () => {
  it('SIGTERM to record reaches the whole command (its process group): no `sleep 302` left behind', async () => {
    const p = spawn(process.execPath, [CLI, 'record', '--json', '--', 'sh', '-c', 'sleep 302; echo done'], {
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let sleepPid: number | undefined;
    try {
      const sh = await until(() => childrenOf(p.pid!)[0], 20_000, 'the shell');
      sleepPid = await until(() => childrenOf(sh)[0], 20_000, 'the sleep');
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
      await until(() => (running(sleepPid!) ? undefined : true), 10_000, 'the sleep to end');
      expect(running(sleepPid)).toBe(false);
    } finally {
      p.kill('SIGKILL');
      if (sleepPid !== undefined && running(sleepPid)) process.kill(sleepPid, 'SIGKILL');
    }
  }, 60_000);
});
