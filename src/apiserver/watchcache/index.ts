// One ResourceCache per resource, made on first use. A cache whose store watch ended is
// replaced by a fresh one on the next request.
import type { ResourceInfo } from '../../api/scheme.ts';
import { groupVersion } from '../../api/scheme.ts';
import type { Store } from '../../store/types.ts';
import { ResourceCache } from './resource-cache.ts';

export type { CachedObject, CacheFilter, CacheEventType } from './resource-cache.ts';
export { ResourceCache } from './resource-cache.ts';

const cacheId = (r: ResourceInfo) => `${groupVersion(r)}/${r.resource}`;

export class WatchCache {
  readonly #store: Store;
  readonly #caches = new Map<string, ResourceCache>();
  #stopped = false;

  constructor(store: Store) {
    this.#store = store;
  }

  async for(r: ResourceInfo): Promise<ResourceCache> {
    const id = cacheId(r);
    let cache = this.#caches.get(id);
    if (!cache || cache.failed) {
      if (this.#stopped) throw new Error('watch cache stopped');
      cache = new ResourceCache(this.#store, r);
      this.#caches.set(id, cache);
    }
    await cache.ready();
    return cache;
  }

  /** The resource's cache if it is already following the store; never starts one. */
  peek(r: ResourceInfo): ResourceCache | undefined {
    const cache = this.#caches.get(cacheId(r));
    return cache?.following ? cache : undefined;
  }

  stop(): void {
    this.#stopped = true;
    for (const c of this.#caches.values()) c.stop();
    this.#caches.clear();
  }
}
