/**
 * The append-only audit log: every decision of the policy gate, allowed or refused, with its inputs,
 * and the outcome of every act, in SQLite (WAL, synchronous=FULL; UPDATE and DELETE are refused by
 * triggers). A row is on disk before the act starts and after it ends.
 */
import type { Db } from '../store/database.js';
import { prepared } from '../store/statements.js';

/**
 * Gated acts that change bookkeeping, not the node's processes or data: outside the hourly budget.
 * A disk reservation is one: it fallocates a file of our own under the reservation directory, and
 * releasing it gives the space back; it must not use up the budget a real recovery needs. Slurm node
 * states too: a spent budget must not keep a broken node taking jobs (nor a mended one idle).
 */
export const NON_DESTRUCTIVE = [
  'lease_gpu',
  'reserve_memory',
  'reserve_disk',
  'release_lease',
  'restart_task',
  'slurm_drain',
  'slurm_resume',
];

export interface AuditEntry {
  id: number;
  ts: string;
  request_id: string;
  phase: 'decision' | 'outcome';
  actor: string;
  action: string;
  target: unknown;
  allowed: boolean;
  dry_run: boolean;
  reason: string;
  inputs: unknown;
  outcome: unknown;
}

export interface AuditQuery {
  sinceMs?: number;
  limit?: number;
  action?: string;
  requestId?: string;
}

export class AuditLog {
  private readonly insert;
  private readonly countStmt;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      `INSERT INTO audit (ts, request_id, phase, actor, action, target, allowed, dry_run, reason, inputs, outcome)
       VALUES (@ts, @request_id, @phase, @actor, @action, @target, @allowed, @dry_run, @reason, @inputs, @outcome)`,
    );
    this.countStmt = db.prepare(
      `SELECT COUNT(*) AS n FROM audit WHERE phase = 'decision' AND allowed = 1 AND dry_run = 0 AND ts >= ? AND ` +
        `action NOT IN (${NON_DESTRUCTIVE.map(() => '?').join(', ')})`,
    );
  }

  append(e: Omit<AuditEntry, 'id'>): number {
    const r = this.insert.run({
      ts: e.ts,
      request_id: e.request_id,
      phase: e.phase,
      actor: e.actor,
      action: e.action,
      target: JSON.stringify(e.target ?? null),
      allowed: e.allowed ? 1 : 0,
      dry_run: e.dry_run ? 1 : 0,
      reason: e.reason,
      inputs: JSON.stringify(e.inputs ?? null),
      outcome: e.outcome === undefined ? null : JSON.stringify(e.outcome),
    });
    return Number(r.lastInsertRowid);
  }

  /** Allowed, real (not dry-run) destructive acts since a time: the policy's hourly budget. */
  countAllowedSince(sinceMs: number): number {
    return (this.countStmt.get(new Date(sinceMs).toISOString(), ...NON_DESTRUCTIVE) as { n: number }).n;
  }

  list(q: AuditQuery = {}): AuditEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.sinceMs !== undefined) {
      where.push('ts >= ?');
      args.push(new Date(q.sinceMs).toISOString());
    }
    if (q.action) {
      where.push('action = ?');
      args.push(q.action);
    }
    if (q.requestId) {
      where.push('request_id = ?');
      args.push(q.requestId);
    }
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    args.push(q.limit ?? 100);
    const rows = prepared(this.db, sql).all(...args) as Record<string, unknown>[];
    return rows.reverse().map((r) => ({
      id: r.id as number,
      ts: r.ts as string,
      request_id: r.request_id as string,
      phase: r.phase as AuditEntry['phase'],
      actor: r.actor as string,
      action: r.action as string,
      target: JSON.parse(r.target as string) as unknown,
      allowed: r.allowed === 1,
      dry_run: r.dry_run === 1,
      reason: r.reason as string,
      inputs: JSON.parse(r.inputs as string) as unknown,
      outcome: r.outcome === null ? null : (JSON.parse(r.outcome as string) as unknown),
    }));
  }
}
