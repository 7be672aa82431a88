import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { readProcess } from '../../src/readers/processes.js';
import type { OvernightContext } from '../../src/context.js';
import { FakeNvmlConfig, fakeGpus, useFakeNvml } from '../helpers/fake-nvml.js';
import { firstLine, killAll, procState, scripts, spawnCommand, spawnNode, waitFor } from '../helpers/children.js';

const fake = new FakeNvmlConfig({ devices: fakeGpus(2) });
const nvmlLog = path.join(mkdtempSync(path.join(tmpdir(), 'ovn-nvml-')), 'calls.log');
useFakeNvml('full', fake);
process.env.OVERNIGHT_FAKE_NVML_LOG = nvmlLog;
const { createOvernightContext } = await import('../../src/context.js');

let ctx: OvernightContext;
const restartMark = path.join(mkdtempSync(path.join(tmpdir(), 'ovn-restart-')), 'restarted');
const resets: number[] = [];

beforeAll(async () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'ovn-recovery-'));
  ctx = await createOvernightContext({
    config: parseConfig({
      stateDir,
      watch: { warmupSec: 0, leakMinWindowSec: 2, leakMinSlopeMbPerMin: 100, leakMinR2: 0.8, noProgressSec: 0 },
      policy: { termGraceSec: 1, maxActionsPerHour: 1000, allowGpuSettings: true, allowGpuReset: true },
      tasks: [{ id: 'restartable', restart: ['sh', '-c', `echo started >> ${restartMark}`] }],
    }),
    // The test process plays the agent runner: its children are in scope.
    identity: { scopeRoot: process.pid, selfPid: process.pid },
    recovery: { resetGpu: async (i) => (resets.push(i), { ok: true, output: `GPU ${i} reset (test)` }) },
  });
});
afterAll(async () => {
  killAll();
  ctx.gpu?.close();
  await ctx.close();
});

/**
 * Observes the watched processes every 200 ms until `done` holds (bounded): a loaded machine needs
 * more wall time for the same evidence, so tests wait for the evidence, not for a guessed time.
 */
async function watchUntil(done: () => boolean, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  for (;;) {
    await ctx.watch.observe();
    if (done()) return;
    if (Date.now() > end) throw new Error('watchUntil: the watch did not reach the condition in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Observes the watched processes every 200 ms for `ms`. */
async function watchFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await ctx.watch.observe();
    await new Promise((r) => setTimeout(r, 200));
  }
}

const alive = (c: ChildProcess) => procState(c.pid!) !== null && procState(c.pid!) !== 'Z';
function auditFor(pid: number) {
  return ctx.audit.list({ limit: 1000 }).filter((e) => (e.target as { pid?: number }).pid === pid);
}

describe('recoverOperation on a healthy machine', () => {
  it("passes the design's testRecovery: recovered, saying nothing had to be done", async () => {
    const r = await ctx.recovery.recoverOperation('memory_leak');
    expect(r.status).toBe('recovered');
    expect(r.nothing_to_do).toBe(true);
    expect(r.message).toMatch(/nothing had to be done/);
  });
});

describe('memory leaks', () => {
  let leaker: ChildProcess;
  let flat: ChildProcess;
  beforeAll(async () => {
    leaker = spawnNode(scripts.leak(50));
    flat = spawnNode(scripts.allocateOnce(500));
    await Promise.all([firstLine(leaker), firstLine(flat)]);
    await watchUntil(() => ctx.watch.leakSuspects().some((s) => s.pid === leaker.pid));
  });

  it('calls the 50 MB/s child a leak and the allocate-once child not', () => {
    const suspects = ctx.watch.leakSuspects().map((s) => s.pid);
    expect(suspects).toContain(leaker.pid);
    expect(suspects).not.toContain(flat.pid);
    expect(ctx.watch.analyzeLeak(flat.pid!).isLeak).toBe(false);
    const s = ctx.watch.leakSuspects().find((x) => x.pid === leaker.pid)!;
    expect(s.slope_bytes_per_min / 2 ** 20).toBeGreaterThan(1000);
  });

  it('a dry run says what it would do and touches nothing', async () => {
    const r = await ctx.recovery.recoverOperation('memory_leak', { taskId: 't-1' }, { dryRun: true });
    expect(r.status).toBe('dry_run');
    expect(r.target!.pid).toBe(leaker.pid);
    expect(r.actions_taken.map((a) => [a.step, a.outcome])).toEqual([
      ['SIGTERM', 'would_do'],
      ['SIGKILL', 'would_do'],
    ]);
    expect(alive(leaker)).toBe(true);
    const rows = auditFor(leaker.pid!);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((e) => e.dry_run && e.phase === 'decision')).toBe(true);
  });

  it('ends the leaker (not the big flat one), verifies, and records it', async () => {
    const r = await ctx.recovery.recoverOperation('memory_leak', { taskId: 't-1', errorType: 'oom soon' });
    expect(r.status).toBe('recovered');
    expect(r.target!.pid).toBe(leaker.pid);
    expect(r.actions_taken.find((a) => a.step === 'SIGTERM')!.outcome).toBe('done');
    expect(r.actions_taken.at(-1)!.step).toBe('verify');
    await waitFor(() => !alive(leaker));
    expect(alive(flat)).toBe(true);
    const rows = auditFor(leaker.pid!).filter((e) => !e.dry_run);
    expect(rows.map((e) => e.phase)).toEqual(['decision', 'outcome']);
    expect((rows[0].inputs as { taskId: string }).taskId).toBe('t-1');
    expect(ctx.journal.lastRecovery()!.operation_type).toBe('memory_leak');
  });
});

describe('memory_leak pointed at a process without leak evidence', () => {
  it('refuses, saying what evidence is missing, in a dry run too; force: true ends it, audited as forced', async () => {
    const idle = spawnNode(scripts.idle());
    await firstLine(idle);
    for (const dryRun of [true, false]) {
      const r = await ctx.recovery.recoverOperation(
        'memory_leak',
        { pid: idle.pid, taskId: 'no-evidence' },
        { dryRun },
      );
      expect(r).toMatchObject({ status: 'refused', dry_run: dryRun, actions_taken: [] });
      // Names what is missing (the watch's own verdict) and what a leak needs, and the way out.
      expect(r.message).toMatch(
        new RegExp(`pid ${idle.pid} \\(node\\) shows no leak: (only \\d+ samples|window \\d+ s is shorter|growth)`),
      );
      expect(r.message).toMatch(/at least 100 MB\/min with R² >= 0.8.*force: true/);
      expect(alive(idle)).toBe(true);
    }
    expect(
      auditFor(idle.pid!)
        .filter((e) => e.action === 'memory_leak')
        .map((e) => [e.allowed, e.dry_run]),
    ).toEqual([
      [false, true],
      [false, false],
    ]);
    const forced = await ctx.recovery.recoverOperation(
      'memory_leak',
      { pid: idle.pid, taskId: 'no-evidence' },
      { force: true },
    );
    expect(forced).toMatchObject({ status: 'recovered', dry_run: false });
    expect(forced.message).toMatch(/forced \(no leak evidence/);
    await waitFor(() => !alive(idle));
    const signals = auditFor(idle.pid!).filter((e) => e.action === 'signal' && e.allowed && !e.dry_run);
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((e) => /^no leak evidence: /.test((e.inputs as { forced?: string }).forced ?? ''))).toBe(true);
  });
});

describe('right after a recovery', () => {
  it('healthCheck recovery no longer lists the ended process as a suspect', async () => {
    const leaker = spawnNode(scripts.leak(50));
    await firstLine(leaker);
    const end = Date.now() + 60_000;
    while (!ctx.watch.leakSuspects().some((s) => s.pid === leaker.pid)) {
      if (Date.now() > end) throw new Error('the 50 MB/s child was not a leak suspect within 60 s');
      await watchFor(400);
    }
    const r = await ctx.recovery.recoverOperation('memory_leak', { pid: leaker.pid });
    expect(r.status).toBe('recovered');
    // At once: no scan in between is needed for the watch to know the process ended.
    const h = await ctx.health.checkSystemHealth('recovery');
    expect(h.metrics.suspects!.memory_leaks.map((l) => (l as { pid: number }).pid)).not.toContain(leaker.pid);
    expect(h.recovery_check).toMatchObject({ target_still_suspect: false });
    expect(h.recovery_check!.explanation).not.toContain(`pid ${leaker.pid}`);
    // A scan published before the exit does not bring it back.
    await ctx.watch.observe();
    expect(ctx.watch.leakSuspects().map((l) => l.pid)).not.toContain(leaker.pid);
  });
});

describe('hangs', () => {
  it('never calls a spinning child hung, even when pointed at', async () => {
    const spinner = spawnNode(scripts.spin());
    await firstLine(spinner);
    await watchFor(1200);
    expect(ctx.watch.hangSuspects().map((h) => h.pid)).not.toContain(spinner.pid);
    const r = await ctx.recovery.recoverOperation('process_hang', { pid: spinner.pid });
    expect(r.status).toBe('refused');
    expect(r.message).toMatch(/making progress.*force: true/);
    expect(alive(spinner)).toBe(true);
    spinner.kill('SIGKILL');
  });

  it('continues and ends a stopped child, with diagnostics first', async () => {
    const stopped = spawnNode(scripts.idle());
    await firstLine(stopped);
    stopped.kill('SIGSTOP');
    await waitFor(() => procState(stopped.pid!) === 'T');
    await watchUntil(() => ctx.watch.hangSuspects().some((h) => h.pid === stopped.pid));
    const suspect = ctx.watch.hangSuspects().find((h) => h.pid === stopped.pid)!;
    expect(suspect.reason).toMatch(/stopped \(state T\)/);
    const r = await ctx.recovery.recoverOperation('process_hang');
    expect(r.status).toBe('recovered');
    expect(r.target!.pid).toBe(stopped.pid);
    expect(r.actions_taken.map((a) => a.step).slice(0, 2)).toEqual(['SIGCONT', 'SIGTERM']);
    expect(r.diagnostics!.wchan).not.toBeUndefined();
    expect(r.diagnostics!.status.State).toMatch(/^T/);
  });

  it('needs SIGKILL for a child that ignores SIGTERM', async () => {
    const stubborn = spawnNode(scripts.ignoreTerm());
    await firstLine(stubborn);
    // Idle long enough that it is not "making progress" (counters still for over 2 s).
    await watchUntil(() => ctx.watch.hangVerdict(stubborn.pid!).reason !== 'making progress');
    const r = await ctx.recovery.recoverOperation('process_hang', { pid: stubborn.pid });
    expect(r.status).toBe('recovered');
    const steps = r.actions_taken.map((a) => `${a.step}:${a.outcome}`);
    expect(steps).toContain('SIGTERM:done');
    expect(steps).toContain('SIGKILL:done');
    expect(r.actions_taken.find((a) => a.step === 'wait')!.detail).toMatch(/still running/);
    await waitFor(() => !alive(stubborn));
  });
});

describe('task restart', () => {
  it("restarts the task's registered command after ending its process, and backs off", async () => {
    const c = spawnNode(scripts.idle());
    await firstLine(c);
    c.kill('SIGSTOP');
    await waitFor(() => procState(c.pid!) === 'T');
    const r = await ctx.recovery.recoverOperation('process_hang', { pid: c.pid, taskId: 'restartable' });
    expect(r.status).toBe('recovered');
    const restart = r.actions_taken.find((a) => a.step === 'restart_task')!;
    expect(restart.outcome).toBe('done');
    await waitFor(() => {
      try {
        return readFileSync(restartMark, 'utf8').includes('started');
      } catch {
        return false;
      }
    });
  });
});

describe('out of scope: never signalled, in any mode', () => {
  it('a process re-parented away from the runner', async () => {
    const sh = spawn('sh', ['-c', 'sleep 60 >/dev/null 2>&1 & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const orphan = Number(await firstLine(sh));
    // Re-parented only once sh has exited: wait for that, or the test would prove nothing.
    await new Promise((r) => (sh.exitCode !== null ? r(null) : sh.once('exit', r)));
    await waitFor(() => procState(orphan) === 'S' && readProcess(orphan).ppid !== sh.pid);
    for (const dryRun of [true, false]) {
      const r = await ctx.recovery.recoverOperation('process_hang', { pid: orphan }, { dryRun });
      // A dry run says what the real run would: refused.
      expect(r).toMatchObject({ status: 'refused', dry_run: dryRun });
      expect(r.message).toMatch(/does not descend from the agent runner/);
    }
    expect(procState(orphan)).toBe('S');
    spawnCommand('kill', ['-9', String(orphan)]);
  });

  it("another user's process, even a child of the runner", async () => {
    const other = spawnCommand('sleep', ['60'], { uid: 65534, gid: 65534 });
    await waitFor(() => procState(other.pid!) === 'S');
    for (const op of ['memory_leak', 'process_hang'] as const) {
      const r = await ctx.recovery.recoverOperation(op, { pid: other.pid }, { force: true });
      expect(r.status).toBe('refused');
      expect(r.message).toMatch(/belongs to uid 65534/);
    }
    expect(procState(other.pid!)).toBe('S');
  });

  it('every refusal is in the audit log with its reason', () => {
    const refused = ctx.audit.list({ limit: 1000 }).filter((e) => !e.allowed);
    expect(refused.some((e) => /belongs to uid 65534/.test(e.reason) && e.action === 'process_hang')).toBe(true);
    expect(refused.some((e) => /does not descend from the agent runner/.test(e.reason) && e.dry_run)).toBe(true);
    expect(ctx.audit.list({ limit: 1000 }).every((e) => e.reason.length > 0)).toBe(true);
  });

  it('a protected daemon whose name the kernel cuts to 15 characters (nvidia-persistenced)', async () => {
    // A copy of sleep named like the NVIDIA daemon: comm reads "nvidia-persiste", the executable
    // keeps the whole name. It is our own child, same user, in scope: only its name protects it.
    const bin = path.join(mkdtempSync(path.join(tmpdir(), 'ovn-protected-')), 'nvidia-persistenced');
    copyFileSync(execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim(), bin);
    chmodSync(bin, 0o755);
    const daemon = spawnCommand(bin, ['60']);
    try {
      await waitFor(
        () => procState(daemon.pid!) === 'S' && readProcess(daemon.pid!).comm === 'nvidia-persiste',
        30_000,
      );
      for (const dryRun of [true, false]) {
        // force asks to skip the leak evidence, never the policy.
        const r = await ctx.recovery.recoverOperation('memory_leak', { pid: daemon.pid }, { dryRun, force: true });
        expect(r).toMatchObject({ status: 'refused', dry_run: dryRun });
        expect(r.message).toMatch(/protected-names list \(executable nvidia-persistenced\)/);
        expect(r.actions_taken.filter((a) => a.outcome === 'done' || a.outcome === 'would_do')).toEqual([]);
      }
      expect(procState(daemon.pid!)).toBe('S');
      expect(auditFor(daemon.pid!).every((e) => !e.allowed && /protected-names/.test(e.reason))).toBe(true);
    } finally {
      daemon.kill('SIGKILL');
    }
  });

  it('PID 1 and the runner itself', async () => {
    expect((await ctx.recovery.recoverOperation('process_hang', { pid: 1 })).message).toMatch(/PID 1/);
    expect((await ctx.recovery.recoverOperation('process_hang', { pid: process.pid })).message).toMatch(
      /agent runner itself|overnight server itself/,
    );
  });
});

describe('GPU faults (fake NVML)', () => {
  it('ends the process holding the GPU, resets clocks and the GPU, and verifies', async () => {
    const holder = spawnNode(scripts.idle());
    await firstLine(holder);
    fake.write({
      devices: [{ ...fakeGpus(1)[0], processes: [{ pid: holder.pid!, usedMemory: 2 ** 30 }] }, fakeGpus(2)[1]],
    });
    ctx.health.recordXid(0, 48, Date.now());
    const dry = await ctx.recovery.recoverOperation('gpu_reset', {}, { dryRun: true });
    expect(dry.status).toBe('dry_run');
    expect(alive(holder)).toBe(true);
    expect(dry.actions_taken.map((a) => a.step)).toEqual([
      'SIGTERM',
      'SIGKILL',
      'resetGpuLockedClocks',
      'resetApplicationsClocks',
      'reset_gpu',
    ]);
    const r = await ctx.recovery.recoverOperation('gpu_reset', { xid: 48 });
    expect(r.status).toBe('recovered');
    await waitFor(() => !alive(holder));
    expect(resets).toEqual([0]);
    expect(readFileSync(nvmlLog, 'utf8')).toMatch(/nvmlDeviceResetGpuLockedClocks 0/);
    expect(r.actions_taken.at(-1)).toMatchObject({ step: 'verify', outcome: 'done' });
  });

  it('escalates an Xid a reset cannot fix (79), touching nothing', async () => {
    fake.write({ devices: fakeGpus(2) });
    ctx.health.recordXid(1, 79, Date.now());
    const before = resets.length;
    const r = await ctx.recovery.recoverOperation('gpu_reset', { gpu: 1 });
    expect(r.status).toBe('escalated');
    expect(r.message).toMatch(/cannot be fixed by a reset.*Xid 79.*drain the node/);
    expect(resets.length).toBe(before);
    expect(r.escalation).toBeTruthy();
  });
});

describe('concurrent recoverOperation calls', () => {
  it("each refusal is audited with its own call's actor and dryRun, however the calls interleave", async () => {
    fake.write({ devices: fakeGpus(2) });
    // Six calls at once for GPUs that do not exist: each awaits a GPU sample and a full check before
    // its refusal, so the calls interleave; a manager that kept "the current call" in a field would
    // audit most refusals with the last caller's actor and flag.
    const calls = [10, 11, 12, 13, 14, 15].map((gpu, i) => ({ gpu, actor: `agent-${gpu}`, dryRun: i % 2 === 0 }));
    const results = await Promise.all(
      calls.map((c) =>
        ctx.recovery.recoverOperation('gpu_reset', { gpu: c.gpu }, { actor: c.actor, dryRun: c.dryRun }),
      ),
    );
    for (const [i, r] of results.entries()) {
      expect(r).toMatchObject({ status: 'refused', dry_run: calls[i].dryRun });
      expect(r.message).toMatch(new RegExp(`GPU ${calls[i].gpu} does not exist`));
    }
    const rowsFor = (gpu: number) =>
      ctx.audit
        .list({ limit: 1000 })
        .filter((e) => e.action === 'gpu_reset' && (e.target as { gpu?: number }).gpu === gpu);
    // The refusals are written without being awaited by the call: wait for all six rows.
    await waitFor(() => calls.every((c) => rowsFor(c.gpu).length > 0));
    for (const c of calls) {
      expect(rowsFor(c.gpu).map((e) => [e.actor, e.dry_run, e.allowed])).toEqual([[c.actor, c.dryRun, false]]);
    }
  });
});
