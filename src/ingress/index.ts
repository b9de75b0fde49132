// The built-in Ingress controller (what Traefik is to k3s): on every node, an HTTP reverse
// proxy on 0.0.0.0:<--ingress-http-port> serving the Ingresses of class `skiff` from the
// agent's shared informers. The routing itself is routes.ts (pure), backends.ts and
// router.ts; the proxy is server.ts. It installs nothing in the kernel, so there is no
// cleanup for `skiff killall`. The Ingresses' status (their ADDRESS) is written by the
// server's ingress-status controller (src/controllers/ingressstatus).
import type { NodeNetworkComponent, NodeNetworkContext } from '../agent/network/types.ts';
import type { Informer } from '../client/informer.ts';
import { Router } from './router.ts';
import { startIngressServer, type IngressServer } from './server.ts';

export async function startIngressController(ctx: NodeNetworkContext): Promise<NodeNetworkComponent> {
  const { log } = ctx;
  if (!ctx.ingressHttpPort) {
    log.info('ingress controller off (--ingress-http-port 0)');
    return { stop() {} };
  }
  // Listen first: when the port is taken nothing is watched for nothing.
  let router: Router | undefined;
  let server: IngressServer;
  try {
    server = await startIngressServer({
      host: '0.0.0.0', port: ctx.ingressHttpPort, log,
      router: { decide: (host, path) => router ? router.decide(host, path) : { kind: 'unavailable', reason: 'ingress controller is starting' } },
    });
  } catch (err) {
    // Another proxy already has the port: the node still runs pods, just without Ingress.
    log.warn('ingress controller not serving: cannot listen', { port: ctx.ingressHttpPort, error: (err as Error).message });
    return { stop() {} };
  }
  const ingresses = ctx.informers.informer('networking.k8s.io', 'v1', 'ingresses');
  const ingressClasses = ctx.informers.informer('networking.k8s.io', 'v1', 'ingressclasses');
  const services = ctx.informers.informer('', 'v1', 'services');
  const endpointSlices = ctx.informers.informer('discovery.k8s.io', 'v1', 'endpointslices');
  const all = [ingresses, ingressClasses, services, endpointSlices];
  const r = router = new Router({ ingresses, ingressClasses, services, endpointSlices, synced: () => all.every((i) => i.hasSynced()) });
  // Rebuild once per burst of events (a relist delivers hundreds), off the request path.
  let pending: NodeJS.Immediate | undefined;
  const on = (informer: Informer, invalidate: () => void) => {
    const changed = () => {
      invalidate();
      pending ??= setImmediate(() => { pending = undefined; r.prepare(); });
    };
    return informer.addEventHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
  };
  const unsubscribe = [
    on(ingresses, () => r.invalidateRoutes()),
    on(ingressClasses, () => r.invalidateRoutes()),
    on(services, () => r.invalidateBackends()),
    on(endpointSlices, () => r.invalidateBackends()),
  ];
  log.info('ingress controller serving', { port: server.port });
  return {
    async stop() {
      for (const u of unsubscribe.splice(0)) u();
      if (pending) clearImmediate(pending);
      await server.close();
    },
  };
}
