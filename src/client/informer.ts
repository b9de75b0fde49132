// An informer: a reflector feeding an indexed cache, and event handlers told about each
// change after the cache has it. Handlers run synchronously, in event order; one that
// throws is logged and the others still run.
//
// Objects in the cache (and those passed to handlers) are shared by every user of the
// informer: treat them as read-only, and copy (structuredClone) before changing one.
import { deepFreeze, type KObject } from '../api/object.ts';
import type { Logger } from '../util/log.ts';
import { createLogger } from '../util/log.ts';
import { IndexedCache, objectKey, type Indexers } from './cache.ts';
import { Reflector, type ReflectorSink } from './reflector.ts';
import type { BackoffOptions, Timers } from './timers.ts';
import type { ResourceInterface } from './types.ts';

export interface EventHandlers {
  onAdd?(obj: KObject): void;
  onUpdate?(oldObj: KObject, newObj: KObject): void;
  /** After a relist, the object is the last state the cache held (client-go wraps it in DeletedFinalStateUnknown). */
  onDelete?(obj: KObject): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Indexers;
  timers?: Timers;
  backoff?: BackoffOptions;
  pageSize?: number;
  log?: Logger;
  /** For logs, e.g. "pods". */
  name?: string;
  /** Deep-freeze cached objects, so a handler that mutates one throws (for tests). */
  freeze?: boolean;
}

export class Informer {
  readonly #cache: IndexedCache;
  readonly #reflector: Reflector;
  readonly #handlers = new Set<EventHandlers>();
  readonly #log: Logger;
  readonly #freeze: boolean;
  #synced = false;
  #stopped = false;
  #syncWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(resource: ResourceInterface, opts: InformerOptions = {}) {
    this.#cache = new IndexedCache(opts.indexers);
    this.#log = opts.log ?? createLogger({ component: `informer/${opts.name ?? 'resource'}` });
    this.#freeze = opts.freeze ?? false;
    const sink: ReflectorSink = {
      replace: (items) => this.#replace(items),
      apply: (type, obj) => (type === 'DELETED' ? this.#deleted(obj) : this.#upsert(obj)),
    };
    this.#reflector = new Reflector({
      resource, sink, namespace: opts.namespace, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector,
      timers: opts.timers, backoff: opts.backoff, pageSize: opts.pageSize, log: this.#log, name: opts.name,
    });
  }

  /**
   * Registers handlers; objects already cached are replayed to them as adds first, so a
   * late subscriber sees the same world as an early one. Returns an unsubscribe function.
   */
  addEventHandler(handlers: EventHandlers): () => void {
    this.#handlers.add(handlers);
    if (handlers.onAdd) for (const obj of this.#cache.list()) this.#call('onAdd', () => handlers.onAdd!(obj));
    return () => { this.#handlers.delete(handlers); };
  }

  addIndexers(indexers: Indexers): void {
    this.#cache.addIndexers(indexers);
  }

  hasIndexer(name: string): boolean {
    return this.#cache.hasIndexer(name);
  }

  start(): void {
    this.#reflector.start();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reflector.stop();
    for (const w of this.#syncWaiters) w.reject(new Error('informer stopped before it synced'));
    this.#syncWaiters = [];
  }

  /** True once the first list is in the cache and its adds have been delivered. */
  hasSynced(): boolean {
    return this.#synced;
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    if (this.#stopped) return Promise.reject(new Error('informer stopped before it synced'));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.#syncWaiters.push(waiter);
      signal?.addEventListener('abort', () => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== waiter);
        reject(signal.reason instanceof Error ? signal.reason : new Error('waitForSync aborted'));
      }, { once: true });
    });
  }

  /** The resourceVersion the cache reflects. */
  get lastSyncResourceVersion(): string {
    return this.#reflector.lastResourceVersion;
  }

  /** By `namespace/name` (or `name` for cluster-scoped objects). */
  get(key: string): KObject | undefined {
    return this.#cache.get(key);
  }

  getByName(namespace: string | undefined, name: string): KObject | undefined {
    return this.#cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): KObject[] {
    return this.#cache.list();
  }

  keys(): string[] {
    return this.#cache.keys();
  }

  byIndex(indexName: string, value: string): KObject[] {
    return this.#cache.byIndex(indexName, value);
  }

  indexKeys(indexName: string, value: string): string[] {
    return this.#cache.indexKeys(indexName, value);
  }

  // ---- the sink ----------------------------------------------------------------------

  /** A relist: adds, updates and deletes that turn the old cache into the new list. */
  #replace(items: KObject[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(objectKey(obj));
      this.#upsert(obj, true);
    }
    for (const key of this.#cache.keys()) {
      if (seen.has(key)) continue;
      const old = this.#cache.delete(key)!;
      this.#emit('onDelete', (h) => h.onDelete?.(old));
    }
    if (!this.#synced) {
      this.#synced = true;
      for (const w of this.#syncWaiters) w.resolve();
      this.#syncWaiters = [];
    }
  }

  #upsert(input: KObject, fromList = false): void {
    const obj = this.#freeze ? deepFreeze(input) : input;
    const key = objectKey(obj);
    const old = this.#cache.get(key);
    if (old && old.metadata.uid && obj.metadata.uid && old.metadata.uid !== obj.metadata.uid) {
      // Same name, new object (deleted and recreated while we were not watching).
      this.#cache.delete(key);
      this.#emit('onDelete', (h) => h.onDelete?.(old));
      this.#cache.set(obj);
      this.#emit('onAdd', (h) => h.onAdd?.(obj));
      return;
    }
    // A relist that finds an object unchanged says nothing new about it.
    if (fromList && old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.#cache.set(obj);
    if (old) this.#emit('onUpdate', (h) => h.onUpdate?.(old, obj));
    else this.#emit('onAdd', (h) => h.onAdd?.(obj));
  }

  #deleted(obj: KObject): void {
    const old = this.#cache.delete(objectKey(obj));
    if (!old) return; // never had it: nothing for handlers to forget
    const last = this.#freeze ? deepFreeze(obj) : obj;
    this.#emit('onDelete', (h) => h.onDelete?.(last));
  }

  #emit(kind: keyof EventHandlers, call: (h: EventHandlers) => void): void {
    // A snapshot: a handler may subscribe or unsubscribe others while we are here.
    for (const h of [...this.#handlers]) this.#call(kind, () => call(h));
  }

  #call(kind: keyof EventHandlers, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error('event handler failed', { handler: kind, error: (err as Error)?.stack ?? String(err) });
    }
  }
}

