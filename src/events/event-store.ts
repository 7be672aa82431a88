/**
 * The event history in the one SQLite store: written by whichever process saw an event (serve,
 * monitor, a one-shot health), read by all. `key` is unique, so the same kernel line or NVML event
 * seen by two processes is one row (INSERT OR IGNORE).
 */
import { prepared } from '../store/statements.js';
import type { Db } from '../store/database.js';
import type { EventSeverity, EventSource, EventSubject, NodeEvent, StoredEvent } from './types.js';
import { EventWindow, type EventRow, type WindowFilter, type WindowRead } from './event-window.js';

export interface EventQuery {
  /** Only events at or after this wall time (ms). */
  sinceMs?: number;
  kinds?: readonly string[];
  sources?: readonly EventSource[];
  /** At least this severity. */
  minSeverity?: EventSeverity;
  /** At most this many, newest first (default 1000). */
  limit?: number;
}

export interface EventCount {
  source: string;
  kind: string;
  severity: string;
  count: number;
}

const SEVERITY_RANK: Record<EventSeverity, number> = { info: 0, warning: 1, critical: 2 };

interface Row {
  id: number;
  key: string;
  source: EventSource;
  kind: string;
  severity: EventSeverity;
  subject: string;
  message: string;
  boot_id: string;
  mono_us: number | null;
  time_ms: number;
}

/**
 * Writes to the events table through each connection (every EventStore on it counts here): SQLite's
 * data_version tells a connection about the others' commits only, so the window needs its own too.
 */
const eventWrites = new WeakMap<Db, number>();
const noteWrite = (db: Db) => eventWrites.set(db, (eventWrites.get(db) ?? 0) + 1);

function fromRow(r: Row): StoredEvent {
  return {
    id: r.id,
    key: r.key,
    source: r.source,
    kind: r.kind,
    severity: r.severity,
    subject: JSON.parse(r.subject) as EventSubject,
    message: r.message,
    bootId: r.boot_id,
    monoUs: r.mono_us,
    timeMs: r.time_ms,
  };
}

export class EventStore {
  private readonly insertStmt;
  private readonly cursorGet;
  private readonly cursorSet;
  private readonly listeners = new Set<(e: NodeEvent) => void>();
  /** By filter (kind and severity). */
  private readonly windows = new Map<string, EventWindow>();

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO events (key, source, kind, severity, subject, message, boot_id, mono_us, time_ms)
       VALUES (@key, @source, @kind, @severity, @subject, @message, @bootId, @monoUs, @timeMs)`,
    );
    this.cursorGet = db.prepare('SELECT seq FROM kmsg_cursor WHERE boot_id = ?');
    // The cursor only moves forward: serve and monitor may both read the log.
    this.cursorSet = db.prepare(
      `INSERT INTO kmsg_cursor (boot_id, seq, updated_ms) VALUES (?, ?, ?)
       ON CONFLICT(boot_id) DO UPDATE SET seq = MAX(seq, excluded.seq), updated_ms = excluded.updated_ms`,
    );
  }

  /** Calls `fn` for each event this process newly stored (not for rows another process wrote). */
  onEvent(fn: (e: NodeEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Stores events (one transaction); returns those that were new. */
  add(events: readonly NodeEvent[], cursor?: { bootId: string; seq: number }): NodeEvent[] {
    const fresh: NodeEvent[] = [];
    this.db
      .transaction(() => {
        for (const e of events) {
          const r = this.insertStmt.run({
            ...e,
            subject: JSON.stringify(e.subject),
            monoUs: e.monoUs === null ? null : Math.round(e.monoUs),
            timeMs: Math.round(e.timeMs),
          });
          if (r.changes > 0) fresh.push(e);
        }
        if (cursor) this.cursorSet.run(cursor.bootId, cursor.seq, Date.now());
      })
      .immediate();
    if (fresh.length) noteWrite(this.db);
    for (const e of fresh) for (const fn of this.listeners) fn(e);
    return fresh;
  }

  /**
   * Stores an event that has no sequence number of its own (an NVML event each process receives
   * with its own timestamp) unless a row of the same source, kind and subject is within `windowMs`:
   * one NVML event seen by serve and monitor is one row.
   */
  addNear(e: NodeEvent, windowMs: number): boolean {
    const subject = JSON.stringify(e.subject);
    let fresh = false;
    this.db
      .transaction(() => {
        const near = prepared(
          this.db,
          'SELECT 1 FROM events WHERE source = ? AND kind = ? AND boot_id = ? AND subject = ? AND time_ms ' +
            'BETWEEN ? AND ? LIMIT 1',
        ).get(e.source, e.kind, e.bootId, subject, Math.floor(e.timeMs - windowMs), Math.ceil(e.timeMs + windowMs));
        if (near) return;
        fresh =
          this.insertStmt.run({
            ...e,
            subject,
            monoUs: e.monoUs === null ? null : Math.round(e.monoUs),
            timeMs: Math.round(e.timeMs),
          }).changes > 0;
      })
      .immediate();
    if (fresh) noteWrite(this.db);
    if (fresh) for (const fn of this.listeners) fn(e);
    return fresh;
  }

  /** The last kernel-log sequence stored in this boot, or -1. */
  kmsgCursor(bootId: string): number {
    const r = this.cursorGet.get(bootId) as { seq: number } | undefined;
    return r ? r.seq : -1;
  }

  /**
   * Every event since `sinceMs` (of one kind and/or severity, if given), newest first, at most `limit`:
   * what the checks judge each time.
   * Kept between calls and brought up to date from the rows added since (./event-window.ts); the
   * events are frozen, shared by the calls.
   */
  window(sinceMs: number, limit: number, filter: WindowFilter = {}): WindowRead {
    const key = `${filter.kind ?? ''}\0${filter.severity ?? ''}`;
    let w = this.windows.get(key);
    if (!w) {
      const db = this.db;
      w = new EventWindow(
        db,
        () => eventWrites.get(db) ?? 0,
        (r: EventRow) => fromRow(r as unknown as Row),
        filter,
      );
      this.windows.set(key, w);
    }
    return w.read(sinceMs, limit);
  }

  /** Newest first. */
  list(q: EventQuery = {}): StoredEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.sinceMs !== undefined) {
      where.push('time_ms >= ?');
      args.push(Math.floor(q.sinceMs));
    }
    if (q.kinds?.length) {
      where.push(`kind IN (${q.kinds.map(() => '?').join(',')})`);
      args.push(...q.kinds);
    }
    if (q.sources?.length) {
      where.push(`source IN (${q.sources.map(() => '?').join(',')})`);
      args.push(...q.sources);
    }
    if (q.minSeverity) {
      const allowed = (Object.keys(SEVERITY_RANK) as EventSeverity[]).filter(
        (s) => SEVERITY_RANK[s] >= SEVERITY_RANK[q.minSeverity!],
      );
      where.push(`severity IN (${allowed.map(() => '?').join(',')})`);
      args.push(...allowed);
    }
    const sql =
      `SELECT * FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY time_ms ` +
      `DESC, id DESC LIMIT ?`;
    args.push(q.limit ?? 1000);
    return (prepared(this.db, sql).all(...args) as Row[]).map(fromRow);
  }

  /** Counts by source, kind and severity (Prometheus' overnight_events_total). */
  counts(): EventCount[] {
    return prepared(
      this.db,
      'SELECT source, kind, severity, COUNT(*) AS count FROM events GROUP BY source, kind, severity',
    ).all() as EventCount[];
  }

  /**
   * When the alert with this key was last recorded (by any process) at or after `sinceMs`, or
   * undefined. The escalator's de-duplication reads it, so a restarted monitor (or a second
   * process on the node) does not send again what was sent within the window.
   */
  lastAlertAt(key: string, sinceMs: number): number | undefined {
    const r = prepared(
      this.db,
      "SELECT MAX(time_ms) AS t FROM events WHERE kind = 'alert' AND time_ms >= ? " +
        "AND json_extract(subject, '$.key') = ?",
    ).get(Math.floor(sinceMs), key) as { t: number | null } | undefined;
    return r?.t ?? undefined;
  }

  /** The times of the alerts recorded at or after `sinceMs`, oldest first (the hourly cap counts them). */
  alertTimesSince(sinceMs: number): number[] {
    return (
      prepared(this.db, "SELECT time_ms AS t FROM events WHERE kind = 'alert' AND time_ms >= ? ORDER BY time_ms").all(
        Math.floor(sinceMs),
      ) as { t: number }[]
    ).map((r) => r.t);
  }

  /**
   * Deletes events older than `retentionDays` and, beyond that, the oldest above `maxRows`; but the count
   * never deletes what still decides a verdict: a critical event (a fatal Xid, a read-only filesystem) or a
   * GPU reset at or after `keepSinceMs` (the Xid window's start). Those rows may exceed `maxRows`.
   */
  prune(retentionDays: number, maxRows: number, nowMs = Date.now(), keepSinceMs = nowMs): number {
    const cutoff = nowMs - retentionDays * 86_400_000;
    let n = prepared(this.db, 'DELETE FROM events WHERE time_ms < ?').run(cutoff).changes;
    n += prepared(
      this.db,
      'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY time_ms DESC, id DESC LIMIT -1 OFFSET ?) ' +
        "AND NOT (time_ms >= ? AND (severity = 'critical' OR kind = 'gpu_reset'))",
    ).run(maxRows, Math.floor(keepSinceMs)).changes;
    prepared(this.db, 'DELETE FROM kmsg_cursor WHERE updated_ms < ?').run(cutoff);
    if (n) noteWrite(this.db);
    return n;
  }
}
