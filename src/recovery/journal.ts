/** The recovery journal: each recovery with the health state it started from (SQLite). */
import type { RecoveryJournal, RecoveryRecord } from '../health/sources.js';
import type { Db } from '../store/database.js';
import { prepared } from '../store/statements.js';

export class RecoveryJournalStore implements RecoveryJournal {
  writes = 0;

  constructor(private readonly db: Db) {}

  record(r: RecoveryRecord & { result: unknown; context?: unknown }): void {
    this.writes++;
    prepared(
      this.db,
      `INSERT INTO recoveries (id, operation_type, status, started_at, finished_at, target, before, result, ` +
        `context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      r.id,
      r.operation_type,
      r.status,
      r.started_at,
      r.finished_at,
      JSON.stringify(r.target ?? null),
      JSON.stringify(r.before),
      JSON.stringify(r.result),
      JSON.stringify(r.context ?? null),
    );
  }

  lastRecovery(): RecoveryRecord | null {
    const row = prepared(
      this.db,
      `SELECT * FROM recoveries WHERE status != 'dry_run' ORDER BY finished_at DESC, rowid DESC LIMIT 1`,
    ).get() as Record<string, string> | undefined;
    if (!row) return null;
    return {
      id: row.id!,
      operation_type: row.operation_type!,
      status: row.status!,
      started_at: row.started_at!,
      finished_at: row.finished_at!,
      target: (JSON.parse(row.target!) as RecoveryRecord['target'] | null) ?? undefined,
      before: JSON.parse(row.before!) as RecoveryRecord['before'],
    };
  }

  recentCounts(windowMs: number): { recovered: number; failed: number; escalated: number } {
    const since = new Date(Date.now() - windowMs).toISOString();
    const rows = prepared(
      this.db,
      `SELECT status, COUNT(*) AS n FROM recoveries WHERE finished_at >= ? GROUP BY status`,
    ).all(since) as { status: string; n: number }[];
    const get = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
    return { recovered: get('recovered'), failed: get('failed'), escalated: get('escalated') };
  }
}
