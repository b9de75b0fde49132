// One informer per resource (and namespace and selectors), shared by every controller
// that asks, so N controllers watching pods cost one list and one watch.
import { lookupKind, parseApiVersion } from '../api/scheme.ts';
import type { Logger } from '../util/log.ts';
import type { Indexers } from './cache.ts';
import { Informer, type InformerOptions } from './informer.ts';
import type { ApiClient } from './types.ts';

export interface InformerRequest {
  /** Overrides the factory's namespace; '' means all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Added to the shared informer; a name already taken by another function throws. */
  indexers?: Indexers;
}

export interface SharedInformerFactoryOptions extends Pick<InformerOptions, 'timers' | 'backoff' | 'pageSize' | 'freeze'> {
  /** Default namespace for every informer (undefined: all namespaces). */
  namespace?: string;
  log?: Logger;
}

export class SharedInformerFactory {
  readonly #client: ApiClient;
  readonly #opts: SharedInformerFactoryOptions;
  readonly #informers = new Map<string, Informer>();
  #started = false;

  constructor(client: ApiClient, opts: SharedInformerFactoryOptions = {}) {
    this.#client = client;
    this.#opts = opts;
  }

  /** The shared informer for a resource ("", "v1", "pods"). Started at once if the factory is. */
  informer(group: string, version: string, resource: string, req: InformerRequest = {}): Informer {
    const namespace = (req.namespace ?? this.#opts.namespace) || undefined;
    const key = JSON.stringify([group, version, resource, namespace ?? '', req.labelSelector ?? '', req.fieldSelector ?? '']);
    let informer = this.#informers.get(key);
    if (!informer) {
      const { log, namespace: _ns, ...shared } = this.#opts;
      informer = new Informer(this.#client.resource(group, version, resource), {
        ...shared, namespace, labelSelector: req.labelSelector, fieldSelector: req.fieldSelector,
        name: resource, log: log?.child(resource),
      });
      this.#informers.set(key, informer);
      if (this.#started) informer.start();
    }
    if (req.indexers) informer.addIndexers(req.indexers);
    return informer;
  }

  /** The same, by apiVersion and kind ("apps/v1", "Deployment"). */
  forKind(apiVersion: string, kind: string, req: InformerRequest = {}): Informer {
    const { group, version } = parseApiVersion(apiVersion);
    const r = lookupKind(group, version, kind);
    if (!r) throw new Error(`no resource for ${apiVersion} ${kind}`);
    return this.informer(group, version, r.resource, req);
  }

  start(): void {
    this.#started = true;
    for (const informer of this.#informers.values()) informer.start();
  }

  /** Resolves when every informer handed out so far has synced. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.waitForSync(signal)));
  }

  stop(): void {
    for (const informer of this.#informers.values()) informer.stop();
  }
}
