// Ingress status for Skiff's built-in Ingress controller: every Ingress of class `skiff`
// (src/ingress/class.ts decides which) gets status.loadBalancer.ingress = the Ready
// nodes' InternalIPs, since the Ingress proxy listens on every node. That is the ADDRESS
// column of `kubectl get ingress` (in k3s, Traefik copies its LoadBalancer Service's
// addresses, which ServiceLB sets to the nodes' IPs: the same result). Ingresses of other
// classes are left alone.
import type { KObject } from '../../api/object.ts';
import { jsonEqual, obj, objs } from '../../api/kinds/access.ts';
import type { Informer } from '../../client/informer.ts';
import { isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { classSelector, isOurs } from '../../ingress/class.ts';
import { logSyncError, type Controller, type ControllerContext } from '../types.ts';
import { ReadyNodeAddresses } from '../servicelb/addresses.ts';

const key = (o: KObject) => `${o.metadata.namespace}/${o.metadata.name}`;

export class IngressStatusController implements Controller {
  readonly name = 'ingress-status';
  #queue?: WorkQueue;
  #ingresses?: Informer;
  #classes?: Informer;
  #nodes?: Informer;
  #api?: ResourceInterface;
  readonly #addresses = new ReadyNodeAddresses();
  readonly #unsubscribe: (() => void)[] = [];

  start(ctx: ControllerContext): void {
    this.#api = ctx.api.resource('networking.k8s.io', 'v1', 'ingresses');
    const ingresses = this.#ingresses = ctx.informers.informer('networking.k8s.io', 'v1', 'ingresses');
    const classes = this.#classes = ctx.informers.informer('networking.k8s.io', 'v1', 'ingressclasses');
    const nodes = this.#nodes = ctx.informers.informer('', 'v1', 'nodes');
    const queue = this.#queue = new WorkQueue((k) => this.sync(k), { onError: logSyncError(ctx.log, 'ingress status sync failed', 'ingress') });
    const all = () => { for (const k of ingresses.keys()) queue.add(k); };
    const addresses = this.#addresses;
    this.#unsubscribe.push(
      ingresses.addEventHandler({ onAdd: (i) => queue.add(key(i)), onUpdate: (_o, i) => queue.add(key(i)) }),
      // A class becoming (or ceasing to be) the default changes which Ingresses are ours.
      classes.addEventHandler({ onAdd: all, onUpdate: all, onDelete: all }),
      // Heartbeats change nothing; only readiness or address changes requeue.
      nodes.addEventHandler({
        onAdd: (n) => { if (addresses.update(n)) all(); },
        onUpdate: (_o, n) => { if (addresses.update(n)) all(); },
        onDelete: (n) => { if (addresses.remove(n)) all(); },
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

  async sync(k: string): Promise<void> {
    const ing = this.#ingresses!.get(k);
    if (!ing || ing.metadata.deletionTimestamp) return;
    if (!isOurs(ing, classSelector(this.#classes!.list()))) return;
    const ips = this.#addresses.ips;
    const want = ips.map((ip) => ({ ip }));
    const current = objs(obj(obj(ing.status).loadBalancer).ingress);
    if (jsonEqual(current, want)) return;
    const next = structuredClone(ing);
    next.status = { ...obj(next.status), loadBalancer: want.length ? { ingress: want } : {} };
    try {
      await this.#api!.updateStatus(next, { fieldManager: 'skiff-ingress-controller' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
