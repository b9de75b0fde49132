// The revisioned key-value store: what etcd is to Kubernetes.
// Every write gets the next global revision; objects carry it as metadata.resourceVersion.
// Implementations: sqlite/ (embedded default) and etcd/.

/** One stored value at one revision. `value` is the object's JSON text. */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that produced this value (the object's resourceVersion). */
  modRevision: number;
  /** Revision at which the key was created. */
  createRevision: number;
}

export type WatchEventType = 'create' | 'update' | 'delete';

export interface WatchEvent {
  type: WatchEventType;
  /**
   * For create/update: the new value. For delete: the last value the key held,
   * with modRevision set to the revision of the delete.
   */
  kv: KeyValue;
  /** The value before this event (update and delete only). */
  prev?: KeyValue;
}

export interface ListOptions {
  /** Read as of this revision (0 or absent: the current revision). */
  revision?: number;
  /** At most this many items (0 or absent: all). */
  limit?: number;
  /** Start listing at this key (inclusive); used for continue tokens. */
  startKey?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** True when `limit` cut the list short. */
  more: boolean;
  /** How many keys follow the returned page (when `more`). */
  remaining: number;
}

export interface Watcher {
  close(): void;
}

export interface WatchHandlers {
  /** Called for each event with revision > fromRevision, in revision order, exactly once. */
  onEvent(event: WatchEvent): void;
  /** Called once if the watch ends for a reason other than close(). */
  onError?(err: Error): void;
  /**
   * Progress notification (etcd's progress_notify): every event up to `revision`, for
   * any key, has been delivered. Lets a cache of one prefix know it is current even
   * when the newest writes were to other prefixes.
   */
  onProgress?(revision: number): void;
}

export interface Store {
  /** The revision of the newest write (0 on an empty store). */
  currentRevision(): Promise<number>;
  /** The oldest revision that list and watch can still be asked for. */
  compactRevision(): Promise<number>;

  get(key: string): Promise<KeyValue | undefined>;
  /** Keys with this prefix, sorted by key. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Count of keys with this prefix at the current revision. */
  count(prefix: string): Promise<number>;

  /** Fails with KeyExistsError if the key exists. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Fails with KeyNotFoundError, or RevisionConflictError if the key's modRevision is not `expectedRevision`. */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;
  /**
   * Deletes the key; with expectedRevision, only if it still holds that revision.
   * Returns the last value with modRevision = the delete's revision.
   */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;

  /**
   * Events under `prefix` with revision > fromRevision, then live ones.
   * Fails with CompactedError if fromRevision < compactRevision().
   */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher;

  /** Forget history older than `revision` (current values always stay). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

export class StoreError extends Error {}
export class KeyExistsError extends StoreError {
  constructor(readonly key: string) { super(`key exists: ${key}`); }
}
export class KeyNotFoundError extends StoreError {
  constructor(readonly key: string) { super(`key not found: ${key}`); }
}
export class RevisionConflictError extends StoreError {
  constructor(readonly key: string, readonly current: KeyValue | undefined) {
    super(`revision conflict on ${key}`);
  }
}
export class CompactedError extends StoreError {
  constructor(readonly requested: number, readonly compacted: number) {
    super(`revision ${requested} has been compacted (oldest available: ${compacted})`);
  }
}

/** Drivers register themselves (see STYLE.md, k3s drivers.go). */
export type StoreFactory = (opts: { dataDir: string; endpoint?: string; tls?: DatastoreTls }) => Promise<Store>;

/** Client TLS for an external datastore (k3s's --datastore-cafile/-certfile/-keyfile). */
export interface DatastoreTls { caFile?: string; certFile?: string; keyFile?: string }
