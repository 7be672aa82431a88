/**
 * The metric history: the background sampler's readings downsampled to one row per interval
 * (default 10 s) in the shared store. Serve and monitor both record; the row's bucket is its
 * primary key, so the first writer of an interval wins and the history stays one series.
 * Bounded by age (history.retentionDays) and by rows.
 */
import { prepared } from '../store/statements.js';
import type { Db } from '../store/database.js';

export type MetricValues = Record<string, number | null>;

export interface MetricSeries {
  /** Wall times (ms), ascending. */
  t: number[];
  /** One array per metric name, aligned with t; null where a row did not have it. */
  columns: Record<string, (number | null)[]>;
}

export class MetricHistory {
  private readonly insert;

  constructor(
    private readonly db: Db,
    readonly intervalMs = 10_000,
  ) {
    this.insert = db.prepare(
      'INSERT OR IGNORE INTO metric_history (bucket, time_ms, boot_id, data) VALUES (?, ?, ?, ?)',
    );
  }

  /** Records one row for the interval of `timeMs`; false when another process already had. */
  record(timeMs: number, bootId: string, values: MetricValues): boolean {
    const compact: MetricValues = {};
    // Four significant digits are more than a plot shows; they halve the bytes per row.
    for (const [k, v] of Object.entries(values))
      compact[k] = v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(4));
    return (
      this.insert.run(Math.floor(timeMs / this.intervalMs), Math.round(timeMs), bootId, JSON.stringify(compact))
        .changes > 0
    );
  }

  series(sinceMs: number, untilMs = Date.now()): MetricSeries {
    const rows = prepared(
      this.db,
      'SELECT time_ms, data FROM metric_history WHERE time_ms >= ? AND time_ms <= ? ORDER BY bucket',
    ).all(Math.floor(sinceMs), Math.ceil(untilMs)) as { time_ms: number; data: string }[];
    const t: number[] = [];
    const columns: Record<string, (number | null)[]> = {};
    rows.forEach((r, i) => {
      t.push(r.time_ms);
      const d = JSON.parse(r.data) as MetricValues;
      for (const [k, v] of Object.entries(d)) {
        (columns[k] ??= new Array<number | null>(i).fill(null)).push(v);
      }
      for (const col of Object.values(columns)) if (col.length < i + 1) col.push(null);
    });
    return { t, columns };
  }

  rowCount(): number {
    return (prepared(this.db, 'SELECT COUNT(*) AS n FROM metric_history').get() as { n: number }).n;
  }

  prune(retentionDays: number, maxRows: number, nowMs = Date.now()): number {
    let n = prepared(this.db, 'DELETE FROM metric_history WHERE time_ms < ?').run(
      nowMs - retentionDays * 86_400_000,
    ).changes;
    n += prepared(
      this.db,
      'DELETE FROM metric_history WHERE bucket IN (SELECT bucket FROM metric_history ORDER BY bucket DESC LIMIT ' +
        '-1 OFFSET ?)',
    ).run(maxRows).changes;
    return n;
  }
}
