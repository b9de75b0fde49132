// Opening the database file: pragmas, tables and the meta values the store keeps.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DatastoreLockedError } from './errors.ts';

export type Db = Database.Database;

// `log` is the history: one row per write, its rowid is the global revision, never
// reused (AUTOINCREMENT). `current` holds each live key's newest value so reads at the
// current revision are one index lookup or range instead of a max-per-key scan.
// A delete row (a tombstone) keeps the last value so the delete event can be replayed.
const TABLES = `
CREATE TABLE IF NOT EXISTS log (
  revision        INTEGER PRIMARY KEY AUTOINCREMENT,
  key             TEXT    NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision   INTEGER NOT NULL,
  deleted         INTEGER NOT NULL DEFAULT 0,
  value           TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
CREATE TABLE IF NOT EXISTS current (
  key             TEXT    PRIMARY KEY,
  revision        INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  value           TEXT    NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT    PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

export type MetaName =
  /** Reads and watches below this revision fail with CompactedError. */
  | 'compact_revision'
  /** Log rows up to here have been compacted; lags compact_revision while a compaction runs. */
  | 'compacted_through';

/** Opens (creating if missing) the database at `path`, owned exclusively by this process. */
export function openDatabase(path: string): Db {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: 1000 });
  try {
    // Must precede the first table: only an empty file can switch auto_vacuum without VACUUM.
    db.pragma('auto_vacuum = INCREMENTAL');
    // Exclusive before WAL: no shared-memory index file, and a second process cannot open
    // the file behind our back (our revision counter and watchers assume one writer).
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: commits survive a process crash; only an OS crash or power loss can
    // roll back the last commits (never corrupt the file).
    db.pragma('synchronous = NORMAL');
    // Truncate the WAL back to this size after checkpoints instead of keeping its peak.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    db.pragma('temp_store = MEMORY');
    db.exec(TABLES); // the first write takes the exclusive lock
  } catch (err) {
    db.close();
    if (isBusy(err)) throw new DatastoreLockedError(path);
    throw err;
  }
  return db;
}

export function readMeta(db: Db, name: MetaName): number {
  const row = db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: number } | undefined;
  return row?.value ?? 0;
}

export function writeMeta(db: Db, name: MetaName, value: number): void {
  db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value')
    .run(name, value);
}

/** The newest revision ever handed out (survives compaction deleting the newest rows). */
export function readLastRevision(db: Db): number {
  const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'log'").get() as { seq: number } | undefined;
  return row?.seq ?? 0;
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
