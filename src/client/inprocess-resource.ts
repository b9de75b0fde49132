// ResourceInterface over the registry, for components inside the server: the same
// contract as the HTTP client (string selectors, patches, ClientError), no HTTP. Given an
// identity, each call is authorized as that user first (see inprocess-auth.ts).
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
import { auditInProcess, authorizeInProcess, inProcessRequest, type InProcessIdentity } from './inprocess-auth.ts';
import type {
  ApiClient, DeleteOptions, DeleteResult, ListOptions, ListResult, PatchOptions, PatchType,
  ResourceInterface, WatchEvent, WatchHandle, WatchOptions, WriteOptions,
} from './types.ts';

export class InProcessApi implements ApiClient {
  /** Without an identity, requests are not authorized (the server's own start-up writes, tests). */
  constructor(readonly registry: Registry, readonly manager = 'skiff', readonly identity?: InProcessIdentity) {}

  resource(group: string, version: string, resource: string): InProcessResource {
    const r = lookupResource(group, version, resource);
    if (!r) throw new Error(`no resource ${resource} in ${group || 'core'}/${version}`);
    return new InProcessResource(this.registry, r, this.manager, this.identity);
  }
}

export class InProcessResource implements ResourceInterface {
  constructor(readonly registry: Registry, readonly info: ResourceInfo, readonly manager: string, readonly identity?: InProcessIdentity) {}

  /** Audited and authorized as the identity (a no-op without one), then run. */
  #call<T>(verb: string, ns: string | undefined, name: string | undefined, subresource: string | undefined, run: () => Promise<T>): Promise<T> {
    return wrap(() => inProcessRequest(this.identity, verb, this.info, ns, name, subresource, run));
  }

  get(ns: string | undefined, name: string): Promise<KObject> {
    return this.#call('get', ns, name, '', () => this.registry.get(this.info, ns, name));
  }

  tryGet(ns: string | undefined, name: string): Promise<KObject | undefined> {
    return this.#call('get', ns, name, '', () => this.registry.tryGet(this.info, ns, name));
  }

  list(ns: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    return wrap(async () => {
      const selectors = this.#selectors(opts);
      return inProcessRequest(this.identity, 'list', this.info, ns, selectors.name, '', async () => {
        const res = await this.registry.list(this.info, ns, {
          ...selectors, limit: opts.limit, continue: opts.continue || undefined,
          resourceVersion: opts.continue ? undefined : opts.resourceVersion,
        });
        return { items: res.items, resourceVersion: res.resourceVersion, ...(res.continue ? { continue: res.continue } : {}) };
      });
    });
  }

  create(obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    const ns = obj.metadata?.namespace;
    return this.#call('create', ns, obj.metadata?.name, '', () => this.registry.create(this.info, ns, obj, this.#write(opts)));
  }

  update(obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    const ns = obj.metadata?.namespace;
    return wrap(async () => { const name = nameOf(obj); return this.#call('update', ns, name, '', () => this.registry.update(this.info, ns, name, obj, this.#write(opts))); });
  }

  updateStatus(obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    const ns = obj.metadata?.namespace;
    return wrap(async () => { const name = nameOf(obj); return this.#call('update', ns, name, 'status', () => this.registry.update(this.info, ns, name, obj, { ...this.#write(opts), subresource: 'status' })); });
  }

  patch(ns: string | undefined, name: string, type: PatchType, body: unknown, opts: PatchOptions = {}): Promise<KObject> {
    return this.#call('patch', ns, name, opts.subresource, () => this.#patch(ns, name, type, body, opts));
  }

  delete(ns: string | undefined, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    return this.#call('delete', ns, name, '', () => this.registry.delete(this.info, ns, name, { ...opts, user: this.identity?.user }));
  }

  async watch(ns: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void = () => {}): Promise<WatchHandle> {
    let closed = false;
    const selectors = await wrap(async () => this.#selectors(opts));
    // A watch is authorized (and audited) once, when it starts; its events are not.
    const record = auditInProcess(this.identity, 'watch', this.info, ns, selectors.name, '', true);
    try {
      await wrap(() => authorizeInProcess(this.identity, 'watch', this.info, ns, selectors.name));
    } catch (err) {
      record?.complete((err as ClientError).code ?? 500);
      throw err;
    }
    record?.started();
    let audited = false;
    const finish = () => { if (!audited) { audited = true; record?.complete(200); } };
    const watcher = await wrap(() => startWatch(this.registry, this.info, ns, { ...selectors, resourceVersion: opts.resourceVersion || undefined }, (ev) => {
      if (closed) return;
      // The watch cache's own (frozen) object, shared with every other watcher: a copy per
      // watcher cost a JSON.parse per event each, and the memory of one more copy of
      // every object per informer (150,000 pods: gigabytes).
      onEvent(ev.type === 'ERROR' ? { type: 'ERROR', object: ev.object as Status } : { type: ev.type, object: ev.object as KObject });
    }, () => {
      finish();
      if (closed) return;
      closed = true;
      onEnd();
    }).catch((err) => { finish(); throw err; }));
    return { close: () => { closed = true; finish(); watcher.close(); } };
  }

  #selectors(opts: { labelSelector?: string; fieldSelector?: string }) {
    const q = new URLSearchParams();
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    return selectorQuery(this.info, q);
  }

  #write(opts: WriteOptions): RegistryWriteOptions {
    return { fieldManager: this.manager, ...opts, ...(this.identity ? { user: this.identity.user } : {}) };
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
