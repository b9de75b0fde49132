// Log compaction in small transactions. A row is history once a newer row for its key
// exists at or below the compact revision; that newer row names it in prev_revision.
// So compacting (through, target] only has to look at the rows written in that range:
// delete the rows they supersede, and delete the tombstones in the range themselves.
// Work per run is proportional to the writes since the last run, not to the table size.
import type { Db } from './schema.ts';
import { readMeta, writeMeta } from './schema.ts';

export interface CompactionOptions {
  /** Revisions per transaction; keeps each pause of the single writer short. */
  batchRevisions?: number;
  /** Pages freed per incremental_vacuum step. */
  vacuumPages?: number;
  /** Called between batches; the default yields to the event loop. */
  yieldBetweenBatches?: () => Promise<void>;
  /** Stop early (e.g. the store is closing); progress so far is kept. */
  shouldStop?: () => boolean;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class LogCompactor {
  readonly #db: Db;
  readonly #batch: number;
  readonly #vacuumPages: number;
  readonly #yield: () => Promise<void>;
  readonly #shouldStop: () => boolean;
  readonly #deleteSuperseded;
  readonly #deleteTombstones;

  constructor(db: Db, opts: CompactionOptions = {}) {
    this.#db = db;
    this.#batch = opts.batchRevisions ?? 1000;
    this.#vacuumPages = opts.vacuumPages ?? 512;
    this.#yield = opts.yieldBetweenBatches ?? yieldToEventLoop;
    this.#shouldStop = opts.shouldStop ?? (() => false);
    this.#deleteSuperseded = db.prepare(`
      DELETE FROM log WHERE revision IN (
        SELECT prev_revision FROM log WHERE revision > ? AND revision <= ? AND prev_revision > 0)`);
    this.#deleteTombstones = db.prepare('DELETE FROM log WHERE revision > ? AND revision <= ? AND deleted = 1');
  }

  /** Compacts up to the recorded compact_revision, resuming where a previous run stopped. */
  async run(): Promise<void> {
    const step = this.#db.transaction((from: number, to: number) => {
      this.#deleteSuperseded.run(from, to);
      this.#deleteTombstones.run(from, to);
      writeMeta(this.#db, 'compacted_through', to);
    });
    let through = readMeta(this.#db, 'compacted_through');
    while (!this.#shouldStop()) {
      const target = readMeta(this.#db, 'compact_revision');
      if (through >= target) break;
      const to = Math.min(through + this.#batch, target);
      step(through, to);
      through = to;
      await this.#yield();
    }
    if (this.#shouldStop()) return;
    await this.#shrink();
    if (!this.#shouldStop()) checkpoint(this.#db);
  }

  /** Gives freed pages back to the file system when a good share of the file is free. */
  async #shrink(): Promise<void> {
    const pages = this.#db.pragma('page_count', { simple: true }) as number;
    let free = this.#db.pragma('freelist_count', { simple: true }) as number;
    if (free < 256 || free * 4 < pages) return;
    while (free > 0 && !this.#shouldStop()) {
      this.#db.pragma(`incremental_vacuum(${this.#vacuumPages})`);
      free = this.#db.pragma('freelist_count', { simple: true }) as number;
      await this.#yield();
    }
  }
}

/** Copies the WAL into the main file and truncates it, so the WAL cannot grow without bound. */
export function checkpoint(db: Db): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
}
