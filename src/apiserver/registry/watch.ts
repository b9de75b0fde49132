// Watch: a resource's changes as Kubernetes watch events, from a resourceVersion or
// starting with the current state, filtered by selectors (an object that stops matching
// is reported DELETED, one that starts matching ADDED, as the API server does).
// Served from the watch cache; a resourceVersion older than the cache's window is
// followed from the store's history instead, and one older than that answers 410.
import type { KObject } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import { storageKey } from '../../api/scheme.ts';
import type { WatchEvent, Watcher } from '../../store/types.ts';
import { CompactedError } from '../../store/types.ts';
import { gone, type Status } from '../errors.ts';
import type { CachedObject, CacheFilter } from '../watchcache/index.ts';
import { filteredEventType } from '../watchcache/resource-cache.ts';
import { decode } from './codec.ts';
import type { ListQuery, Registry } from './registry.ts';
import { parseRV } from './registry.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface ApiWatchEvent {
  type: WatchEventType;
  object: KObject | Status;
  /** The object's JSON when it is already made (shared by all watchers). */
  json?: () => string;
}

export interface WatchQuery extends Pick<ListQuery, 'labelSelector' | 'fieldFilter' | 'name'> {
  resourceVersion?: string;
  /** Explicit sendInitialEvents (watch-list); undefined means Kubernetes' legacy defaults. */
  sendInitialEvents?: boolean;
}

export interface ApiWatcher {
  /** The revision the watch started after (bookmarks may report it). */
  readonly startRevision: number;
  close(): void;
}

export function cacheFilter(r: ResourceInfo, ns: string | undefined, q: Pick<ListQuery, 'labelSelector' | 'fieldFilter' | 'name'>): CacheFilter {
  return {
    prefix: storageKey(r, ns),
    matches: (o: KObject): boolean =>
      (q.name === undefined || o.metadata.name === q.name) &&
      (!q.labelSelector || q.labelSelector(o.metadata.labels)) &&
      (!q.fieldFilter || q.fieldFilter(o)),
  };
}

const asEvent = (type: WatchEventType, c: CachedObject): ApiWatchEvent => ({ type, object: c.obj, json: c.json });

/**
 * Starts a watch and calls `emit` for each event, in revision order. An expired
 * resourceVersion becomes an ERROR event (410), as Kubernetes sends it.
 */
export async function startWatch(
  registry: Registry, r: ResourceInfo, ns: string | undefined, q: WatchQuery,
  emit: (ev: ApiWatchEvent) => void, onEnd: () => void,
): Promise<ApiWatcher> {
  if (r.conversion) {
    // Watch the storage version and convert each event's object to the served version.
    const c = r.conversion;
    const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    return startWatch(registry, c.storage, ns, q, (ev) => {
      if (ev.type === 'ERROR') emit(ev);
      else if (ev.type === 'BOOKMARK') emit({ type: ev.type, object: { ...(ev.object as KObject), apiVersion } });
      else emit({ type: ev.type, object: c.fromStorage(ev.object as KObject) });
    }, onEnd);
  }
  const filter = cacheFilter(r, ns, q);
  const cache = await registry.watchCache.for(r);
  const rv = q.resourceVersion;
  const initial = q.sendInitialEvents ?? (!rv || rv === '0');
  const handlers = {
    onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', c: CachedObject) => emit(asEvent(type, c)),
    onEnd: () => onEnd(),
  };
  if (initial) {
    // Without a resourceVersion the initial state must include every acknowledged write.
    if (!rv) await cache.waitFor(await registry.store.currentRevision());
    const from = cache.revision;
    for (const c of cache.list(filter)) emit(asEvent('ADDED', c));
    if (q.sendInitialEvents) emit({ type: 'BOOKMARK', object: bookmark(r, from, true) });
    const w = cache.watch(filter, from, handlers);
    return { startRevision: from, close: () => w.close() };
  }
  const from = parseRV(rv!);
  if (cache.canResumeFrom(from)) {
    const w = cache.watch(filter, from, handlers);
    return { startRevision: from, close: () => w.close() };
  }
  return watchStore(registry, r, ns, filter, from, emit, onEnd);
}

/** Follows the store's own history, for resourceVersions older than the cache window. */
function watchStore(
  registry: Registry, r: ResourceInfo, ns: string | undefined, filter: CacheFilter, from: number,
  emit: (ev: ApiWatchEvent) => void, onEnd: () => void,
): ApiWatcher {
  let watcher: Watcher | undefined;
  try {
    watcher = registry.store.watch(storageKey(r, ns), from, {
      onEvent: (ev) => {
        const out = translate(ev, filter.matches);
        if (out) emit(out);
      },
      onError: () => onEnd(),
    });
  } catch (err) {
    if (err instanceof CompactedError) {
      emit({ type: 'ERROR', object: gone(`too old resource version: ${from} (${err.compacted})`).toStatus() });
      setImmediate(onEnd); // after the caller has written the response head
      return { startRevision: from, close() {} };
    }
    throw err;
  }
  return { startRevision: from, close: () => watcher?.close() };
}

function translate(ev: WatchEvent, matches: (o: KObject) => boolean): ApiWatchEvent | undefined {
  const obj = decode(ev.kv);
  const type = ev.type === 'create' ? 'ADDED' : ev.type === 'delete' ? 'DELETED' : 'MODIFIED';
  const now = type !== 'DELETED' && matches(obj);
  const before = type === 'DELETED' ? matches(obj) : type === 'MODIFIED' && ev.prev ? matches(decode(ev.prev)) : false;
  const seen = filteredEventType(type, now, before);
  return seen && { type: seen, object: obj };
}

export function bookmark(r: ResourceInfo, revision: number, initialEventsEnd = false): KObject {
  const metadata: KObject['metadata'] = { resourceVersion: String(revision) };
  if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  return { kind: r.kind, apiVersion: r.group ? `${r.group}/${r.version}` : r.version, metadata };
}
