// The ServiceAccount controller: every namespace has a `default` ServiceAccount (pods use
// it unless they name another). Created when a namespace appears, recreated when deleted;
// namespaces being deleted are skipped.
import type { KObject } from '../../api/object.ts';
import type { Informer } from '../../client/informer.ts';
import { isAlreadyExists, isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { logSyncError, type Controller, type ControllerContext } from '../types.ts';

export const DEFAULT_SERVICE_ACCOUNT = 'default';

export interface ServiceAccountControllerOptions {
  /** Accounts every namespace gets; Kubernetes' default is just `default`. */
  names?: string[];
}

export class ServiceAccountController implements Controller {
  readonly name = 'serviceaccount';
  readonly #names: string[];
  #ctx?: ControllerContext;
  #queue?: WorkQueue;
  #namespaces?: Informer;
  #accounts?: Informer;
  #api?: ResourceInterface;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(opts: ServiceAccountControllerOptions = {}) {
    this.#names = opts.names ?? [DEFAULT_SERVICE_ACCOUNT];
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#api = ctx.api.resource('', 'v1', 'serviceaccounts');
    const namespaces = this.#namespaces = ctx.informers.informer('', 'v1', 'namespaces');
    const accounts = this.#accounts = ctx.informers.informer('', 'v1', 'serviceaccounts');
    const queue = this.#queue = new WorkQueue((ns) => this.sync(ns), {
      onError: logSyncError(ctx.log, 'serviceaccount sync failed', 'namespace'),
    });
    this.#unsubscribe.push(
      namespaces.addEventHandler({
        onAdd: (ns) => queue.add(ns.metadata.name!),
        onUpdate: (_old, ns) => queue.add(ns.metadata.name!),
      }),
      accounts.addEventHandler({
        onDelete: (sa) => { if (this.#names.includes(sa.metadata.name!)) queue.add(sa.metadata.namespace!); },
      }),
    );
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#queue?.stop();
  }

  get idle(): boolean {
    return this.#queue?.idle ?? true;
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.#namespaces!.get(namespace);
    if (!ns || terminating(ns)) return;
    for (const name of this.#names) {
      if (this.#accounts!.getByName(namespace, name)) continue;
      try {
        await this.#api!.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } }, { fieldManager: 'service-account-controller' });
      } catch (err) {
        if (isAlreadyExists(err)) continue; // our cache is behind
        // The namespace went away or started terminating meanwhile.
        if (isNotFound(err) || (err as { code?: number }).code === 403) continue;
        this.#ctx!.recorder('service-account-controller').event(ns, 'Warning', 'FailedCreate', `failed to create ServiceAccount ${name}: ${(err as Error).message}`);
        throw err;
      }
    }
  }
}

function terminating(ns: KObject): boolean {
  return Boolean(ns.metadata.deletionTimestamp) || (ns.status as { phase?: string } | undefined)?.phase === 'Terminating';
}
