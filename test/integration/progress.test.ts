import { spawn } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ProgressTracker } from '../../src/progress/progress-tracker.js';
import { openDatabase } from '../../src/store/database.js';
import { ManualClock } from '../../src/util/clock.js';
import { root } from '../helpers/isolated.js';

function setup(extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-progress-'));
  // Artifacts in these tests live in the temp dir: it is the one allowed root.
  const progress = { artifactRoots: [dir], ...(extra.progress as object | undefined) };
  const config = parseConfig({ stateDir: path.join(dir, 'state'), ...extra, progress });
  const db = openDatabase(config.stateDir);
  const clock = new ManualClock();
  return { dir, db, clock, tracker: new ProgressTracker(db, config, clock) };
}

describe('ProgressTracker (the library form)', () => {
  it("passes the design's testProgressTracking", async () => {
    const { tracker } = setup();
    const progress = await tracker.trackCodingProgress('task-123');
    expect(progress.stages_completed).not.toBeUndefined();
    expect(progress.estimated_completion).not.toBeUndefined();
    expect(progress.estimated_completion_reason).toMatch(/no checkpoints/);
  });

  it('records checkpoints and reports stages, ETA and artifacts', async () => {
    const { dir, tracker, clock } = setup();
    const a = path.join(dir, 'model.bin');
    writeFileSync(a, 'v1');
    await tracker.trackCodingProgress('t1', [{ stage: 'plan', completion: 0.1 }]);
    clock.advance(600_000);
    await tracker.trackCodingProgress('t1', [{ stage: 'implement', completion: 0.3, artifacts: [a] }]);
    clock.advance(600_000);
    const r = await tracker.trackCodingProgress('t1', [{ stage: 'implement', completion: 0.5 }]);
    expect(r.recorded).toBe(1);
    expect(r.task_id).toBe('t1');
    expect(r.stages_completed).toBe(1);
    expect(r.current_stage).toMatchObject({ stage: 'implement', completion: 0.5, checkpoints: 2 });
    expect(r.estimated_completion!.seconds_remaining).toBeGreaterThan(0);
    expect(r.artifacts_generated[0]).toMatchObject({ path: a, exists: true, bytes: 2, changed: false });
    expect(r.artifacts_generated[0].sha256_recorded).toMatch(/^[0-9a-f]{64}$/);
    expect(r.validation_status).toEqual({ valid: true, reasons: [] });
    writeFileSync(a, 'v2');
    const changed = await tracker.trackCodingProgress('t1');
    expect(changed.artifacts_generated[0].changed).toBe(true);
    expect(changed.validation_status.reasons[0]).toMatch(/changed since checkpoint 2/);
    unlinkSync(a);
    expect((await tracker.trackCodingProgress('t1')).validation_status.reasons[0]).toMatch(/is missing/);
  });

  it('flags completion going backwards and stages out of order', async () => {
    const { tracker } = setup();
    await tracker.trackCodingProgress('t2', [
      { stage: 'a', completion: 0.2 },
      { stage: 'b', completion: 0.4 },
      { stage: 'a', completion: 0.3 },
    ]);
    const r = await tracker.trackCodingProgress('t2');
    expect(r.validation_status.valid).toBe(false);
    expect(r.validation_status.reasons.join('\n')).toMatch(/repeated out of order/);
    expect(r.validation_status.reasons.join('\n')).toMatch(/went backwards at checkpoint 3: 0.4 -> 0.3/);
  });

  it.each([
    ['completion 1.5', 't', [{ stage: 's', completion: 1.5 }], /completion.*got 1\.5.*fraction in \[0, 1\]/],
    ['completion 80', 't', [{ stage: 's', completion: 80 }], /did you mean 0\.8\?/],
    ['completion NaN', 't', [{ stage: 's', completion: NaN }], /got NaN/],
    ['empty taskId', '', [], /taskId must not be empty/],
    ['enormous taskId', 'x'.repeat(300), [], /taskId of 300 characters; at most 256/],
    [
      'too many artifacts',
      't',
      [{ stage: 's', completion: 0.1, artifacts: Array.from({ length: 101 }, (_, i) => `/tmp/a${i}`) }],
      /at most 100 artifacts/,
    ],
    ['a path with NUL', 't', [{ stage: 's', completion: 0.1, artifacts: ['/tmp/a\u0000b'] }], /must not contain NUL/],
  ])('refuses %s, and stores nothing of the call', async (_n, taskId, cps, pattern) => {
    const { tracker, db } = setup();
    const call = [{ stage: 'good', completion: 0.1 }, ...(cps as never[])];
    await expect(tracker.trackCodingProgress(taskId, call)).rejects.toThrow(pattern);
    expect((db.prepare('SELECT COUNT(*) AS n FROM checkpoints').get() as { n: number }).n).toBe(0);
  });

  it('reports a task without a checkpoint for longer than its interval as stalled', async () => {
    const { tracker, clock } = setup({
      progress: { stallSec: 600 },
      tasks: [{ id: 'strict', checkpointIntervalSec: 60 }],
    });
    await tracker.trackCodingProgress('loose', [{ stage: 's', completion: 0.1 }]);
    await tracker.trackCodingProgress('strict', [{ stage: 's', completion: 0.1 }]);
    clock.advance(120_000);
    expect(tracker.stalledTasks(clock.now()).map((t) => t.task_id)).toEqual(['strict']);
    clock.advance(600_000);
    expect(
      tracker
        .stalledTasks(clock.now())
        .map((t) => t.task_id)
        .sort(),
    ).toEqual(['loose', 'strict']);
    expect((await tracker.trackCodingProgress('loose')).stalled.stalled).toBe(true);
  });

  it("restores a task's artifacts as they were at its last good checkpoint, verified by hash", async () => {
    const { dir, tracker } = setup({ progress: { storeArtifacts: true } });
    const a = path.join(dir, 'out.txt');
    writeFileSync(a, 'checkpoint one');
    await tracker.trackCodingProgress('r', [{ stage: 's', completion: 0.2, artifacts: [a] }]);
    writeFileSync(a, 'checkpoint two');
    rmSync(path.join(dir, 'sub'), { recursive: true, force: true });
    await tracker.trackCodingProgress('r', [{ stage: 's', completion: 0.4, artifacts: [a] }]);
    writeFileSync(a, 'broken later');
    const latest = await tracker.restore('r');
    expect(latest.checkpoint).toBe(2);
    expect(readFileSync(a, 'utf8')).toBe('checkpoint two');
    const first = await tracker.restore('r', 1);
    expect(first.restored).toEqual([{ path: a, ok: true }]);
    expect(readFileSync(a, 'utf8')).toBe('checkpoint one');
    expect((await tracker.restore('r', 9)).reason).toMatch(/no checkpoint 9/);
    // Retention: the copy only checkpoint 1 used goes once it is old; the last checkpoint's stays.
    expect(tracker.pruneStoredCopies(Date.now() + 8 * 86_400_000, true)).toBe(1);
    expect((await tracker.restore('r', 1)).checkpoint).toBeNull();
    expect((await tracker.restore('r')).checkpoint).toBe(2);
  });
});

describe('restore and artifacts: symlinks, confinement, bounded hashing', () => {
  it('restore follows no symlink on the way to the file and names the component it refused', async () => {
    const { dir, tracker } = setup({ progress: { storeArtifacts: true } });
    const d = path.join(dir, 'rs', 'd');
    const victim = path.join(dir, 'rs', 'victimdir');
    mkdirSync(d, { recursive: true });
    mkdirSync(victim);
    writeFileSync(path.join(d, 'file.txt'), 'recorded');
    writeFileSync(path.join(victim, 'file.txt'), "the victim's own");
    await tracker.trackCodingProgress('rs', [{ stage: 's', completion: 0.5, artifacts: [path.join(d, 'file.txt')] }]);
    rmSync(d, { recursive: true });
    symlinkSync(victim, d);
    const r = await tracker.restore('rs');
    expect(r.restored[0]).toMatchObject({ ok: false, refused_at: d });
    expect(r.restored[0].error).toMatch(new RegExp(`${d.replace(/[/.]/g, '\\$&')} is a symlink`));
    expect(readFileSync(path.join(victim, 'file.txt'), 'utf8')).toBe("the victim's own");
    // A missing directory is created again, and a symlink at the file itself is replaced, not followed.
    rmSync(d);
    const again = await tracker.restore('rs');
    expect(again.restored[0]).toEqual({ path: path.join(d, 'file.txt'), ok: true });
    expect(readFileSync(path.join(d, 'file.txt'), 'utf8')).toBe('recorded');
    rmSync(path.join(d, 'file.txt'));
    symlinkSync(path.join(victim, 'file.txt'), path.join(d, 'file.txt'));
    expect((await tracker.restore('rs')).restored[0].ok).toBe(true);
    expect(lstatSync(path.join(d, 'file.txt')).isSymbolicLink()).toBe(false);
    expect(readFileSync(path.join(victim, 'file.txt'), 'utf8')).toBe("the victim's own");
  });

  it('refuses artifacts in /proc, /sys, /dev or outside progress.artifactRoots (named); stores nothing', async () => {
    const { dir, tracker, db } = setup({ progress: { storeArtifacts: true } });
    const outside = mkdtempSync(path.join(tmpdir(), 'ovn-outside-'));
    writeFileSync(path.join(outside, 'secret'), 'token');
    symlinkSync(path.join(outside, 'secret'), path.join(dir, 'link-out'));
    for (const bad of [
      '/etc/shadow',
      '/proc/self/environ',
      '/sys/kernel/uevent_seqnum',
      '/dev/zero',
      path.join(outside, 'secret'),
      path.join(dir, 'link-out'),
      // Unresolvable paths outside the roots are refused too (fail closed), not recorded as missing.
      `/etc/${'a'.repeat(300)}`, // ENAMETOOLONG
      `${outside}/${'b'.repeat(300)}`,
    ]) {
      const call = tracker.trackCodingProgress('conf', [{ stage: 's', completion: 0.1, artifacts: [bad] }]);
      const err = await call.then(
        () => null,
        (e: unknown) => (e as Error).message,
      );
      expect(err).toMatch(
        /checkpoints\.0\.artifacts\.0: .*(is under \/(proc|sys|dev)|outside progress\.artifactRoots \[)/,
      );
      expect(err).toMatch(
        bad.startsWith('/proc') || bad.startsWith('/sys') || bad.startsWith('/dev')
          ? /never an artifact/
          : new RegExp(`\\[${realpathSync(dir).replace(/[/.]/g, '\\$&')}\\]`),
      );
    }
    expect((db.prepare('SELECT COUNT(*) AS n FROM checkpoints').get() as { n: number }).n).toBe(0);
    expect(
      readdirSync(path.join(dir, 'state')).includes('artifacts')
        ? readdirSync(path.join(dir, 'state', 'artifacts')).filter((x) => !x.startsWith('.'))
        : [],
    ).toEqual([]);
    // The default roots: the server's working directory and the task's registered directory.
    const cfg = parseConfig({ stateDir: path.join(dir, 'state2'), tasks: [{ id: 'reg', cwd: outside }] });
    const t2 = new ProgressTracker(openDatabase(cfg.stateDir), cfg, new ManualClock());
    expect(
      (
        await t2.trackCodingProgress('reg', [
          { stage: 's', completion: 0.1, artifacts: [path.join(outside, 'secret')] },
        ])
      ).recorded,
    ).toBe(1);
    await expect(
      t2.trackCodingProgress('other', [{ stage: 's', completion: 0.1, artifacts: [path.join(outside, 'secret')] }]),
    ).rejects.toThrow(
      new RegExp(`outside progress\\.artifactRoots \\[${realpathSync(process.cwd()).replace(/[/.]/g, '\\$&')}\\]`),
    );
  });

  it('hashes at most progress.maxHashBytesPerCall bytes per call; names the artifacts left unhashed', async () => {
    const { dir, tracker } = setup({ progress: { maxHashBytesPerCall: 3 * 2 ** 20 } });
    // A 2 GiB sparse file, a hundred times: without the bound this is 200 GiB of hashing.
    const big = path.join(dir, 'sparse.bin');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 2 * 2 ** 30);
    closeSync(fd);
    const small = path.join(dir, 'small.bin');
    writeFileSync(small, Buffer.alloc(2 * 2 ** 20, 7));
    const r = await tracker.trackCodingProgress('bounded', [
      { stage: 's', completion: 0.1, artifacts: [small, ...Array.from({ length: 99 }, () => big)] },
    ]);
    expect(r.recorded).toBe(1);
    const a = new Map(r.artifacts_generated.map((x) => [x.path, x]));
    expect(a.get(small)!.sha256_now).toMatch(/^[0-9a-f]{64}$/);
    expect(a.get(big)!.sha256_now).toBeNull();
    expect(a.get(big)!.not_hashed).toMatch(
      /not hashed: 2147483648 bytes, and \d+ of this call's 3145728 bytes \(progress\.maxHashBytesPerCall\) are left/,
    );
  });
});

describe('durability under SIGKILL and concurrency', () => {
  it('keeps every acknowledged checkpoint of writers killed at random moments; the database stays intact', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-durable-'));
    const stateDir = path.join(dir, 'state');
    openDatabase(stateDir).close();
    const acked: string[] = [];
    const live = new Set<ReturnType<typeof spawn>>();
    const writer = path.join(root, 'test/helpers/checkpoint-writer.mjs');
    const dist = path.join(root, 'dist');
    for (let round = 0; round < 8; round++) {
      // Three writers at once: two on the same task, one on its own. Each is killed by its own
      // acknowledgements, not by the clock: after its k-th ack plus a random number of the writes
      // that follow (k >= 3), so the kill lands in the middle of a write however slow the machine is.
      const runs = ['shared', 'shared', `own-${round}`].map((task, i) => {
        const p = spawn(process.execPath, [writer, dist, stateDir, task, String(round * 100 + i * 10)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        live.add(p);
        p.once('exit', () => live.delete(p));
        const killAt = 3 + Math.floor(Math.random() * 8);
        let mine = 0;
        let buf = '';
        p.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop()!;
          for (const l of lines) {
            if (!l.startsWith('ack ')) continue;
            acked.push(l.slice(4));
            if (++mine === killAt) p.kill('SIGKILL');
          }
        });
        return new Promise<void>((resolve, reject) => {
          // A writer that dies before its kill (a crash, not our SIGKILL) fails the test with what it said.
          p.once('exit', (code, signal) =>
            signal === 'SIGKILL'
              ? resolve()
              : reject(
                  new Error(`writer ${task} exited ${code ?? signal} after ${mine} acks, before its kill at ${killAt}`),
                ),
          );
          // Bounded: a writer that never gets to its k-th ack in 30 s is killed and reported.
          const guard = setTimeout(() => {
            p.kill('SIGKILL');
            reject(new Error(`writer ${task} made ${mine} of ${killAt} acks in 30 s`));
          }, 30_000);
          p.once('exit', () => clearTimeout(guard));
        });
      });
      try {
        await Promise.all(runs);
      } finally {
        for (const p of live) p.kill('SIGKILL');
      }
    }
    expect(acked.length).toBeGreaterThan(20);
    const db = openDatabase(stateDir);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const rows = db.prepare('SELECT task_id, completion FROM checkpoints').all() as {
      task_id: string;
      completion: number;
    }[];
    const stored = new Set(rows.map((r) => `${r.task_id} ${r.completion}`));
    const missing = acked.filter((a) => !stored.has(a));
    expect(missing).toEqual([]);
    // seq numbers per task are unique and dense: no lost or doubled write
    const seqs = db.prepare(`SELECT task_id, COUNT(*) AS n, MAX(seq) AS m FROM checkpoints GROUP BY task_id`).all() as {
      n: number;
      m: number;
    }[];
    for (const s of seqs) expect(s.n).toBe(s.m);
    db.close();
  }, 300_000);
});
