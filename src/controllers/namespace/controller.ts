// Namespace deletion: once a namespace has a deletionTimestamp, delete everything in it,
// then remove the "kubernetes" finalizer from spec.finalizers so the namespace itself goes.
import { logSyncError } from '../types.ts';
import type { KObject } from '../../api/object.ts';
import { STORED_RESOURCES, lookupResource } from '../../api/scheme.ts';
import type { Registry } from '../../apiserver/registry/registry.ts';
import { startWatch, type ApiWatcher } from '../../apiserver/registry/watch.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { Logger } from '../../util/log.ts';

const NAMESPACES = lookupResource('', 'v1', 'namespaces')!;
export const NAMESPACE_FINALIZER = 'kubernetes';
const RECHECK_MS = 1000;

export class NamespaceController {
  readonly #registry: Registry;
  readonly #log: Logger;
  readonly #queue: WorkQueue;
  #watcher?: ApiWatcher;

  constructor(registry: Registry, log: Logger) {
    this.#registry = registry;
    this.#log = log;
    this.#queue = new WorkQueue((name) => this.sync(name), { onError: logSyncError(log, 'namespace sync failed', 'namespace') });
  }

  async start(): Promise<void> {
    this.#watcher = await startWatch(this.#registry, NAMESPACES, undefined, {}, (ev) => {
      const ns = ev.object as KObject;
      if (ev.type !== 'DELETED' && ns.metadata?.deletionTimestamp) this.#queue.add(ns.metadata.name!);
    }, () => this.#log.warn('namespace watch ended'));
  }

  stop(): void {
    this.#watcher?.close();
    this.#queue.stop();
  }

  get idle(): boolean { return this.#queue.idle; }

  async sync(name: string): Promise<void> {
    const ns = await this.#registry.tryGet(NAMESPACES, undefined, name);
    if (!ns?.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const r of STORED_RESOURCES) {
      if (!r.namespaced || !r.verbs.includes('delete')) continue;
      const { items } = await this.#registry.list(r, name);
      for (const item of items) {
        if (item.metadata.deletionTimestamp) { remaining++; continue; }
        try {
          const { pending } = await this.#registry.delete(r, name, item.metadata.name!, { propagationPolicy: 'Background' });
          if (pending) remaining++;
        } catch (err) {
          if ((err as { code?: number }).code !== 404) throw err;
        }
      }
    }
    if (remaining > 0) {
      // Deletions may be waiting on finalizers or grace periods: look again shortly.
      this.#queue.addAfter(name, RECHECK_MS);
      return;
    }
    await this.#registry.guaranteedUpdate(NAMESPACES, undefined, name, (obj) => {
      const spec = (obj.spec ?? {}) as { finalizers?: string[] };
      spec.finalizers = (spec.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER);
      obj.spec = spec;
      return obj;
    }, { subresource: 'finalize', fieldManager: 'skiff-namespace-controller' });
  }
}
