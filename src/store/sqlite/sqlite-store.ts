// The embedded store: a revisioned key-value store on one SQLite file, owned by this
// process. better-sqlite3 is synchronous: reads do their work before returning their
// promise; writes are queued in call order and committed together at the end of the
// event-loop turn (group commit), and watch can replay history and join the live stream
// in the same tick with nothing written in between.
import { join } from 'node:path';
import type { Statement, Transaction } from 'better-sqlite3';
import {
  CompactedError, KeyExistsError, KeyNotFoundError, RevisionConflictError,
} from '../types.ts';
import type {
  KeyValue, ListOptions, ListResult, Store, WatchEvent, WatchHandlers, Watcher,
} from '../types.ts';
import { checkpoint, LogCompactor } from './compaction.ts';
import type { CompactionOptions } from './compaction.ts';
import { Compactor } from './compactor.ts';
import type { CompactorOptions } from './compactor.ts';
import { FutureRevisionError, StoreClosedError } from './errors.ts';
import { prefixEnd, rangeStart } from './key-range.ts';
import { openDatabase, readLastRevision, readMeta, writeMeta } from './schema.ts';
import type { Db } from './schema.ts';
import { WatchHub } from './watch-hub.ts';
import type { WatchHubOptions } from './watch-hub.ts';

export interface SqliteStoreOptions {
  /** The database lives at `<dataDir>/db/state.db`. */
  dataDir: string;
  watch?: WatchHubOptions;
  compaction?: Pick<CompactionOptions, 'batchRevisions' | 'vacuumPages'>;
}

/** A write's stored value and the watch event it publishes once committed. */
interface WriteResult { kv: KeyValue; event: () => WatchEvent }
interface PendingWrite { op: () => WriteResult; resolve: (kv: KeyValue) => void; reject: (err: unknown) => void }

interface CurrentRow { key: string; revision: number; create_revision: number; value: string }
interface LogEventRow {
  revision: number; key: string; create_revision: number; deleted: number; value: string;
  prev_revision: number | null; prev_create_revision: number | null; prev_value: string | null;
}

export function databasePath(dataDir: string): string {
  return join(dataDir, 'db', 'state.db');
}

export class SqliteStore implements Store {
  readonly path: string;
  readonly #db: Db;
  readonly #hub: WatchHub;
  readonly #logCompactor: LogCompactor;
  /** Newest revision handed out; kept in memory because compaction may delete its row. */
  #revision: number;
  #compactRevision: number;
  #compaction: Promise<void> = Promise.resolve();
  #compactor: Compactor | undefined;
  #closed = false;
  #pending: PendingWrite[] = [];
  readonly #inTransaction: Transaction<(fn: () => void) => void>;
  /** Prepared statements, keyed by their SQL (range queries come in bounded/unbounded forms). */
  readonly #statements = new Map<string, Statement>();

  static async open(opts: SqliteStoreOptions): Promise<SqliteStore> {
    return new SqliteStore(opts);
  }

  constructor(opts: SqliteStoreOptions) {
    this.path = databasePath(opts.dataDir);
    this.#db = openDatabase(this.path);
    this.#revision = readLastRevision(this.#db);
    this.#compactRevision = readMeta(this.#db, 'compact_revision');
    this.#inTransaction = this.#db.transaction((fn: () => void) => fn());
    this.#hub = new WatchHub({
      readEvents: (prefix, after, upTo, limit) => this.#readEvents(prefix, after, upTo, limit),
      compactRevision: () => this.#compactRevision,
    }, opts.watch);
    this.#logCompactor = new LogCompactor(this.#db, { ...opts.compaction, shouldStop: () => this.#closed });
    // A compaction cut short by a crash or close resumes now; if it fails, the next compact() retries.
    if (readMeta(this.#db, 'compacted_through') < this.#compactRevision) this.#runCompaction().catch(() => {});
  }

  async currentRevision(): Promise<number> {
    this.#assertOpen();
    return this.#revision;
  }

  async compactRevision(): Promise<number> {
    this.#assertOpen();
    return this.#compactRevision;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.#assertOpen();
    return this.#getCurrent(key);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#assertOpen();
    const revision = opts.revision || this.#revision;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const start = rangeStart(prefix, opts.startKey);
    const end = prefixEnd(prefix);
    const past = revision !== this.#revision;
    if (past) this.#checkReadable(revision);

    const bounds = end === undefined ? [start] : [start, end];
    const rows = (past
      ? this.#stmt(pastRangeSql('SELECT key, revision, create_revision, value', end, 'ORDER BY key LIMIT ?'))
        .all(...bounds, revision, revision, limit > 0 ? limit + 1 : -1)
      : this.#stmt(currentRangeSql('SELECT key, revision, create_revision, value', end, 'ORDER BY key LIMIT ?'))
        .all(...bounds, limit > 0 ? limit + 1 : -1)) as CurrentRow[];

    const more = limit > 0 && rows.length > limit;
    if (more) rows.length = limit;
    let remaining = 0;
    if (more) {
      const { n } = (past
        ? this.#stmt(pastRangeSql('SELECT COUNT(*) AS n', end, '')).get(...bounds, revision, revision)
        : this.#stmt(currentRangeSql('SELECT COUNT(*) AS n', end, '')).get(...bounds)) as { n: number };
      remaining = n - rows.length;
    }
    return { items: rows.map(toKeyValue), revision, more, remaining };
  }

  async count(prefix: string): Promise<number> {
    this.#assertOpen();
    const end = prefixEnd(prefix);
    const bounds = end === undefined ? [prefix] : [prefix, end];
    const { n } = this.#stmt(currentRangeSql('SELECT COUNT(*) AS n', end, '')).get(...bounds) as { n: number };
    return n;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.#assertOpen();
    return this.#write(() => {
      if (this.#getCurrent(key)) throw new KeyExistsError(key);
      const revision = this.#revision + 1;
      this.#appendLog(revision, key, revision, 0, false, value);
      this.#stmt('INSERT INTO current (key, revision, create_revision, value) VALUES (?, ?, ?, ?)')
        .run(key, revision, revision, value);
      const kv = { key, value, modRevision: revision, createRevision: revision };
      return { kv, event: () => ({ type: 'create', kv: frozen(kv) }) };
    });
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    this.#assertOpen();
    return this.#write(() => {
      const prev = this.#getCurrent(key);
      if (!prev) throw new KeyNotFoundError(key);
      if (prev.modRevision !== expectedRevision) throw new RevisionConflictError(key, prev);
      const revision = this.#revision + 1;
      this.#appendLog(revision, key, prev.createRevision, prev.modRevision, false, value);
      this.#stmt('UPDATE current SET revision = ?, value = ? WHERE key = ?').run(revision, value, key);
      const kv = { key, value, modRevision: revision, createRevision: prev.createRevision };
      return { kv, event: () => ({ type: 'update', kv: frozen(kv), prev: frozen(prev) }) };
    });
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    this.#assertOpen();
    return this.#write(() => {
      const prev = this.#getCurrent(key);
      if (!prev) throw new KeyNotFoundError(key);
      if (expectedRevision !== undefined && prev.modRevision !== expectedRevision) {
        throw new RevisionConflictError(key, prev);
      }
      const revision = this.#revision + 1;
      this.#appendLog(revision, key, prev.createRevision, prev.modRevision, true, prev.value);
      this.#stmt('DELETE FROM current WHERE key = ?').run(key);
      const kv = { ...prev, modRevision: revision };
      return { kv, event: () => ({ type: 'delete', kv: frozen(kv), prev: frozen(prev) }) };
    });
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    this.#assertOpen();
    if (fromRevision < this.#compactRevision) throw new CompactedError(fromRevision, this.#compactRevision);
    return this.#hub.subscribe(prefix, fromRevision, this.#revision, handlers);
  }

  /**
   * Records `revision` as the compact revision at once (reads and watches below it fail from
   * now on), then deletes the history in small batches in the background of this promise.
   */
  async compact(revision: number): Promise<void> {
    this.#assertOpen();
    if (revision > this.#revision) throw new FutureRevisionError(revision, this.#revision);
    if (revision > this.#compactRevision) {
      writeMeta(this.#db, 'compact_revision', revision);
      this.#compactRevision = revision;
    }
    await this.#runCompaction();
  }

  /** Starts compacting every `intervalMs` to `currentRevision - keepRevisions`; close() stops it. */
  startCompactor(opts: CompactorOptions = {}): Compactor {
    this.#assertOpen();
    this.#compactor?.stop();
    this.#compactor = new Compactor(this, opts).start();
    return this.#compactor;
  }

  get watcherCount(): number {
    return this.#hub.watcherCount;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush(); // acknowledge what was already asked for
    this.#closed = true;
    this.#compactor?.stop();
    this.#hub.closeAll(new StoreClosedError());
    await this.#compaction; // stops at its next batch boundary
    checkpoint(this.#db);
    this.#db.close();
  }

  #runCompaction(): Promise<void> {
    // Runs are chained: one compaction at a time, each picking up the newest target.
    const run = this.#compaction.then(() => this.#logCompactor.run());
    this.#compaction = run.catch(() => {});
    return run;
  }

  /**
   * Group commit: writes arriving in the same turn of the event loop are committed in one
   * transaction (a write whose check fails fails alone; an SQLite error fails the batch),
   * then published in revision order, then acknowledged. Nothing is acknowledged before commit.
   */
  #write(op: () => WriteResult): Promise<KeyValue> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ op, resolve, reject });
      if (this.#pending.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#pending;
    if (!batch.length) return;
    this.#pending = [];
    const start = this.#revision;
    const outcomes: (WriteResult | Error)[] = [];
    try {
      this.#inTransaction.immediate(() => {
        for (const w of batch) {
          try {
            const result = w.op();
            this.#revision = result.kv.modRevision;
            outcomes.push(result);
          } catch (err) {
            // A failed check (exists, not found, conflict) comes before a write's first
            // statement: it fails alone. Anything else may have written half of it, so the
            // whole batch rolls back (no savepoint per write: they cost more than the write).
            if (!isCheckFailure(err)) throw err;
            outcomes.push(err as Error);
          }
        }
      });
    } catch (err) {
      this.#revision = start; // the whole batch rolled back
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof Error) { w.reject(outcome); return; }
      this.#hub.publish(outcome.kv.key, outcome.event);
      w.resolve({ ...outcome.kv });
    });
    if (this.#revision > start) this.#hub.progress(this.#revision);
  }

  #appendLog(revision: number, key: string, createRevision: number, prevRevision: number, deleted: boolean, value: string): void {
    this.#stmt('INSERT INTO log (revision, key, create_revision, prev_revision, deleted, value) VALUES (?, ?, ?, ?, ?, ?)')
      .run(revision, key, createRevision, prevRevision, deleted ? 1 : 0, value);
  }

  #getCurrent(key: string): KeyValue | undefined {
    const row = this.#stmt('SELECT key, revision, create_revision, value FROM current WHERE key = ?').get(key) as CurrentRow | undefined;
    return row && toKeyValue(row);
  }

  #checkReadable(revision: number): void {
    if (revision > this.#revision) throw new FutureRevisionError(revision, this.#revision);
    if (revision < this.#compactRevision) throw new CompactedError(revision, this.#compactRevision);
  }

  #readEvents(prefix: string, after: number, upTo: number, limit: number): WatchEvent[] {
    const end = prefixEnd(prefix);
    // `+l.key` keeps the planner on the revision range (the primary key) instead of the key
    // index: a replay reads a stretch of recent history, not a prefix's whole history.
    const sql = `
      SELECT l.revision, l.key, l.create_revision, l.deleted, l.value,
             p.revision AS prev_revision, p.create_revision AS prev_create_revision, p.value AS prev_value
      FROM log l LEFT JOIN log p ON p.revision = l.prev_revision
      WHERE l.revision > ? AND l.revision <= ? AND +l.key >= ? ${end === undefined ? '' : 'AND +l.key < ?'}
      ORDER BY l.revision LIMIT ?`;
    const params = end === undefined ? [after, upTo, prefix, limit] : [after, upTo, prefix, end, limit];
    return (this.#stmt(sql).all(...params) as LogEventRow[]).map(toWatchEvent);
  }

  #stmt(sql: string): Statement {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }
}

/** The errors a write's checks raise before it writes anything. */
function isCheckFailure(err: unknown): boolean {
  return err instanceof KeyExistsError || err instanceof KeyNotFoundError || err instanceof RevisionConflictError;
}

/** Current values with keys in [start, end). */
function currentRangeSql(select: string, end: string | undefined, tail: string): string {
  return `${select} FROM current WHERE key >= ? ${end === undefined ? '' : 'AND key < ?'} ${tail}`;
}

/**
 * Values as of a past revision: per key, the newest log row at or below it, unless that
 * row is a delete. Parameters: start, [end], revision, revision.
 * Pinned to the (key, revision) index so rows stream in key order and LIMIT stops early.
 */
function pastRangeSql(select: string, end: string | undefined, tail: string): string {
  return `${select} FROM log l INDEXED BY log_key_revision
    WHERE l.key >= ? ${end === undefined ? '' : 'AND l.key < ?'} AND l.revision <= ? AND l.deleted = 0
      AND NOT EXISTS (SELECT 1 FROM log n WHERE n.key = l.key AND n.revision > l.revision AND n.revision <= ?)
    ${tail}`;
}

function toKeyValue(row: CurrentRow): KeyValue {
  return { key: row.key, value: row.value, modRevision: row.revision, createRevision: row.create_revision };
}

function toWatchEvent(row: LogEventRow): WatchEvent {
  const kv = frozen({ key: row.key, value: row.value, modRevision: row.revision, createRevision: row.create_revision });
  const prev = row.prev_revision === null ? undefined : frozen({
    key: row.key, value: row.prev_value!, modRevision: row.prev_revision, createRevision: row.prev_create_revision!,
  });
  if (row.deleted) return { type: 'delete', kv, prev };
  if (row.create_revision === row.revision) return { type: 'create', kv };
  return { type: 'update', kv, prev };
}

/** Events are shared by every watcher that receives them; freezing keeps one from changing another's. */
function frozen(kv: KeyValue): KeyValue {
  return Object.freeze({ ...kv });
}
