// ServiceLB (k3s's built-in LoadBalancer, without its svclb DaemonSets): every Service of
// type LoadBalancer without a spec.loadBalancerClass gets status.loadBalancer.ingress =
// the Ready nodes' InternalIPs (ipMode VIP); the agents' service proxies (src/proxy) send
// traffic for those addresses on the Service ports to the endpoints. A Service whose
// port/protocol another LoadBalancer Service already holds stays pending, with a Warning
// event, until the port is free (admission.ts). A Service that stops being a
// LoadBalancer has its address cleared.
import type { KObject } from '../../api/object.ts';
import { jsonEqual, obj, objs } from '../../api/kinds/access.ts';
import type { Informer } from '../../client/informer.ts';
import { isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { EventRecorder } from '../events.ts';
import { logSyncError, type Controller, type ControllerContext } from '../types.ts';
import { ReadyNodeAddresses } from './addresses.ts';
import { admitLoadBalancers, isOurLoadBalancer } from './admission.ts';

const key = (o: KObject) => `${o.metadata.namespace}/${o.metadata.name}`;

/** What decides the addresses: type, class, ports (not status, so our own writes are quiet). */
function lbShape(svc: KObject): string {
  const spec = obj(svc.spec);
  return JSON.stringify([spec.type, spec.loadBalancerClass, objs(spec.ports).map((p) => [p.port, p.protocol]), Boolean(svc.metadata.deletionTimestamp)]);
}

export class ServiceLBController implements Controller {
  readonly name = 'service-lb';
  #queue?: WorkQueue;
  #services?: Informer;
  #nodes?: Informer;
  #api?: ResourceInterface;
  #recorder?: EventRecorder;
  readonly #addresses = new ReadyNodeAddresses();
  /** Service key → the conflict it was last warned about (one event per new conflict). */
  readonly #warned = new Map<string, string>();
  readonly #unsubscribe: (() => void)[] = [];

  start(ctx: ControllerContext): void {
    this.#api = ctx.api.resource('', 'v1', 'services');
    this.#recorder = ctx.recorder('service-lb-controller');
    const services = this.#services = ctx.informers.informer('', 'v1', 'services');
    const nodes = this.#nodes = ctx.informers.informer('', 'v1', 'nodes');
    const queue = this.#queue = new WorkQueue((k) => this.sync(k), { onError: logSyncError(ctx.log, 'service-lb sync failed', 'service') });
    // A LoadBalancer coming, going or changing ports can block or free another one.
    const all = () => { for (const svc of services.list()) if (isOurLoadBalancer(svc)) queue.add(key(svc)); };
    const addresses = this.#addresses;
    this.#unsubscribe.push(
      services.addEventHandler({
        onAdd: (svc) => { queue.add(key(svc)); if (isOurLoadBalancer(svc)) all(); },
        onUpdate: (old, svc) => {
          queue.add(key(svc));
          if (lbShape(old) !== lbShape(svc)) all();
        },
        onDelete: (svc) => { this.#warned.delete(key(svc)); if (isOurLoadBalancer(svc)) all(); },
      }),
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
    const svc = this.#services!.get(k);
    if (!svc) return;
    const spec = obj(svc.spec);
    const current = objs(obj(obj(svc.status).loadBalancer).ingress);
    let want: Record<string, unknown>[];
    if (spec.type !== 'LoadBalancer') {
      // No longer a LoadBalancer: it has no load balancer address.
      if (current.length === 0) return;
      want = [];
    } else if (!isOurLoadBalancer(svc)) {
      return; // another implementation's (loadBalancerClass), or being deleted
    } else {
      const admission = admitLoadBalancers(this.#services!.list()).get(k);
      if (admission && !admission.admitted) {
        want = [];
        const conflict = `${admission.port}/${admission.protocol} ${admission.heldBy}`;
        if (this.#warned.get(k) !== conflict) {
          this.#warned.set(k, conflict);
          this.#recorder!.event(svc, 'Warning', 'PortConflict',
            `port ${admission.port}/${admission.protocol} is already used by LoadBalancer Service ${admission.heldBy}; the load balancer stays pending until it is free`);
        }
      } else {
        this.#warned.delete(k);
        const ips = this.#addresses.ips;
        want = ips.map((ip) => ({ ip, ipMode: 'VIP' }));
      }
    }
    if (jsonEqual(current, want)) return;
    const next = structuredClone(svc);
    next.status = { ...obj(next.status), loadBalancer: want.length ? { ingress: want } : {} };
    try {
      await this.#api!.updateStatus(next, { fieldManager: 'service-lb-controller' });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err; // a conflict: retried with the fresh object from the cache
    }
  }
}
