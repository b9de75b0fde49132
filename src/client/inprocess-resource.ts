// ResourceInterface over the registry, for components inside the server: the same
// contract as the HTTP client (string selectors, patches, ClientError), no HTTP.
import type { KObject } from '../api/object.ts';
import type { ResourceInfo } from '../api/scheme.ts';
import { lookupResource } from '../api/scheme.ts';
import { ApiError } from '../apiserver/errors.ts';
import { selectorQuery } from '../apiserver/handlers/query.ts';
import { patchObject } from '../apiserver/registry/patch.ts';
import type { Registry, WriteOptions as RegistryWriteOptions } from '../apiserver/registry/registry.ts';
import { startWatch } from '../apiserver/registry/watch.ts';
import type { Status } from '../apiserver/errors.ts';
import { ClientError } from './types.ts';
import type {
  ApiClient, DeleteOptions, DeleteResult, ListOptions, ListResult, PatchOptions, PatchType,
  ResourceInterface, WatchEvent, WatchHandle, WatchOptions, WriteOptions,
} from './types.ts';

export class InProcessApi implements ApiClient {
  constructor(readonly registry: Registry, readonly manager = 'skiff') {}

  resource(group: string, version: string, resource: string): InProcessResource {
    const r = lookupResource(group, version, resource);
    if (!r) throw new Error(`no resource ${resource} in ${group || 'core'}/${version}`);
    return new InProcessResource(this.registry, r, this.manager);
  }
}

export class InProcessResource implements ResourceInterface {
  constructor(readonly registry: Registry, readonly info: ResourceInfo, readonly manager: string) {}

  get(ns: string | undefined, name: string): Promise<KObject> {
    return wrap(() => this.registry.get(this.info, ns, name));
  }

  tryGet(ns: string | undefined, name: string): Promise<KObject | undefined> {
    return wrap(() => this.registry.tryGet(this.info, ns, name));
  }

  list(ns: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    return wrap(async () => {
      const res = await this.registry.list(this.info, ns, {
        ...this.#selectors(opts), limit: opts.limit, continue: opts.continue || undefined,
        resourceVersion: opts.continue ? undefined : opts.resourceVersion,
      });
      return { items: res.items, resourceVersion: res.resourceVersion, ...(res.continue ? { continue: res.continue } : {}) };
    });
  }

  create(obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    return wrap(() => this.registry.create(this.info, obj.metadata?.namespace, obj, this.#write(opts)));
  }

  update(obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    return wrap(() => this.registry.update(this.info, obj.metadata?.namespace, nameOf(obj), obj, this.#write(opts)));
  }

  updateStatus(obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    return wrap(() => this.registry.update(this.info, obj.metadata?.namespace, nameOf(obj), obj, { ...this.#write(opts), subresource: 'status' }));
  }

  patch(ns: string | undefined, name: string, type: PatchType, body: unknown, opts: PatchOptions = {}): Promise<KObject> {
    return wrap(() => this.#patch(ns, name, type, body, opts));
  }

  delete(ns: string | undefined, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    return wrap(() => this.registry.delete(this.info, ns, name, opts));
  }

  async watch(ns: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void = () => {}): Promise<WatchHandle> {
    let closed = false;
    const watcher = await wrap(() => startWatch(this.registry, this.info, ns, { ...this.#selectors(opts), resourceVersion: opts.resourceVersion || undefined }, (ev) => {
      if (closed) return;
      // Watch-cache objects are shared by every watcher: hand out copies, as HTTP would.
      // Parsing the JSON the cache shares with HTTP watchers is about twice as fast as
      // structuredClone, and the objects are plain JSON either way.
      onEvent(ev.type === 'ERROR'
        ? { type: 'ERROR', object: ev.object as Status }
        : { type: ev.type, object: (ev.json ? JSON.parse(ev.json()) : structuredClone(ev.object)) as KObject });
    }, () => {
      if (closed) return;
      closed = true;
      onEnd();
    }));
    return { close: () => { closed = true; watcher.close(); } };
  }

  #selectors(opts: { labelSelector?: string; fieldSelector?: string }) {
    const q = new URLSearchParams();
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    return selectorQuery(this.info, q);
  }

  #write(opts: WriteOptions): RegistryWriteOptions {
    return { fieldManager: this.manager, ...opts };
  }

  async #patch(ns: string | undefined, name: string, type: PatchType, body: unknown, opts: PatchOptions): Promise<KObject> {
    const { force, subresource, ...write } = opts;
    return (await patchObject(this.registry, this.info, ns, name, type, body, { ...this.#write(write), subresource, force })).obj;
  }
}

function nameOf(obj: KObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new ClientError(400, 'BadRequest', 'an update needs metadata.name');
  return name;
}


/** Registry errors become ClientError, so callers catch one class whichever client they use. */
async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw ClientError.fromStatus(err.toStatus(), err.code);
    throw err;
  }
}
