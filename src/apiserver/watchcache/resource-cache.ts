// The watch cache of one resource: every current object, decoded once, plus a window of
// recent events, fed by a single store watch. Watches and unpaginated lists are served
// from here, so N watchers cost one store watcher, one JSON.parse and one JSON.stringify
// per change instead of N of each (the Kubernetes API server's cacher, in small).
//
// Cached objects are shared by every reader, in-process watchers (the controllers'
// informers) included, so they are frozen: a reader that changes one throws instead of
// changing it for everyone.
import { deepFreeze, type KObject } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import { storageKey } from '../../api/scheme.ts';
import type { KeyValue, Store, WatchEvent, Watcher } from '../../store/types.ts';
import { decode } from '../registry/codec.ts';

export interface CachedObject {
  readonly key: string;
  readonly obj: KObject;
  readonly revision: number;
  /** The object's JSON, made on first use and shared by every writer of it. */
  json(): string;
}

export type CacheEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEvent {
  type: CacheEventType;
  revision: number;
  cur: CachedObject;
  prev?: CachedObject;
}

export interface CacheFilter {
  /** Key prefix: the resource's prefix, or a namespace within it. */
  prefix: string;
  matches(obj: KObject): boolean;
}

export interface CacheWatchHandlers {
  onEvent(type: CacheEventType, obj: CachedObject): void;
  onEnd(reason: 'closed' | 'too-old' | 'error'): void;
}

/**
 * What a filtered watcher sees of a change (as the API server reports it): an object that
 * stops matching is DELETED for it, one that starts matching ADDED, and a delete is seen
 * only if the last state matched. `now` is false for deletes; `before` is the last state's
 * match for deletes and false for creates.
 */
export function filteredEventType(type: CacheEventType, now: boolean, before: boolean): CacheEventType | undefined {
  if (type === 'DELETED') return before ? 'DELETED' : undefined;
  if (now) return before ? 'MODIFIED' : 'ADDED';
  return before ? 'DELETED' : undefined;
}

/** How many recent events a watch may resume from without going to the store. */
const DEFAULT_WINDOW = 4096;

function cached(kv: KeyValue): CachedObject {
  const obj = deepFreeze(decode(kv));
  let text: string | undefined;
  return { key: kv.key, obj, revision: kv.modRevision, json: () => (text ??= JSON.stringify(obj)) };
}

/** Puts `key` into the sorted `keys` where it belongs. */
function insertSorted(keys: string[], key: string): void {
  const i = lowerBound(keys, key);
  if (keys[i] !== key) keys.splice(i, 0, key);
}

function removeSorted(keys: string[], key: string): void {
  const i = lowerBound(keys, key);
  if (keys[i] === key) keys.splice(i, 1);
}

/** The first index whose key is not below `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface CacheWatcher { filter: CacheFilter; handlers: CacheWatchHandlers; from: number }

export class ResourceCache {
  readonly resource: ResourceInfo;
  readonly #store: Store;
  readonly #objects = new Map<string, CachedObject>();
  /** The keys of #objects by namespace ('' for cluster-scoped resources), for lists. */
  readonly #byNamespace = new Map<string, Set<string>>();
  /**
   * Sorted keys, per namespace and of all objects ('*'): made by the first list that needs
   * them, then kept in order as keys come and go (a binary search and a splice each, where
   * sorting 150,000 keys again for each list would block the server for ~100 ms).
   */
  readonly #sorted = new Map<string, string[]>();
  readonly #root: string;
  readonly #window: CacheEvent[] = [];
  readonly #windowSize: number;
  readonly #watchers = new Set<CacheWatcher>();
  readonly #waiting: { revision: number; resolve: () => void }[] = [];
  #revision = 0;
  /** Events older than this revision are no longer in the window. */
  #oldest = 0;
  #storeWatcher?: Watcher;
  #ready?: Promise<void>;
  #started = false;
  #failed = false;

  constructor(store: Store, resource: ResourceInfo, opts: { windowSize?: number } = {}) {
    this.#store = store;
    this.resource = resource;
    this.#windowSize = opts.windowSize ?? DEFAULT_WINDOW;
    this.#root = storageKey(resource, undefined);
  }

  /** Lists once and starts following the store; later calls share the first. */
  ready(): Promise<void> {
    return (this.#ready ??= this.#start());
  }

  get revision(): number { return this.#revision; }
  get failed(): boolean { return this.#failed; }
  /** Listed and following the store (and not failed since). */
  get following(): boolean { return this.#started && !this.#failed; }

  /** The cached object at a storage key, if any (may lag the store by a few events). */
  get(key: string): CachedObject | undefined {
    return this.#objects.get(key);
  }

  async #start(): Promise<void> {
    const prefix = storageKey(this.resource, undefined);
    const snapshot = await this.#store.list(prefix);
    for (const kv of snapshot.items) this.#set(kv.key, cached(kv));
    this.#revision = snapshot.revision;
    this.#oldest = snapshot.revision;
    this.#storeWatcher = this.#store.watch(prefix, snapshot.revision, {
      onEvent: (ev) => this.#apply(ev),
      onError: () => this.#fail(),
      // Writes to other resources move the store's revision too: without this, a
      // consistent read would wait for a write to this resource that may never come.
      onProgress: (revision) => this.#advance(revision),
    });
    this.#started = true;
  }

  #apply(ev: WatchEvent): void {
    const cur = cached(ev.kv);
    const prev = this.#objects.get(ev.kv.key);
    if (ev.type === 'delete') this.#delete(ev.kv.key);
    else this.#set(ev.kv.key, cur);
    const event: CacheEvent = { type: ev.type === 'create' ? 'ADDED' : ev.type === 'delete' ? 'DELETED' : 'MODIFIED', revision: ev.kv.modRevision, cur, prev };
    this.#window.push(event);
    if (this.#window.length > this.#windowSize) {
      const dropped = this.#window.shift()!;
      this.#oldest = dropped.revision;
    }
    for (const w of this.#watchers) this.#deliver(w, event);
    this.#advance(ev.kv.modRevision);
  }

  #advance(revision: number): void {
    if (revision > this.#revision) this.#revision = revision;
    while (this.#waiting.length && this.#waiting[0].revision <= this.#revision) this.#waiting.shift()!.resolve();
  }

  /** The store watch ended: every watcher ends; the next reader starts a fresh cache. */
  #fail(): void {
    this.#failed = true;
    for (const w of this.#watchers) w.handlers.onEnd('error');
    this.#watchers.clear();
    for (const w of this.#waiting.splice(0)) w.resolve();
  }

  /** False when the watcher's handler threw: that watcher alone ends (with 'error'), the others go on. */
  #deliver(w: CacheWatcher, ev: CacheEvent): boolean {
    if (ev.revision <= w.from || !ev.cur.key.startsWith(w.filter.prefix)) return true;
    const now = ev.type !== 'DELETED' && w.filter.matches(ev.cur.obj);
    const before = ev.type === 'ADDED' ? false : ev.type === 'DELETED' ? w.filter.matches(ev.cur.obj) : ev.prev ? w.filter.matches(ev.prev.obj) : false;
    const type = filteredEventType(ev.type, now, before);
    if (!type) return true;
    try {
      w.handlers.onEvent(type, ev.cur);
      return true;
    } catch {
      // E.g. an in-process handler writing to a (frozen) shared object.
      this.#watchers.delete(w);
      w.handlers.onEnd('error');
      return false;
    }
  }

  /** Resolves once the cache has seen `revision` (a consistent read after a write). */
  waitFor(revision: number): Promise<void> {
    if (this.#revision >= revision || this.#failed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiting.push({ revision, resolve });
      this.#waiting.sort((a, b) => a.revision - b.revision);
    });
  }

  #namespaceOf(key: string): string {
    if (!this.resource.namespaced) return '';
    const end = key.indexOf('/', this.#root.length);
    return end < 0 ? '' : key.slice(this.#root.length, end);
  }

  #set(key: string, c: CachedObject): void {
    if (!this.#objects.has(key)) {
      const ns = this.#namespaceOf(key);
      let keys = this.#byNamespace.get(ns);
      if (!keys) this.#byNamespace.set(ns, (keys = new Set()));
      keys.add(key);
      for (const sorted of [this.#sorted.get(ns), this.#sorted.get('*')]) if (sorted) insertSorted(sorted, key);
    }
    this.#objects.set(key, c);
  }

  #delete(key: string): void {
    if (!this.#objects.delete(key)) return;
    const ns = this.#namespaceOf(key);
    const keys = this.#byNamespace.get(ns);
    keys?.delete(key);
    if (keys?.size === 0) { this.#byNamespace.delete(ns); this.#sorted.delete(ns); }
    for (const sorted of [this.#sorted.get(ns), this.#sorted.get('*')]) if (sorted) removeSorted(sorted, key);
  }

  /** The sorted keys a prefix covers when it is a whole namespace or everything; else undefined. */
  #sortedKeys(prefix: string): string[] | undefined {
    let which: string;
    if (prefix === this.#root) which = '*';
    else if (this.resource.namespaced && prefix.endsWith('/') && prefix.startsWith(this.#root) && prefix.indexOf('/', this.#root.length) === prefix.length - 1) which = prefix.slice(this.#root.length, -1);
    else return undefined;
    let sorted = this.#sorted.get(which);
    if (!sorted) {
      sorted = which === '*' ? [...this.#objects.keys()] : [...(this.#byNamespace.get(which) ?? [])];
      this.#sorted.set(which, sorted.sort());
    }
    return sorted;
  }

  /**
   * Current objects under a prefix that match, sorted by key (as the store lists them). A
   * namespace's objects are found through the namespace index, not by scanning all.
   */
  list(filter: CacheFilter): CachedObject[] {
    return this.page(filter, 0).items;
  }

  /**
   * The first `limit` of list() (0: all), and when more keys follow: the key after the
   * last item (where the next page starts) and, if `countRest`, how many keys follow.
   */
  page(filter: CacheFilter, limit: number, countRest = false): { items: CachedObject[]; next?: string; rest?: number } {
    const items: CachedObject[] = [];
    const keys = this.#sortedKeys(filter.prefix);
    if (keys) {
      for (let i = 0; i < keys.length; i++) {
        const c = this.#objects.get(keys[i]!)!;
        if (!filter.matches(c.obj)) continue;
        items.push(c);
        if (items.length === limit && i < keys.length - 1) return { items, next: keys[i + 1], rest: countRest ? keys.length - 1 - i : undefined };
      }
      return { items };
    }
    for (const c of this.#objects.values()) {
      if (c.key.startsWith(filter.prefix) && filter.matches(c.obj)) items.push(c);
    }
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (!limit || items.length <= limit) return { items };
    return { items: items.slice(0, limit), next: items[limit]!.key, rest: countRest ? items.length - limit : undefined };
  }

  /** Whether a watch from `revision` can be served from the window. */
  canResumeFrom(revision: number): boolean {
    return revision >= this.#oldest;
  }

  /**
   * Events after `from` (from the window, then live). The caller checks
   * canResumeFrom first; a watcher that falls out of the window ends with 'too-old'.
   */
  watch(filter: CacheFilter, from: number, handlers: CacheWatchHandlers): { close(): void } {
    const w: CacheWatcher = { filter, handlers, from };
    if (!this.canResumeFrom(from)) {
      queueMicrotask(() => handlers.onEnd('too-old'));
      return { close() {} };
    }
    for (const ev of this.#window) if (!this.#deliver(w, ev)) return { close() {} };
    this.#watchers.add(w);
    return { close: () => { this.#watchers.delete(w); } };
  }

  get watcherCount(): number { return this.#watchers.size; }

  stop(): void {
    this.#started = false;
    this.#storeWatcher?.close();
    for (const w of this.#watchers) w.handlers.onEnd('closed');
    this.#watchers.clear();
  }
}
