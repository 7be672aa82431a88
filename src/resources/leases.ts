/**
 * Leases and reservations (GPUs, memory, disk) in the durable store. Grants run in IMMEDIATE
 * transactions that read the active leases and insert the new one together, so concurrent
 * requests from several processes never oversubscribe.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../store/database.js';
import { prepared } from '../store/statements.js';

export type LeaseKind = 'gpu' | 'memory' | 'disk';

export interface Lease {
  id: string;
  kind: LeaseKind;
  task_id: string;
  amount: number;
  gpus: number[] | null;
  path: string | null;
  priority: string;
  holder_pid: number | null;
  created_at: string;
  expires_at: string;
  released_at: string | null;
}

function fromRow(r: Record<string, unknown>): Lease {
  return { ...(r as unknown as Lease), gpus: r.gpus ? (JSON.parse(r.gpus as string) as number[]) : null };
}

export class LeaseStore {
  constructor(private readonly db: Db) {}

  active(kind: LeaseKind | null, nowMs: number): Lease[] {
    const now = new Date(nowMs).toISOString();
    const rows = kind
      ? prepared(
          this.db,
          `SELECT * FROM leases WHERE kind = ? AND released_at IS NULL AND expires_at > ? ORDER BY created_at`,
        ).all(kind, now)
      : prepared(this.db, `SELECT * FROM leases WHERE released_at IS NULL AND expires_at > ? ORDER BY created_at`).all(
          now,
        );
    return (rows as Record<string, unknown>[]).map(fromRow);
  }

  /** Leases past their expiry that were never released (to clean up after). */
  expired(nowMs: number): Lease[] {
    const rows = prepared(this.db, `SELECT * FROM leases WHERE released_at IS NULL AND expires_at <= ?`).all(
      new Date(nowMs).toISOString(),
    );
    return (rows as Record<string, unknown>[]).map(fromRow);
  }

  get(id: string): Lease | null {
    const r = prepared(this.db, `SELECT * FROM leases WHERE id = ?`).get(id) as Record<string, unknown> | undefined;
    return r ? fromRow(r) : null;
  }

  /**
   * Grants a lease if `decide` (given the active leases of the kind, inside the transaction)
   * returns the lease's amount/gpus; returns the refusal otherwise.
   */
  grant(
    kind: LeaseKind,
    nowMs: number,
    req: { taskId: string; durationSec: number; priority: string; path?: string | null },
    decide: (active: Lease[]) => { amount: number; gpus?: number[] } | { refusal: string },
  ): { lease: Lease } | { refusal: string } {
    const tx = this.db.transaction(() => {
      const d = decide(this.active(kind, nowMs));
      if ('refusal' in d) return d;
      const lease: Lease = {
        id: randomUUID(),
        kind,
        task_id: req.taskId,
        amount: d.amount,
        gpus: d.gpus ?? null,
        path: req.path ?? null,
        priority: req.priority,
        holder_pid: process.pid,
        created_at: new Date(nowMs).toISOString(),
        expires_at: new Date(nowMs + req.durationSec * 1000).toISOString(),
        released_at: null,
      };
      prepared(
        this.db,
        `INSERT INTO leases (id, kind, task_id, amount, gpus, path, priority, holder_pid, created_at, ` +
          `expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        lease.id,
        kind,
        lease.task_id,
        lease.amount,
        lease.gpus ? JSON.stringify(lease.gpus) : null,
        lease.path,
        lease.priority,
        lease.holder_pid,
        lease.created_at,
        lease.expires_at,
      );
      return { lease };
    });
    return tx.immediate();
  }

  release(id: string, nowMs: number): boolean {
    return (
      prepared(this.db, `UPDATE leases SET released_at = ? WHERE id = ? AND released_at IS NULL`).run(
        new Date(nowMs).toISOString(),
        id,
      ).changes > 0
    );
  }

  list(limit = 100): Lease[] {
    return (
      prepared(this.db, `SELECT * FROM leases ORDER BY created_at DESC LIMIT ?`).all(limit) as Record<string, unknown>[]
    ).map(fromRow);
  }
}
