// The agent learns the cluster's networks from ConfigMap kube-system/skiff-cluster, which
// every server writes at start (as kube-proxy reads its ConfigMap). Waited for, since an
// agent may start before the server has written it.
import type { ApiClient } from '../../client/types.ts';
import type { ClusterNetworkConfig } from './types.ts';

export const CLUSTER_CONFIGMAP = { namespace: 'kube-system', name: 'skiff-cluster' } as const;

export function clusterConfigData(c: ClusterNetworkConfig): Record<string, string> {
  return { clusterCIDR: c.clusterCidr, serviceCIDR: c.serviceCidr, clusterDNS: c.clusterDns, clusterDomain: c.clusterDomain };
}

export function parseClusterConfig(data: Record<string, string> | undefined): ClusterNetworkConfig | undefined {
  if (!data?.clusterCIDR || !data.serviceCIDR || !data.clusterDNS) return undefined;
  return { clusterCidr: data.clusterCIDR, serviceCidr: data.serviceCIDR, clusterDns: data.clusterDNS, clusterDomain: data.clusterDomain || 'cluster.local' };
}

export async function readClusterConfig(client: ApiClient, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ClusterNetworkConfig> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const configMaps = client.resource('', 'v1', 'configmaps');
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    let reason = 'not found';
    try {
      const cm = await configMaps.tryGet(CLUSTER_CONFIGMAP.namespace, CLUSTER_CONFIGMAP.name);
      const parsed = parseClusterConfig(cm?.data as Record<string, string> | undefined);
      if (parsed) return parsed;
      if (cm) reason = 'incomplete';
    } catch (err) {
      reason = (err as Error).message;
    }
    if (Date.now() + delay > deadline || opts.signal?.aborted) {
      throw new Error(`cannot read the cluster's network settings (ConfigMap ${CLUSTER_CONFIGMAP.namespace}/${CLUSTER_CONFIGMAP.name}: ${reason}); is the server at least this version and running?`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}
