/**
 * Memory pressure in the agent's own cgroup wakes the monitor (the cgroup's kernel trigger or the
 * polled totals), becomes a finding, raises an alert and, with recovery, the ladder acts on the
 * largest process in the cgroup (a dry run here). A real child thrashes in a real cgroup: it maps a
 * file larger than its memory limit and touches every page over and over, so the kernel keeps
 * reclaiming and refaulting its pages. On this hybrid machine the unified (v2) tree has no memory
 * controller, so the limit is the v1 memory controller's and the child is also put in a v2 cgroup
 * of its own, whose memory.pressure the kernel keeps per cgroup whatever the controllers; where v2
 * has the memory controller, memory.max and memory.swap.max of the v2 cgroup are used instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createOvernightContext } from '../../src/context.js';
import type { HealthReport } from '../../src/health/report.js';
import { loadNative } from '../../src/native.js';
import { OvernightMonitor, type CycleReport } from '../../src/monitor/overnight-monitor.js';

const MiB = 2 ** 20;
// The unified (v2) tree: beside v1 on a hybrid machine, or the whole of /sys/fs/cgroup on a pure-v2 one.
const UNIFIED = existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
const V1_MEMORY = '/sys/fs/cgroup/memory';
const v2Memory = existsSync(`${UNIFIED}/cgroup.controllers`)
  ? readFileSync(`${UNIFIED}/cgroup.controllers`, 'utf8').split(/\s+/).includes('memory')
  : false;

/** Why this machine cannot run the thrashing child in a limited cgroup of its own, or null when it can. */
function cannotLimit(): string | null {
  if (process.getuid?.() !== 0) return 'not root: cannot create cgroups';
  if (!existsSync(`${UNIFIED}/cgroup.procs`)) return 'no cgroup v2 (unified) hierarchy for memory.pressure';
  if (!v2Memory && !existsSync(`${V1_MEMORY}/cgroup.procs`))
    return 'neither the v2 nor a v1 memory controller to limit the child';
  // A container may show the trees read-only: try to make (and remove) one.
  for (const root of [UNIFIED, ...(v2Memory ? [] : [V1_MEMORY])]) {
    const probe = path.join(root, `ovn-probe-${process.pid}`);
    try {
      mkdirSync(probe);
      rmdirSync(probe);
    } catch (err) {
      return `cannot create a cgroup under ${root}: ${(err as Error).message}`;
    }
  }
  return null;
}
const whyNot = cannotLimit();
if (whyNot) console.warn(`memory-stall.test: the thrashing-cgroup test is skipped: ${whyNot}`);

const THRASH = `
import mmap, os, sys
path, size = sys.argv[1], int(sys.argv[2])
# Written from inside the limited cgroup, so that every page of it is charged there from the start.
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
chunk = b'\\x07' * (1 << 20)
for _ in range(size >> 20):
    os.write(fd, chunk)
os.fsync(fd)
m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
print('ready', os.getpid(), flush=True)
s = 0
while True:
    for off in range(0, size, 4096):
        s += m[off]
`;

/**
 * A child thrashing in a cgroup of its own (limit below its mapped file); dispose() ends it and removes the
 * cgroups.
 */
async function thrashingChild(dir: string, limit = 64 * MiB, fileSize = 96 * MiB) {
  const name = `ovn-stall-${process.pid}-${Date.now()}`;
  const v2 = path.join(UNIFIED, name);
  const v1 = v2Memory ? null : path.join(V1_MEMORY, name);
  mkdirSync(v2);
  if (v1) {
    mkdirSync(v1);
    writeFileSync(path.join(v1, 'memory.limit_in_bytes'), String(limit));
  } else {
    writeFileSync(path.join(v2, 'memory.max'), String(limit));
    if (existsSync(path.join(v2, 'memory.swap.max'))) writeFileSync(path.join(v2, 'memory.swap.max'), '0');
  }
  // Written by the child inside its cgroup, so that its pages are charged there and nowhere else.
  const file = path.join(dir, 'mapped');
  writeFileSync(path.join(dir, 'thrash.py'), THRASH);
  const join = [v2, ...(v1 ? [v1] : [])].map((d) => `echo $$ > ${d}/cgroup.procs`).join('; ');
  const child: ChildProcess = spawn(
    'sh',
    // The shell stays as the agent runner (the scope root, never ended itself); python is its child.
    ['-c', `${join}; python3 ${path.join(dir, 'thrash.py')} ${file} ${fileSize}`],
    { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  let worker = 0;
  const ready = new Promise<void>((resolve, reject) => {
    // "ready <pid>" may come in more than one chunk: read up to the end of the line.
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)\n/.exec(out);
      if (!m) return;
      worker = Number(m[1]);
      child.stdout!.off('data', onData);
      resolve();
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`thrashing child exited (${code}) before it was ready`)));
  });
  const dispose = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid!, 'SIGKILL');
      await gone;
    }
    // The whole group: the python worker too (it is gone once its cgroup has no task left).
    // A cgroup can be removed once its last task is reaped; bounded retries for a slow teardown.
    for (const d of [v2, ...(v1 ? [v1] : [])])
      for (let i = 0; i < 100 && existsSync(d); i++) {
        try {
          rmdirSync(d);
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
  };
  try {
    await ready;
  } catch (err) {
    await dispose();
    throw err;
  }
  return {
    child,
    pid: child.pid!,
    worker,
    cgroupPath: `/${name}`,
    pressureFile: path.join(v2, 'memory.pressure'),
    dispose,
  };
}

describe('PSI triggers on any pressure file', () => {
  it('names the file that cannot be opened', () => {
    expect(
      () =>
        new (loadNative().PsiTriggers)([{ path: '/nonexistent-cgroup/memory.pressure', name: 'x' }], () => undefined),
    ).toThrow(/ENOENT.*\/nonexistent-cgroup\/memory\.pressure/);
  });
});

describe.skipIf(whyNot !== null)('memory stall in the agent cgroup', () => {
  it('wakes the monitor, is a finding, alerts once per subject, starts the dry-run ladder on the child', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-stall-'));
    const kid = await thrashingChild(dir);
    const ctx = await createOvernightContext({
      config: parseConfig({
        stateDir: path.join(dir, 'state'),
        policy: { scopeRoot: kid.pid },
        // Critical at 15 % so that a loaded CI machine, where the child thrashes less, still gets there.
        thresholds: { memoryStall: 5, memoryStallCritical: 15 },
        monitor: { recover: 'dry_run', psiPollMs: 50, intervalSec: 3600 },
        escalation: { dedupSec: 3600 },
      }),
      identity: { scopeRoot: kid.pid, selfPid: process.pid },
    });
    const cycles: { c: CycleReport; h: HealthReport }[] = [];
    const stop = new AbortController();
    const monitor = new OvernightMonitor(ctx, { onCycle: (c, h) => cycles.push({ c, h }) });
    const running = monitor.run(stop.signal);
    try {
      const until = async (what: string, ok: () => boolean, ms = 60_000) => {
        const end = Date.now() + ms;
        while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
        if (!ok())
          throw new Error(
            `timed out waiting for ${what}; events: ${monitor.events.map((e) => `${e.kind}: ${e.detail}`).join(' | ')}`,
          );
      };
      const metric = `memoryStall:${kid.cgroupPath}`;
      // The wake-up comes from the cgroup (its trigger or its polled totals), not only system-wide.
      await until('a wake-up from the cgroup', () => cycles.some((x) => /^psi(-poll)?:cgroup$/.test(x.c.trigger)));
      await until('the stall finding', () => cycles.some((x) => x.h.breached.some((b) => b.metric === metric)));
      const found = cycles.find((x) => x.h.breached.some((b) => b.metric === metric))!;
      expect(found.h.status).not.toBe('healthy');
      const reading = found.h.metrics.pressure.memory_stall!.find((r) => r.subject === kid.cgroupPath)!;
      expect(reading).toMatchObject({ scope: 'cgroup', file: kid.pressureFile });
      expect(reading.stall_percent).toBeGreaterThan(5);
      expect(found.h.recommendations.some((r) => r.message.includes(`memory stall cgroup ${kid.cgroupPath}`))).toBe(
        true,
      );
      // An alert for the subject (warning, or critical through its critical fault), sent once.
      const alertKeys = [`memory_stall:warning:${kid.cgroupPath}`, `critical:memory_stall:${kid.cgroupPath}`];
      await until('the alert', () => cycles.some((x) => x.c.alerts.some((a) => alertKeys.includes(a.key) && a.sent)));
      // Critical: the ladder picks the child (the largest process in the cgroup, in scope) as a dry run.
      await until('the dry-run recovery', () =>
        cycles.some((x) => x.c.recoveries.some((r) => r.operation === 'memory_leak')),
      );
      const rec = cycles.flatMap((x) => x.c.recoveries).find((r) => r.operation === 'memory_leak')!;
      expect(rec.status).toBe('dry_run');
      expect(rec.target).toMatchObject({ pid: kid.worker, comm: 'python3' });
      const audit = ctx.audit.list({ limit: 50 }).filter((e) => e.actor === 'monitor');
      expect(audit.some((e) => e.dry_run && JSON.stringify(e.target).includes(String(kid.worker)))).toBe(true);
      // De-duplicated per subject: a later cycle does not send the same alert again.
      const n = cycles.length;
      await until('another cycle', () => cycles.length > n + 1);
      for (const x of cycles.slice(n))
        for (const a of x.c.alerts) if (alertKeys.includes(a.key)) expect(a.sent).toBe(false);
      // A dry run: the worker still runs.
      expect(existsSync(`/proc/${kid.worker}`)).toBe(true);
    } finally {
      stop.abort();
      monitor.wake('test over');
      await running;
      await kid.dispose();
      await ctx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('a cgroup that cannot be watched', () => {
  it('says once in the log when the agent cgroup cannot be watched and keeps the system-wide trigger', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-stall-'));
    const ctx = await createOvernightContext({
      config: parseConfig({ stateDir: path.join(dir, 'state'), watch: { cgroup: '/no-such-cgroup-for-ovn-test' } }),
      identity: { scopeRoot: process.pid, selfPid: process.pid },
    });
    const monitor = new OvernightMonitor(ctx, { events: false });
    try {
      monitor.subscribe();
      const psi = monitor.events.filter((e) => e.kind === 'psi');
      expect(psi).toHaveLength(1);
      expect(psi[0].detail).toMatch(/no cgroup trigger: watch\.cgroup \/no-such-cgroup-for-ovn-test.*system-wide/);
    } finally {
      monitor.close();
      await ctx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
