// NetworkPolicy (ingress) for the pods of this node: informers → controller → one nft
// table per agent, `inet skiff-np-<hash>`. stop() leaves the table (pods keep their
// isolation while the agent is down); cleanupNetworkPolicy removes it (skiff killall).
import type { AgentNames } from '../agent/containerd/names.ts';
import type { NodeNetworkComponent, NodeNetworkContext } from '../agent/network/types.ts';
import { NetpolController } from './controller.ts';
import { formatIpv4, parseCidr4 } from './ipblock.ts';
import { deleteTable, nftRunner } from '../proxy/nft.ts';
import { FAMILY, tableName } from './render.ts';

export async function startNetworkPolicy(ctx: NodeNetworkContext): Promise<NodeNetworkComponent> {
  const cidr = parseCidr4(ctx.podCidr);
  // host-local gives the bridge the first address of the node's range (isGateway).
  const gateway = cidr ? [formatIpv4(cidr.start + 1)] : [];
  const controller = new NetpolController({
    policies: ctx.informers.informer('networking.k8s.io', 'v1', 'networkpolicies', { namespace: '' }),
    pods: ctx.informers.informer('', 'v1', 'pods', { namespace: '' }),
    namespaces: ctx.informers.informer('', 'v1', 'namespaces', { namespace: '' }),
    nodeName: ctx.nodeName,
    nodeIPs: [ctx.nodeIP, ...gateway].filter(Boolean),
    table: tableName(ctx.names.hash),
    apply: nftRunner(),
    log: ctx.log,
  });
  controller.start();
  return { stop: () => controller.stop() };
}

/** Removes this agent's NetworkPolicy table (skiff killall). */
export async function cleanupNetworkPolicy(names: Pick<AgentNames, 'hash'>): Promise<void> {
  await deleteTable(`${FAMILY} ${tableName(names.hash)}`);
}
