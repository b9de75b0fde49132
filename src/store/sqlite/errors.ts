// Errors specific to the embedded store; the shared ones live in ../types.ts.
import { StoreError } from '../types.ts';

/** A read or compaction asked for a revision the store has not reached yet. */
export class FutureRevisionError extends StoreError {
  constructor(readonly requested: number, readonly current: number) {
    super(`revision ${requested} is in the future (current: ${current})`);
  }
}

/** The store was closed; also what open watchers receive when it closes under them. */
export class StoreClosedError extends StoreError {
  constructor() { super('store is closed'); }
}

/** Another process holds the database file; one process must own it. */
export class DatastoreLockedError extends StoreError {
  constructor(readonly path: string) { super(`datastore ${path} is in use by another process`); }
}
