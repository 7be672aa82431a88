/**
 * The durable store: one SQLite database (better-sqlite3) in the state directory, in WAL mode with
 * synchronous=FULL, so that a write acknowledged to a caller survives a crash or power loss.
 * Schema changes are numbered migrations recorded in PRAGMA user_version.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export type Db = Database.Database;

const MIGRATIONS: string[] = [
  // 1: the audit log (append-only) and the recovery journal
  `CREATE TABLE audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     ts TEXT NOT NULL,
     request_id TEXT NOT NULL,
     phase TEXT NOT NULL CHECK (phase IN ('decision', 'outcome')),
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT NOT NULL,
     allowed INTEGER NOT NULL,
     dry_run INTEGER NOT NULL,
     reason TEXT NOT NULL,
     inputs TEXT NOT NULL,
     outcome TEXT
   );
   CREATE INDEX audit_ts ON audit(ts);
   CREATE INDEX audit_request ON audit(request_id);
   CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
   CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
   CREATE TABLE recoveries (
     id TEXT PRIMARY KEY,
     operation_type TEXT NOT NULL,
     status TEXT NOT NULL,
     started_at TEXT NOT NULL,
     finished_at TEXT NOT NULL,
     target TEXT,
     before TEXT NOT NULL,
     result TEXT NOT NULL,
     context TEXT
   );
   CREATE INDEX recoveries_finished ON recoveries(finished_at);`,
  // 2: progress: tasks, their checkpoints, and the artifacts recorded at each checkpoint
  `CREATE TABLE tasks (
     task_id TEXT PRIMARY KEY,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE checkpoints (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     task_id TEXT NOT NULL REFERENCES tasks(task_id),
     seq INTEGER NOT NULL,
     t_ms INTEGER NOT NULL,
     stage TEXT NOT NULL,
     completion REAL NOT NULL CHECK (completion >= 0 AND completion <= 1),
     writer_pid INTEGER,
     UNIQUE (task_id, seq)
   );
   CREATE TABLE artifacts (
     checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
     path TEXT NOT NULL,
     bytes INTEGER,
     sha256 TEXT,
     stored INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (checkpoint_id, path)
   );`,
  // 3: leases and reservations of GPUs, memory and disk
  `CREATE TABLE leases (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('gpu', 'memory', 'disk')),
     task_id TEXT NOT NULL,
     amount REAL NOT NULL,
     gpus TEXT,
     path TEXT,
     priority TEXT NOT NULL,
     holder_pid INTEGER,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     released_at TEXT
   );
   CREATE INDEX leases_active ON leases(kind, released_at, expires_at);`,
  // 4: the node's event history (every process writes, all read; `key` de-duplicates), the
  // kernel-log cursor per boot (resume without duplicates or gaps), boots, and node facts
  // (the expected GPU count), and the metric history (one row per interval, whichever process
  // wrote it first)
  `CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     key TEXT NOT NULL UNIQUE,
     source TEXT NOT NULL,
     kind TEXT NOT NULL,
     severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
     subject TEXT NOT NULL,
     message TEXT NOT NULL,
     boot_id TEXT NOT NULL,
     mono_us INTEGER,
     time_ms INTEGER NOT NULL
   );
   CREATE INDEX events_time ON events(time_ms);
   CREATE INDEX events_kind_time ON events(kind, time_ms);
   CREATE TABLE kmsg_cursor (
     boot_id TEXT PRIMARY KEY,
     seq INTEGER NOT NULL,
     updated_ms INTEGER NOT NULL
   );
   CREATE TABLE boots (
     boot_id TEXT PRIMARY KEY,
     boot_time_ms INTEGER NOT NULL,
     first_seen_ms INTEGER NOT NULL,
     stopped_ms INTEGER
   );
   CREATE TABLE node_facts (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     updated_ms INTEGER NOT NULL
   );
   CREATE TABLE metric_history (
     bucket INTEGER PRIMARY KEY,
     time_ms INTEGER NOT NULL,
     boot_id TEXT NOT NULL,
     data TEXT NOT NULL
   );`,
];

/** Opens (creating) the database under `stateDir` and applies pending migrations. */
export function openDatabase(stateDir: string, file = 'overnight.db', busyTimeoutMs = 10_000): Db {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const db = new Database(path.join(stateDir, file));
  // Several processes (agents, the monitor) share the file: wait for a writer instead of failing. A
  // one-shot check waits less (its caller's time-out bounds the whole run). Set first: what follows may wait.
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  migrate(db, MIGRATIONS);
  return db;
}

/**
 * Applies pending migrations one at a time, each in an IMMEDIATE transaction that re-reads the
 * version first, so two processes opening a new database at once never apply one twice.
 */
export function migrate(db: Db, migrations: readonly string[]): void {
  for (;;) {
    const applied = db
      .transaction(() => {
        const v = db.pragma('user_version', { simple: true }) as number;
        if (v >= migrations.length) return false;
        db.exec(migrations[v]!);
        db.pragma(`user_version = ${v + 1}`);
        return true;
      })
      .immediate();
    if (!applied) return;
  }
}

export { MIGRATIONS };
