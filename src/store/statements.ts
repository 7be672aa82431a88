/**
 * Statements prepared once per database and reused: better-sqlite3's prepare() compiles the SQL
 * every time (tens of µs), and healthCheck ran several per call. Keyed by the SQL text, so a call
 * site keeps its SQL where it is used. Main thread only (better-sqlite3 is synchronous).
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/** Distinct SQL texts kept per database; past this (dynamic SQL gone wild) the cache starts over. */
const MAX_PER_DB = 256;

const cache = new WeakMap<Db, Map<string, Statement>>();

/** `db.prepare(sql)`, compiled on first use and reused afterwards. */
export function prepared(db: Db, sql: string): Statement {
  let byText = cache.get(db);
  if (!byText) cache.set(db, (byText = new Map<string, Statement>()));
  let s = byText.get(sql);
  if (!s) {
    if (byText.size >= MAX_PER_DB) byText.clear();
    s = db.prepare(sql);
    byText.set(sql, s);
  }
  return s;
}
