// What a server publishes about the cluster's networks, written at every start:
// ConfigMap kube-system/skiff-cluster (the agents read their cluster CIDR, service CIDR and
// cluster DNS address from it), and Service kube-system/kube-dns on the cluster DNS
// address, as kubeadm and k3s clusters have it. The DNS itself runs on every node (node
// local, src/dns/node-local.ts); the Service holds the address so nothing else is given
// it, and makes it visible to `kubectl get svc -n kube-system`.
import type { KObject } from '../api/object.ts';
import type { InProcessClient } from '../client/inprocess.ts';
import { CLUSTER_CONFIGMAP, clusterConfigData } from '../agent/network/cluster-config.ts';
import type { ClusterNetworkConfig } from '../agent/network/types.ts';
import { ignoreConflict } from './kubernetes-service.ts';

export const KUBE_DNS = { namespace: 'kube-system', name: 'kube-dns' } as const;

export async function ensureClusterNetwork(client: InProcessClient, cluster: ClusterNetworkConfig): Promise<void> {
  const configMaps = client.resource('', 'v1', 'configmaps');
  const data = clusterConfigData(cluster);
  const cm = await configMaps.tryGet(CLUSTER_CONFIGMAP.namespace, CLUSTER_CONFIGMAP.name);
  if (!cm) {
    await ignoreConflict(configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...CLUSTER_CONFIGMAP }, data } as KObject));
  } else if (JSON.stringify(cm.data) !== JSON.stringify(data)) {
    await configMaps.update({ ...cm, data } as KObject);
  }

  const services = client.resource('', 'v1', 'services');
  const ports = [
    { name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 },
    { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 53 },
  ];
  const svc = await services.tryGet(KUBE_DNS.namespace, KUBE_DNS.name);
  const spec = svc?.spec as { clusterIP?: string } | undefined;
  if (svc && spec?.clusterIP === cluster.clusterDns) return;
  // A ClusterIP cannot change in place: a kube-dns left from another --cluster-dns is replaced.
  if (svc) await services.delete(KUBE_DNS.namespace, KUBE_DNS.name);
  await ignoreConflict(services.create({
    apiVersion: 'v1', kind: 'Service',
    metadata: { ...KUBE_DNS, labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'SkiffDNS' } },
    spec: { type: 'ClusterIP', clusterIP: cluster.clusterDns, clusterIPs: [cluster.clusterDns], ports },
  }));
}
