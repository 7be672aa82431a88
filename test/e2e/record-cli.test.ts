/** `overnight record`: what the recorded command starts does not outlive record's SIGTERM. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidsRunning, running } from '../helpers/children.js';
import { CLI } from '../helpers/mcp.js';

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
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
      expect(await exited, 'exit status 128 + SIGTERM, as a shell reports it').toBe(143);
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
  // A closed SSH terminal sends SIGHUP; ^\\ sends SIGQUIT. Either used to kill record and leave the command running.
  it.each([
    ['SIGHUP', 129, '304'],
    ['SIGQUIT', 131, '305'],
  ] as const)(
    '%s to record reaches the whole command, and record reports then exits %i',
    async (sig, status, secs) => {
      const p = spawn(process.execPath, [CLI, 'record', '--', 'sh', '-c', `sleep ${secs}; echo done`], {
        env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let sleepPid: number | undefined;
      try {
        const sh = await until(() => childrenOf(p.pid!)[0], 20_000, 'the shell');
        sleepPid = await until(() => childrenOf(sh)[0], 20_000, 'the sleep');
        const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
        p.kill(sig);
        expect(await exited).toBe(status);
        await until(() => (running(sleepPid!) ? undefined : true), 10_000, 'the sleep to end');
        expect(pidsRunning(['sleep', secs])).toEqual([]);
        expect(stderr).toContain(`Exit status: killed by ${sig}`);
      } finally {
        p.kill('SIGKILL');
        for (const pid of pidsRunning(['sleep', secs])) process.kill(pid, 'SIGKILL');
      }
    },
    60_000,
  );
});

/** Runs record to its end; returns its exit status and stderr. */
function record(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const p = spawn(process.execPath, [CLI, 'record', ...args], {
    env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => p.once('close', (status) => resolve({ status, stderr })));
}

describe('overnight record --output and short commands', () => {
  it('an --output that cannot be written is refused before the command runs (exit 78 naming --output)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'record-out-'));
    try {
      const marker = path.join(dir, 'ran');
      const r = await record(['--output', path.join(dir, 'no/such/dir/x.json'), '--', 'touch', marker]);
      expect(r.status).toBe(78);
      expect(r.stderr).toMatch(/--output: cannot write ".*no\/such\/dir\/x\.json"/);
      expect(existsSync(marker), 'the command must not have run').toBe(false);
      const asDir = await record(['--output', dir, '--', 'touch', marker]);
      expect(asDir.status).toBe(78);
      expect(asDir.stderr).toContain('it is a directory');
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('an --output that fails at the end still gives the report, on stderr, after a line naming --output', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'record-out-'));
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    try {
      // The command removes the directory the report was to go to: the write at the end fails.
      const r = await record(['--output', path.join(sub, 'x.json'), '--', 'rm', '-rf', sub]);
      expect(r.status).toBe(78);
      expect(r.stderr).toMatch(/--output: could not write the report \(ENOENT/);
      expect(r.stderr).toContain(`Command: rm -rf ${sub}`);
      expect(r.stderr).toContain('Exit status: 0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a command that ends within the first interval is reported as too short to sample', async () => {
    const r = await record(['--interval-ms', '60000', '--', 'true']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/(No samples|One sample): the command ended within the first interval/);
  }, 60_000);
});
