// The node's share of cluster networking, started once the node has its pod CIDR: routes
// to other nodes' pods, the service proxy, node-local cluster DNS, the Ingress controller
// and NetworkPolicy. Each is its own module; this only starts and stops them in order.
import { startPodRoutes } from './routes.ts';
import { startServiceProxy } from '../../proxy/index.ts';
import { startNodeLocalDns } from '../../dns/node-local.ts';
import { startIngressController } from '../../ingress/index.ts';
import { startNetworkPolicy } from '../../netpol/index.ts';
import type { NodeNetworkComponent, NodeNetworkContext } from './types.ts';

export type { ClusterNetworkConfig, NodeNetworkContext, NodeNetworkComponent } from './types.ts';

export async function startNodeNetworking(ctx: NodeNetworkContext): Promise<NodeNetworkComponent> {
  const started: NodeNetworkComponent[] = [];
  const stopAll = async () => {
    for (const c of started.reverse()) await Promise.resolve(c.stop()).catch(() => {});
  };
  try {
    for (const [name, start] of [
      ['routes', startPodRoutes], ['proxy', startServiceProxy], ['dns', startNodeLocalDns],
      ['ingress', startIngressController], ['netpol', startNetworkPolicy],
    ] as const) {
      started.push(await start({ ...ctx, log: ctx.log.child(name) }));
    }
    ctx.informers.start();
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { stop: stopAll };
}
