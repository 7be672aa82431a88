import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listDescendants, listProcesses, listProcessesAsync, readProcess } from '../../src/readers/processes.js';
import { loadNative } from '../../src/native.js';
import { unpackProcesses } from '../../src/readers/packed-processes.js';
import { firstLine, killAll, procState, scripts, spawnCommand, spawnNode, waitFor } from '../helpers/children.js';

afterAll(killAll);

function ps(pid: number): { ppid: number; stat: string; rssKb: number } {
  const out = execFileSync('ps', ['-o', 'pid=,ppid=,stat=,rss=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  const [, ppid, stat, rss] = out.split(/\s+/);
  return { ppid: Number(ppid), stat: stat, rssKb: Number(rss) };
}

describe('readProcess', () => {
  it('agrees with ps for this process', () => {
    const p = readProcess(process.pid);
    const q = ps(process.pid);
    expect(p.ppid).toBe(q.ppid);
    expect(p.uid).toBe(process.getuid!());
    expect(Math.abs(p.rss / 1024 - q.rssKb)).toBeLessThan(32 * 1024);
    expect(p.comm.length).toBeGreaterThan(0);
    expect(p.io).toBeTruthy();
    expect(p.statm!.resident).toBeGreaterThan(0);
    expect(p.threads).toBeGreaterThan(1);
  });

  it('says ESRCH with the pid for a process that does not exist', () => {
    const pid = 2 ** 22 + 4321;
    try {
      readProcess(pid);
      expect.unreachable();
    } catch (err) {
      const e = err as { code: string; pid: number; message: string };
      expect(e.code).toBe('ESRCH');
      expect(e.pid).toBe(pid);
      expect(e.message).toContain(`/proc/${pid}/stat`);
    }
  });

  it('reports io of pid 1 as unreadable with a reason, not as an error', () => {
    const p = readProcess(1);
    if (p.io === null) expect(p.ioError!.code).toMatch(/EACCES|EPERM/);
    else expect(p.io!.rchar).toBeGreaterThanOrEqual(0);
  });

  it('rejects a bad pid argument', () => {
    expect(() => readProcess(-3)).toThrow(/pid: expected a positive integer/);
    expect(() => readProcess(1.5)).toThrow(/pid/);
  });
});

describe('real children', () => {
  it('a child stopped with SIGSTOP reads state T', async () => {
    const c = spawnNode(scripts.idle());
    await firstLine(c);
    c.kill('SIGSTOP');
    await waitFor(() => procState(c.pid!) === 'T');
    expect(readProcess(c.pid!).state).toBe('T');
    expect(ps(c.pid!).stat[0]).toBe('T');
    c.kill('SIGKILL');
  });

  it('a zombie reads state Z', async () => {
    // sh forks a short sleep, then execs a long one that never reaps it: the short one stays a zombie.
    const c = spawnCommand('sh', ['-c', 'sleep 0.05 & exec sleep 30']);
    let zombie: number | undefined;
    await waitFor(() => {
      zombie = listDescendants(c.pid!).find((p) => p.state === 'Z')?.pid;
      return zombie !== undefined;
    });
    expect(readProcess(zombie!).state).toBe('Z');
    expect(ps(zombie!).stat[0]).toBe('Z');
    c.kill('SIGKILL');
  });

  it('a child that allocates 200 MB shows it in rss', async () => {
    const c = spawnNode(scripts.allocateOnce(200));
    await firstLine(c);
    const p = readProcess(c.pid!);
    expect(p.rss).toBeGreaterThan(200 * 1024 * 1024);
    expect(Math.abs(p.rss / 1024 - ps(c.pid!).rssKb)).toBeLessThan(8 * 1024);
    c.kill('SIGKILL');
  });

  it('reads a comm with spaces and parentheses from a real process', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-comm-'));
    const exe = path.join(dir, 'a) b (c');
    copyFileSync('/bin/sleep', exe);
    execFileSync('chmod', ['+x', exe]);
    const c = spawnCommand(exe, ['30']);
    await waitFor(() => procState(c.pid!) !== null && readProcess(c.pid!).comm === 'a) b (c');
    expect(readProcess(c.pid!).state).toMatch(/[SR]/);
    c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('process table', () => {
  it('lists this process and its children with ps-consistent ppid and state', async () => {
    const kids = [spawnNode(scripts.idle()), spawnNode(scripts.idle())];
    await Promise.all(kids.map(firstLine));
    const table = listProcesses();
    const mine = table.filter((p) => p.ppid === process.pid).map((p) => p.pid);
    for (const k of kids) expect(mine).toContain(k.pid);
    const self = table.find((p) => p.pid === process.pid)!;
    expect(self.ppid).toBe(ps(process.pid).ppid);
    expect(table.some((p) => p.kernelThread)).toBe(table.some((p) => p.pid === 2 && p.comm === 'kthreadd'));
    for (const k of kids) k.kill('SIGKILL');
  });

  it('builds descendants from ppid, including grandchildren', async () => {
    const c = spawnCommand('sh', ['-c', 'sleep 30 & sleep 30 & wait']);
    await waitFor(() => listDescendants(c.pid!).length === 2);
    const d = listDescendants(process.pid);
    const sh = d.find((p) => p.pid === c.pid)!;
    expect(sh).toBeTruthy();
    const grandkids = d.filter((p) => p.ppid === sh.pid);
    expect(grandkids).toHaveLength(2);
    for (const g of grandkids) expect(g.starttime).toBeGreaterThanOrEqual(sh.starttime);
    const withRoot = listProcesses({ descendantsOf: c.pid!, includeRoot: true });
    expect(withRoot[0].pid).toBe(c.pid);
    c.kill('SIGKILL');
  });

  it('scans asynchronously off the JS thread with the same result', async () => {
    const before = new Set(listProcesses().map((p) => p.pid));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const asyncTable = await listProcessesAsync({ io: true, wchan: true });
    clearInterval(timer);
    const pids = asyncTable.map((p) => p.pid);
    expect(pids).toContain(process.pid);
    const common = pids.filter((p) => before.has(p));
    expect(common.length).toBeGreaterThan(before.size * 0.8);
    expect(asyncTable.find((p) => p.pid === process.pid)!.wchan).toBeDefined();
  });

  it('carries io counters in the packed (typed-array) form, equal to the object form', async () => {
    const reader = spawnCommand('sh', ['-c', 'head -c 300000000 /dev/zero > /dev/null; sleep 30']);
    await waitFor(
      () => procState(reader.pid!) === 'S' && (readProcess(reader.pid!).io?.rchar ?? 0) >= 300_000_000,
      10_000,
    );
    const table = new (loadNative().ProcessTable)();
    const packed = unpackProcesses(table.scan({ packed: true, io: true, descendantsOf: process.pid }));
    const objects = table.scan({ io: true, descendantsOf: process.pid });
    const fromPacked = packed.find((p) => p.pid === reader.pid)!;
    const fromObjects = objects.find((p) => p.pid === reader.pid)!;
    expect(fromPacked.io).toEqual(fromObjects.io);
    expect(fromPacked.io!.rchar).toBeGreaterThanOrEqual(300_000_000);
    // Without io asked for, the packed rows say nothing about io (not zeros).
    expect(
      unpackProcesses(table.scan({ packed: true, descendantsOf: process.pid })).find((p) => p.pid === reader.pid)!.io,
    ).toBeUndefined();
    reader.kill('SIGKILL');
  });

  it('skips processes that vanish while scanning', async () => {
    // Start and end short-lived processes continuously while scanning many times.
    const churn = spawnCommand('sh', ['-c', 'while true; do /bin/true; done']);
    for (let i = 0; i < 200; i++) {
      const t = listProcesses({ io: true, cmdline: true });
      expect(t.length).toBeGreaterThan(0);
    }
    churn.kill('SIGKILL');
  });
});
