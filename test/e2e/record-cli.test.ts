/** `overnight record`: what the recorded command starts does not outlive record's SIGTERM. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/** Pids whose command line is exactly `argv` (a unique sleep length finds this test's own sleep). */
function pidsRunning(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8') === want && running(Number(d));
      } catch {
        return false;
      }
    })
    .map(Number);
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

  it('SIGTERM the moment the command exists (record still starting its sampler) still reaches its group', async () => {
    const p = spawn(process.execPath, [CLI, 'record', '--json', '--', 'sh', '-c', 'sleep 303; echo done'], {
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let sh: number | undefined;
    try {
      // Polled tightly: the point is to signal before record has finished starting up.
      for (const t0 = Date.now(); sh === undefined && Date.now() - t0 < 20_000;) {
        sh = childrenOf(p.pid!)[0];
        if (sh === undefined) await new Promise((r) => setImmediate(r));
      }
      expect(sh, 'the shell').toBeDefined();
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
      await until(() => (running(sh!) ? undefined : true), 10_000, 'the shell to end');
      await until(() => (pidsRunning(['sleep', '303']).length ? undefined : true), 10_000, 'no sleep 303 left');
    } finally {
      p.kill('SIGKILL');
      for (const pid of pidsRunning(['sleep', '303'])) process.kill(pid, 'SIGKILL');
      if (sh !== undefined && running(sh)) process.kill(sh, 'SIGKILL');
    }
  }, 60_000);
});
