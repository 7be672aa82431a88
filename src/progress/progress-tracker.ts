/**
 * The design's ProgressTracker: durable checkpoints (SQLite, WAL, synchronous=FULL: a checkpoint is
 * acknowledged only once it is on disk), an honest ETA, verified artifacts, optional
 * content-addressed copies for restoring a task's files, and stalled-task detection.
 */
import path from 'node:path';
import { z } from 'zod';
import type { OvernightConfig } from '../config/schema.js';
import { formatIssues, ValidationError } from '../config/validation.js';
import type { StalledTask, StalledTaskSource } from '../health/sources.js';
import type { PolicyGate } from '../policy/policy-gate.js';
import type { Db } from '../store/database.js';
import type { Clock } from '../util/clock.js';
import { artifactRoots, newBudget } from './artifact-access.js';
import { ArtifactStore, inspectArtifact } from './artifacts.js';
import { HashPool } from './hash-pool.js';
import { estimateEta, type Eta, type Point } from './eta.js';
import { checkpointsSchema, normalizeArtifacts, taskIdSchema, type CheckpointInput } from './input.js';
import { prepared as statement } from '../store/statements.js';

export interface ArtifactReport {
  path: string;
  exists: boolean;
  bytes: number | null;
  sha256_recorded: string | null;
  sha256_now: string | null;
  changed: boolean;
  stored: boolean;
  recorded_at_seq: number;
  /** Why sha256_now is null though the file exists (hash budget spent, or no longer allowed). */
  not_hashed?: string;
}

export interface ProgressReport {
  task_id: string;
  stages_completed: number;
  current_stage: { stage: string; completion: number; since: string; checkpoints: number } | null;
  estimated_completion: Eta | null;
  estimated_completion_reason?: string;
  artifacts_generated: ArtifactReport[];
  validation_status: { valid: boolean; reasons: string[] };
  stages: { stage: string; first_at: string; last_at: string; completion: number; completed: boolean }[];
  checkpoints: number;
  last_checkpoint_at: string | null;
  stalled: { stalled: boolean; for_sec: number; limit_sec: number };
  recorded?: number;
}

interface Row {
  id: number;
  seq: number;
  t_ms: number;
  stage: string;
  completion: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class ProgressTracker implements StalledTaskSource {
  readonly store: ArtifactStore;
  /** Artifact hashing off the main thread; closed (in-flight hashing cancelled) by close(). */
  private readonly hashes = new HashPool();

  constructor(
    private readonly db: Db,
    private readonly config: OvernightConfig & { stateDir: string },
    private readonly clock: Clock,
    /** Restores overwrite files: with a gate they are decided and audited like any destructive act. */
    private readonly gate?: PolicyGate,
  ) {
    this.store = new ArtifactStore(path.join(config.stateDir, 'artifacts'));
  }

  private validate(taskId: unknown, checkpoints: unknown): { taskId: string; checkpoints: CheckpointInput[] } {
    const schema = z.strictObject({ taskId: taskIdSchema, checkpoints: checkpointsSchema.optional() });
    const raw = { taskId, ...(checkpoints === undefined ? {} : { checkpoints }) };
    const r = schema.safeParse(raw);
    if (!r.success)
      throw new ValidationError(formatIssues(r.error, raw, '', schema), 'trackProgress: refused (nothing was stored)');
    return { taskId: r.data.taskId, checkpoints: r.data.checkpoints ?? [] };
  }

  /**
   * The design's track_coding_progress: records the given checkpoints (atomically, durably) and
   * returns the task's progress. With no checkpoints it only reads.
   */
  async trackCodingProgress(taskId: string, checkpoints?: CheckpointInput[]): Promise<ProgressReport> {
    const input = this.validate(taskId, checkpoints);
    let recorded = 0;
    if (input.checkpoints.length) {
      // File I/O (hashing, copying) happens before the transaction, so the database lock is short.
      const prepared: {
        cp: CheckpointInput;
        arts: { path: string; bytes: number | null; sha256: string | null; stored: boolean }[];
      }[] = [];
      const roots = artifactRoots(this.config, input.taskId);
      const budget = newBudget(this.config.progress.maxHashBytesPerCall);
      const refusals: string[] = [];
      for (const [i, cp] of input.checkpoints.entries()) {
        const arts: (typeof prepared)[number]['arts'] = [];
        for (const [j, a] of normalizeArtifacts(cp.artifacts).entries()) {
          const facts = await inspectArtifact(a.path, {
            roots,
            pool: this.hashes,
            budget,
            ...(this.config.progress.storeArtifacts
              ? { copyInto: this.store, maxCopyBytes: this.config.progress.maxArtifactBytes }
              : {}),
          });
          if ('refused' in facts) {
            refusals.push(`checkpoints.${i}.artifacts.${j}: ${facts.refused}`);
            continue;
          }
          arts.push({
            path: a.path,
            bytes: facts.bytes,
            sha256: a.expectedSha256 ?? facts.sha256,
            stored: facts.stored && (!a.expectedSha256 || a.expectedSha256 === facts.sha256),
          });
        }
        prepared.push({ cp, arts });
      }
      // An artifact outside the roots refuses the whole call, like any other bad input.
      if (refusals.length)
        throw new ValidationError(
          refusals,
          'trackProgress: refused (nothing was stored); set progress.artifactRoots to allow other directories',
        );
      const now = this.clock.now();
      const write = this.db.transaction(() => {
        statement(
          this.db,
          `INSERT INTO tasks (task_id, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT(task_id) DO UPDATE ` +
            `SET updated_at = excluded.updated_at`,
        ).run(input.taskId, iso(now), iso(now));
        const nextSeq = statement(this.db, `SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM checkpoints WHERE task_id = ?`);
        const insCp = statement(
          this.db,
          `INSERT INTO checkpoints (task_id, seq, t_ms, stage, completion, writer_pid) VALUES (?, ?, ?, ?, ?, ?)`,
        );
        const insArt = statement(
          this.db,
          `INSERT OR REPLACE INTO artifacts (checkpoint_id, path, bytes, sha256, stored) VALUES (?, ?, ?, ?, ?)`,
        );
        for (const { cp, arts } of prepared) {
          const seq = (nextSeq.get(input.taskId) as { s: number }).s;
          const id = Number(insCp.run(input.taskId, seq, now, cp.stage, cp.completion, process.pid).lastInsertRowid);
          for (const a of arts) insArt.run(id, a.path, a.bytes, a.sha256, a.stored ? 1 : 0);
        }
      });
      // IMMEDIATE: take the write lock up front, so concurrent writers queue (busy_timeout) rather than deadlock.
      write.immediate();
      recorded = prepared.length;
      // From here on the checkpoints are stored: nothing after this may answer the call as a failure,
      // or the agent retries and stores them twice.
      if (this.config.progress.storeArtifacts) {
        try {
          this.pruneStoredCopies(now);
        } catch (err) {
          process.stderr.write(
            `overnight: pruning stored artifact copies failed (kept for the next try): ${(err as Error).message}\n`,
          );
        }
      }
    }
    if (!recorded) return this.report(input.taskId);
    try {
      return { ...(await this.report(input.taskId)), recorded };
    } catch (err) {
      return { ...this.storedButUnread(input.taskId, err), recorded };
    }
  }

  /** The answer to a write that was stored but whose progress could not be read back. */
  private storedButUnread(taskId: string, err: unknown): ProgressReport {
    const why =
      `the checkpoint(s) were stored; reading the task's progress back failed: ` +
      ((err as Error)?.message ?? String(err));
    return {
      task_id: taskId,
      stages_completed: 0,
      current_stage: null,
      estimated_completion: null,
      estimated_completion_reason: why,
      artifacts_generated: [],
      validation_status: { valid: false, reasons: [why] },
      stages: [],
      checkpoints: 0,
      last_checkpoint_at: null,
      stalled: { stalled: false, for_sec: 0, limit_sec: this.stallLimitSec(taskId) },
    };
  }

  /** Cancels hashing in flight (a shutting-down server must not wait for a multi-GiB hash). */
  async close(): Promise<void> {
    await this.hashes.close();
  }

  private lastPrune = 0;

  /** At most hourly: drop stored copies past retention that no task's last checkpoint uses. */
  pruneStoredCopies(nowMs: number, force = false): number {
    if (!force && nowMs - this.lastPrune < 3600_000) return 0;
    this.lastPrune = nowMs;
    const keep = new Set(
      (
        statement(
          this.db,
          `SELECT a.sha256 FROM artifacts a JOIN checkpoints c ON c.id = a.checkpoint_id WHERE c.seq = (SELECT ` +
            `MAX(seq) FROM checkpoints x WHERE x.task_id = c.task_id) AND a.sha256 IS NOT NULL`,
        ).all() as { sha256: string }[]
      ).map((r) => r.sha256),
    );
    return this.store.prune(keep, this.config.progress.retentionDays * 86_400_000, nowMs);
  }

  private rows(taskId: string): Row[] {
    return statement(
      this.db,
      `SELECT id, seq, t_ms, stage, completion FROM checkpoints WHERE task_id = ? ORDER BY seq`,
    ).all(taskId) as Row[];
  }

  private stallLimitSec(taskId: string): number {
    return this.config.tasks.find((t) => t.id === taskId)?.checkpointIntervalSec ?? this.config.progress.stallSec;
  }

  async report(taskId: string): Promise<ProgressReport> {
    const rows = this.rows(taskId);
    const now = this.clock.now();
    const reasons: string[] = [];
    // Stages in order of first appearance; a stage is completed once a later stage began, or at 100 %.
    const stages: ProgressReport['stages'] = [];
    const seen = new Map<string, number>();
    let prev: Row | undefined;
    for (const r of rows) {
      const idx = seen.get(r.stage);
      if (idx === undefined) {
        seen.set(r.stage, stages.length);
        stages.push({
          stage: r.stage,
          first_at: iso(r.t_ms),
          last_at: iso(r.t_ms),
          completion: r.completion,
          completed: false,
        });
      } else {
        if (prev && prev.stage !== r.stage)
          reasons.push(`stage "${r.stage}" repeated out of order at checkpoint ${r.seq} (after "${prev.stage}")`);
        stages[idx]!.last_at = iso(r.t_ms);
        stages[idx]!.completion = r.completion;
      }
      if (prev && r.completion < prev.completion)
        reasons.push(`completion went backwards at checkpoint ${r.seq}: ${prev.completion} -> ${r.completion}`);
      prev = r;
    }
    const last = rows[rows.length - 1];
    for (let i = 0; i < stages.length; i++)
      stages[i]!.completed = i < stages.length - 1 || (last?.completion ?? 0) >= 1;
    const current = last ? stages[seen.get(last.stage)!]! : null;

    // Artifacts: the latest record of each path, checked against the file as it is now.
    const arts = statement(
      this.db,
      `SELECT a.path, a.bytes, a.sha256, a.stored, c.seq FROM artifacts a JOIN checkpoints c ON c.id = ` +
        `a.checkpoint_id WHERE c.task_id = ? ORDER BY c.seq`,
    ).all(taskId) as { path: string; bytes: number | null; sha256: string | null; stored: number; seq: number }[];
    const latest = new Map<string, (typeof arts)[number]>();
    for (const a of arts) latest.set(a.path, a);
    const artifacts: ArtifactReport[] = [];
    const roots = artifactRoots(this.config, taskId);
    const budget = newBudget(this.config.progress.maxHashBytesPerCall);
    for (const a of latest.values()) {
      const seen = await inspectArtifact(a.path, { roots, pool: this.hashes, budget });
      // Recorded while it was allowed; now outside the roots (a symlink swapped in): not read again.
      const now$ =
        'refused' in seen ? { exists: true, bytes: null, sha256: null, not_hashed: `not read: ${seen.refused}` } : seen;
      if (now$.not_hashed) reasons.push(`artifact ${a.path}: ${now$.not_hashed}`);
      const changed = a.sha256 !== null && now$.sha256 !== null && a.sha256 !== now$.sha256;
      if (!now$.exists) reasons.push(`artifact ${a.path} is missing (recorded at checkpoint ${a.seq})`);
      else if (changed)
        reasons.push(
          `artifact ${a.path} changed since checkpoint ${a.seq} (sha256 ${a.sha256!.slice(0, 12)}… -> ` +
            `${now$.sha256!.slice(0, 12)}…)`,
        );
      artifacts.push({
        path: a.path,
        exists: now$.exists,
        bytes: now$.bytes,
        sha256_recorded: a.sha256,
        sha256_now: now$.sha256,
        changed,
        stored: a.stored === 1,
        recorded_at_seq: a.seq,
        ...(now$.not_hashed ? { not_hashed: now$.not_hashed } : {}),
      });
    }
    const eta = estimateEta(
      rows.map((r): Point => ({ t: r.t_ms, c: r.completion })),
      now,
    );
    const limit = this.stallLimitSec(taskId);
    const since = last ? (now - last.t_ms) / 1000 : 0;
    const done = (last?.completion ?? 0) >= 1;
    return {
      task_id: taskId,
      stages_completed: stages.filter((s) => s.completed).length,
      current_stage:
        current && last
          ? {
              stage: current.stage,
              completion: last.completion,
              since: current.first_at,
              checkpoints: rows.filter((r) => r.stage === current.stage).length,
            }
          : null,
      estimated_completion: eta.estimate,
      ...(eta.estimate ? {} : { estimated_completion_reason: 'reason' in eta ? eta.reason : '' }),
      artifacts_generated: artifacts,
      validation_status: { valid: reasons.length === 0, reasons },
      stages,
      checkpoints: rows.length,
      last_checkpoint_at: last ? iso(last.t_ms) : null,
      stalled: { stalled: !!last && !done && since > limit, for_sec: Math.round(since), limit_sec: limit },
    };
  }

  /** Every task, newest first, with its latest checkpoint. */
  list(): {
    task_id: string;
    stage: string | null;
    completion: number | null;
    last_checkpoint_at: string | null;
    checkpoints: number;
  }[] {
    return statement(
      this.db,
      `SELECT t.task_id, c.stage, c.completion, c.t_ms,
              (SELECT COUNT(*) FROM checkpoints x WHERE x.task_id = t.task_id) AS n
         FROM tasks t LEFT JOIN checkpoints c
           ON c.task_id = t.task_id AND c.seq = (SELECT MAX(seq) FROM checkpoints y WHERE y.task_id = t.task_id)
         ORDER BY t.updated_at DESC`,
    )
      .all()
      .map((r) => {
        const x = r as {
          task_id: string;
          stage: string | null;
          completion: number | null;
          t_ms: number | null;
          n: number;
        };
        return {
          task_id: x.task_id,
          stage: x.stage,
          completion: x.completion,
          last_checkpoint_at: x.t_ms === null ? null : iso(x.t_ms),
          checkpoints: x.n,
        };
      });
  }

  stalledTasks(nowMs: number): StalledTask[] {
    const out: StalledTask[] = [];
    for (const t of this.list()) {
      if (!t.last_checkpoint_at || (t.completion ?? 0) >= 1) continue;
      const since = (nowMs - Date.parse(t.last_checkpoint_at)) / 1000;
      if (since > this.stallLimitSec(t.task_id))
        out.push({
          task_id: t.task_id,
          current_stage: t.stage,
          last_checkpoint_at: t.last_checkpoint_at,
          stalled_for_sec: Math.round(since),
        });
    }
    return out;
  }

  /**
   * Puts a task's artifacts back as they were at a checkpoint (default: the last checkpoint whose
   * artifacts all have stored copies), each verified by hash.
   */
  async restore(
    taskId: string,
    seq?: number,
    actor = 'overnight progress restore',
  ): Promise<{
    task_id: string;
    checkpoint: number | null;
    restored: { path: string; ok: boolean; error?: string; refused_at?: string }[];
    reason?: string;
  }> {
    this.validate(taskId, undefined);
    const rows = this.rows(taskId);
    const artsOf = (id: number) =>
      statement(this.db, `SELECT path, sha256, stored FROM artifacts WHERE checkpoint_id = ?`).all(id) as {
        path: string;
        sha256: string | null;
        stored: number;
      }[];
    const candidates = seq === undefined ? [...rows].reverse() : rows.filter((r) => r.seq === seq);
    if (seq !== undefined && !candidates.length)
      return {
        task_id: taskId,
        checkpoint: null,
        restored: [],
        reason: `task ${taskId} has no checkpoint ${seq} (it has ${rows.length})`,
      };
    const good = candidates.find((r) => {
      const a = artsOf(r.id);
      return a.length > 0 && a.every((x) => x.stored === 1 && x.sha256 && this.store.has(x.sha256));
    });
    if (!good)
      return {
        task_id: taskId,
        checkpoint: null,
        restored: [],
        reason: 'no checkpoint has stored copies of all its artifacts (set progress.storeArtifacts: true)',
      };
    const arts = artsOf(good.id);
    const put = async () => {
      const out: { path: string; ok: boolean; error?: string; refused_at?: string }[] = [];
      for (const a of arts) out.push({ path: a.path, ...(await this.store.restore(a.sha256!, a.path)) });
      return out;
    };
    if (!this.gate) return { task_id: taskId, checkpoint: good.seq, restored: await put() };
    const r = await this.gate.perform(
      {
        actor,
        action: 'restore_artifacts',
        target: { taskId, checkpoint: good.seq, paths: arts.map((a) => a.path) },
        dryRun: false,
      },
      () => null,
      put,
    );
    if (!r.allowed)
      return { task_id: taskId, checkpoint: null, restored: [], reason: `refused by the policy: ${r.reason}` };
    if (r.error)
      return { task_id: taskId, checkpoint: good.seq, restored: [], reason: `restore failed: ${r.error.message}` };
    return { task_id: taskId, checkpoint: good.seq, restored: r.outcome! };
  }
}
