// The service proxy as a node network component: ClusterIP, NodePort, external and
// LoadBalancer IPs to ready endpoints through one nftables table per agent
// (`ip skiff-svc-<hash>`). stop() leaves the table in place (pods keep working while the
// agent restarts); cleanupServiceProxy removes it (skiff killall).
import { writeFileSync } from 'node:fs';
import type { AgentNames } from '../agent/containerd/names.ts';
import type { NodeNetworkComponent, NodeNetworkContext } from '../agent/network/types.ts';
import type { Logger } from '../util/log.ts';
import { deleteTable, type NftRunner } from './nft.ts';
import { ServiceProxy } from './proxy.ts';

export { ServiceProxy } from './proxy.ts';

export function proxyTableName(names: Pick<AgentNames, 'hash'>): string {
  return `skiff-svc-${names.hash}`;
}

export async function startServiceProxy(ctx: NodeNetworkContext): Promise<NodeNetworkComponent> {
  enableForwarding(ctx.log);
  const proxy = new ServiceProxy({
    services: ctx.informers.informer('', 'v1', 'services'),
    endpointSlices: ctx.informers.informer('discovery.k8s.io', 'v1', 'endpointslices'),
    nodeName: ctx.nodeName,
    clusterCidr: ctx.cluster.clusterCidr,
    clusterDns: ctx.cluster.clusterDns,
    table: proxyTableName(ctx.names),
    log: ctx.log,
  });
  proxy.start();
  return { stop: () => proxy.stop() };
}

/** Removes the agent's table (skiff killall); no table is not an error. */
export async function cleanupServiceProxy(names: Pick<AgentNames, 'hash'>, run?: NftRunner): Promise<void> {
  await deleteTable(`ip ${proxyTableName(names)}`, run);
}

/** Routing between pods and Services, and bridged pod traffic through nftables. */
export function enableForwarding(log: Logger, procSys = '/proc/sys'): void {
  for (const key of ['net/ipv4/ip_forward', 'net/bridge/bridge-nf-call-iptables']) {
    try {
      writeFileSync(`${procSys}/${key}`, '1');
    } catch (err) {
      log.warn('cannot set sysctl', { key: key.replaceAll('/', '.'), error: (err as Error).message });
    }
  }
}
