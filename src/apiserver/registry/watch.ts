// Watch: a resource's changes as Kubernetes watch events, from a resourceVersion or
// starting with the current state, filtered by selectors (an object that stops matching
// is reported DELETED, one that starts matching ADDED, as the API server does).
import type { KObject } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import { storageKey } from '../../api/scheme.ts';
import type { WatchEvent, Watcher } from '../../store/types.ts';
import { CompactedError } from '../../store/types.ts';
import { gone, type Status } from '../errors.ts';
import { decode } from './codec.ts';
import type { ListQuery, Registry } from './registry.ts';
import { parseRV } from './registry.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface ApiWatchEvent { type: WatchEventType; object: KObject | Status }

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

/**
 * Starts a watch and calls `emit` for each event. Events are delivered asynchronously,
 * in revision order. Throws ApiError(410) synchronously-ish (rejected promise) only for
 * malformed input; an expired resourceVersion becomes an ERROR event, as Kubernetes sends it.
 */
export async function startWatch(
  registry: Registry, r: ResourceInfo, ns: string | undefined, q: WatchQuery,
  emit: (ev: ApiWatchEvent) => void, onEnd: () => void,
): Promise<ApiWatcher> {
  const prefix = storageKey(r, ns);
  const matches = (o: KObject): boolean =>
    (q.name === undefined || o.metadata.name === q.name) &&
    (!q.labelSelector || q.labelSelector(o.metadata.labels)) &&
    (!q.fieldFilter || q.fieldFilter(o));

  const rv = q.resourceVersion;
  const initial = q.sendInitialEvents ?? (!rv || rv === '0');
  let from: number;
  if (initial) {
    const list = await registry.list(r, ns, { labelSelector: q.labelSelector, fieldFilter: q.fieldFilter, name: q.name });
    from = Number(list.resourceVersion);
    for (const item of list.items) emit({ type: 'ADDED', object: item });
    if (q.sendInitialEvents) {
      emit({ type: 'BOOKMARK', object: bookmark(r, from, true) });
    }
  } else {
    from = parseRV(rv!);
  }

  let watcher: Watcher | undefined;
  try {
    watcher = registry.store.watch(prefix, from, {
      onEvent: (ev) => {
        const out = translate(ev, matches);
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
  if (ev.type === 'create') return matches(obj) ? { type: 'ADDED', object: obj } : undefined;
  if (ev.type === 'delete') return matches(obj) ? { type: 'DELETED', object: obj } : undefined;
  const now = matches(obj);
  const before = ev.prev ? matches(decode(ev.prev)) : false;
  if (now && before) return { type: 'MODIFIED', object: obj };
  if (now) return { type: 'ADDED', object: obj };
  if (before) return { type: 'DELETED', object: obj };
  return undefined;
}

export function bookmark(r: ResourceInfo, revision: number, initialEventsEnd = false): KObject {
  const metadata: KObject['metadata'] = { resourceVersion: String(revision) };
  if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  return { kind: r.kind, apiVersion: r.group ? `${r.group}/${r.version}` : r.version, metadata };
}
