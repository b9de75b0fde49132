// The in-process client: components inside the server (controllers, later the scheduler)
// talk to the registry directly, skipping HTTP but not validation, admission or watch.
import type { KObject } from '../api/object.ts';
import type { ResourceInfo } from '../api/scheme.ts';
import { lookupKind, lookupResource, parseApiVersion } from '../api/scheme.ts';
import type { DeleteOptions, ListQuery, ListResult, Registry, WriteOptions } from '../apiserver/registry/registry.ts';
import { startWatch, type ApiWatchEvent, type ApiWatcher, type WatchQuery } from '../apiserver/registry/watch.ts';
import { InProcessApi } from './inprocess-resource.ts';

export class ResourceClient {
  constructor(readonly registry: Registry, readonly resource: ResourceInfo, readonly manager: string) {}

  get(ns: string | undefined, name: string): Promise<KObject> {
    return this.registry.get(this.resource, ns, name);
  }
  tryGet(ns: string | undefined, name: string): Promise<KObject | undefined> {
    return this.registry.tryGet(this.resource, ns, name);
  }
  list(ns?: string, q: ListQuery = {}): Promise<ListResult> {
    return this.registry.list(this.resource, ns, q);
  }
  create(obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    return this.registry.create(this.resource, obj.metadata.namespace, obj, { fieldManager: this.manager, ...opts });
  }
  update(obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    return this.registry.update(this.resource, obj.metadata.namespace, obj.metadata.name!, obj, { fieldManager: this.manager, ...opts });
  }
  /** Read-modify-write with conflict retries. */
  mutate(ns: string | undefined, name: string, fn: (obj: KObject) => KObject, opts: WriteOptions = {}): Promise<KObject> {
    return this.registry.guaranteedUpdate(this.resource, ns, name, fn, { fieldManager: this.manager, ...opts });
  }
  delete(ns: string | undefined, name: string, opts: DeleteOptions = {}) {
    return this.registry.delete(this.resource, ns, name, opts);
  }
  watch(ns: string | undefined, q: WatchQuery, onEvent: (ev: ApiWatchEvent) => void, onEnd: () => void = () => {}): Promise<ApiWatcher> {
    return startWatch(this.registry, this.resource, ns, q, onEvent, onEnd);
  }
}

export class InProcessClient {
  constructor(readonly registry: Registry, readonly manager = 'skiff') {}

  /** By apiVersion and kind ("apps/v1", "Deployment"). */
  kind(apiVersion: string, kind: string): ResourceClient {
    const { group, version } = parseApiVersion(apiVersion);
    const r = lookupKind(group, version, kind);
    if (!r) throw new Error(`no resource for ${apiVersion} ${kind}`);
    return new ResourceClient(this.registry, r, this.manager);
  }

  /** By group, version and plural resource ("", "v1", "pods"). */
  resource(group: string, version: string, resource: string): ResourceClient {
    const r = lookupResource(group, version, resource);
    if (!r) throw new Error(`no resource ${resource} in ${group || 'core'}/${version}`);
    return new ResourceClient(this.registry, r, this.manager);
  }

  /** The shared client contract (ResourceInterface, string selectors, ClientError), for informers. */
  api(): InProcessApi {
    return new InProcessApi(this.registry, this.manager);
  }
}
