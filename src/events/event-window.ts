/**
 * The events of the last window (newest first), kept between reads: every health check and every
 * monitor cycle judges the whole Xid window, and reading it again each time cost 9 ms with 1,000
 * events in it and 133 ms with 10,000 (a hung-task storm, an Xid flood): a night's noisy kernel log
 * would have made each check slower than the last. Now a read costs one `PRAGMA data_version` while
 * nothing changed, and reads only the new rows when something did.
 *
 * Why it stays exact: ids are AUTOINCREMENT (never reused), so rows another process added are those
 * above the highest id seen; `data_version` changes when another connection commits, and this
 * connection's own writes are counted by the caller (`writes`). Rows are never updated, only added
 * and deleted; a deletion among the rows held (retention, by any process) shows as a smaller count of
 * them, and the window is then read again whole. The count and the new rows come from one snapshot.
 */
import { prepared } from '../store/statements.js';
import type { Db } from '../store/database.js';
import type { EventSeverity, StoredEvent } from './types.js';

/** Which events a window holds: all, or those of one kind and/or one severity. */
export interface WindowFilter {
  kind?: string;
  severity?: EventSeverity;
}

/** A row as SQLite returns it; `decode` makes it a StoredEvent. */
export type EventRow = { id: number; time_ms: number } & Record<string, unknown>;

/** Newest first: by time, then by id (the order of `EventStore.list`). */
function newerFirst(a: StoredEvent, b: StoredEvent): number {
  return b.timeMs - a.timeMs || b.id - a.id;
}

export interface WindowRead {
  /** Newest first, frozen (shared between reads): at most `limit`, none older than `sinceMs`. */
  events: readonly StoredEvent[];
  /** False when the limit cut the window short: there are older events in it than these. */
  complete: boolean;
}

export class EventWindow {
  /** Every stored row (id <= maxId) at or after `since`, newest first: unless `truncated`, all of them. */
  private rows: StoredEvent[] = [];
  private since = Infinity;
  private limit = 0;
  private truncated = false;
  private maxId = 0;
  private stamp = '';

  constructor(
    private readonly db: Db,
    private readonly writes: () => number,
    private readonly decode: (r: EventRow) => StoredEvent,
    private readonly filter: WindowFilter = {},
  ) {
    const f = filter;
    this.only = [
      (f.kind === undefined ? '' : ' AND kind = ?') + (f.severity === undefined ? '' : ' AND severity = ?'),
      [f.kind, f.severity].filter((v) => v !== undefined),
    ];
  }

  /** The filter as SQL (` AND kind = ? AND severity = ?`) and its arguments. */
  private readonly only: [string, string[]];

  read(sinceMs: number, limit: number): WindowRead {
    const since = Math.floor(sinceMs);
    const stamp = `${String(prepared(this.db, 'PRAGMA data_version').pluck().get())}:${this.writes()}`;
    // A wider window or a larger limit than the one held: read whole.
    if (since < this.since || limit > this.limit) this.reload(since, limit, stamp);
    else if (stamp !== this.stamp && !this.catchUp(stamp)) this.reload(since, limit, stamp);
    this.advance(since);
    const events = this.rows.length > limit ? this.rows.slice(0, limit) : this.rows;
    return { events, complete: !this.truncated && this.rows.length <= limit };
  }

  /** Drops the rows that left the window (the window only moves forward between reads). */
  private advance(since: number): void {
    if (since <= this.since) return;
    this.since = since;
    let n = this.rows.length;
    while (n > 0 && this.rows[n - 1]!.timeMs < since) n--;
    if (n < this.rows.length) {
      this.rows = this.rows.slice(0, n);
      // The rows the limit left out are older than every row held: out of the window with them.
      this.truncated = false;
    } else if (this.truncated) this.truncated = this.leftOutInWindow();
  }

  /** Whether rows older than the oldest held (the limit left them out) are still in the window. */
  private leftOutInWindow(): boolean {
    const oldest = this.rows.at(-1);
    if (!oldest) return false;
    const [and, kind] = this.only;
    return (
      prepared(
        this.db,
        `SELECT EXISTS (SELECT 1 FROM events WHERE time_ms >= ? AND (time_ms, id) < (?, ?) AND id <= ?${and})`,
      )
        .pluck()
        .get(this.since, oldest.timeMs, oldest.id, this.maxId, ...kind) === 1
    );
  }

  private reload(since: number, limit: number, stamp: string): void {
    this.db
      .transaction(() => {
        const [and, kind] = this.only;
        const rows = prepared(
          this.db,
          `SELECT * FROM events WHERE time_ms >= ?${and} ORDER BY time_ms DESC, id DESC LIMIT ?`,
        ).all(since, ...kind, limit + 1) as EventRow[];
        this.truncated = rows.length > limit;
        this.rows = rows.slice(0, limit).map((r) => this.frozen(r));
        this.maxId = Number(prepared(this.db, 'SELECT COALESCE(MAX(id), 0) FROM events').pluck().get());
      })
      .deferred();
    this.since = since;
    this.limit = limit;
    this.stamp = stamp;
  }

  /** Adds the rows stored since the last read; false when rows held were deleted (read whole then). */
  private catchUp(stamp: string): boolean {
    const oldest = this.rows.at(-1);
    const [and, kind] = this.only;
    let fresh: EventRow[] = [];
    let top = this.maxId;
    const kept = this.db
      .transaction(() => {
        // The rows held are every row up to maxId from the oldest held on (in the window's order), or,
        // when the limit cut the window, from the oldest held: fewer of them in the table means a deletion.
        const held = oldest
          ? Number(
              prepared(this.db, `SELECT COUNT(*) FROM events WHERE (time_ms, id) >= (?, ?) AND id <= ?${and}`)
                .pluck()
                .get(oldest.timeMs, oldest.id, this.maxId, ...kind),
            )
          : 0;
        if (held !== this.rows.length) return false;
        // Only the newest `limit` new rows in the window matter (older ones are past the limit): a backlog of
        // 150,000 rows from another process costs one bounded read, as a reload would.
        fresh = prepared(
          this.db,
          `SELECT * FROM events WHERE id > ? AND time_ms >= ?${and} ORDER BY time_ms DESC, id DESC LIMIT ?`,
        ).all(this.maxId, this.since, ...kind, this.limit + 1) as EventRow[];
        top = Number(prepared(this.db, 'SELECT COALESCE(MAX(id), 0) FROM events').pluck().get());
        return true;
      })
      .deferred();
    if (!kept) return false;
    this.maxId = Math.max(this.maxId, top);
    // A row older than the oldest held, when the limit cut the window, is past the limit too.
    const inWindow = (r: EventRow) =>
      !this.truncated || !oldest || r.time_ms > oldest.timeMs || (r.time_ms === oldest.timeMs && r.id > oldest.id);
    // Newest first already (ORDER BY); nearly always newer than every row held, then no sort is needed.
    const added = fresh.filter(inWindow).map((r) => this.frozen(r));
    if (added.length) {
      const first = this.rows[0];
      this.rows =
        !first || newerFirst(added.at(-1)!, first) < 0
          ? [...added, ...this.rows]
          : [...added, ...this.rows].sort(newerFirst);
    }
    if (this.rows.length > this.limit) {
      // Past the limit: the oldest go, and the window no longer holds every row in it.
      this.rows = this.rows.slice(0, this.limit);
      this.truncated = true;
    }
    this.stamp = stamp;
    return true;
  }

  private frozen(r: EventRow): StoredEvent {
    const e = this.decode(r);
    Object.freeze(e.subject);
    return Object.freeze(e);
  }
}
