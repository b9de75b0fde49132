// What every node-level network component (service proxy, node-local DNS, pod routes,
// ingress, network policy) is given by the agent: one shared informer factory, the
// node's identity and the cluster's networks.
import type { SharedInformerFactory } from '../../client/informer-factory.ts';
import type { ApiClient } from '../../client/types.ts';
import type { Logger } from '../../util/log.ts';
import type { AgentNames } from '../containerd/names.ts';

/** The cluster-wide networks, published by the server in ConfigMap kube-system/skiff-cluster. */
export interface ClusterNetworkConfig {
  /** Pod network of the whole cluster, e.g. 10.42.0.0/16. */
  clusterCidr: string;
  /** Service network, e.g. 10.43.0.0/16. */
  serviceCidr: string;
  /** The cluster DNS address pods get as their nameserver, e.g. 10.43.0.10. */
  clusterDns: string;
  /** cluster.local */
  clusterDomain: string;
}

export interface NodeNetworkContext {
  client: ApiClient;
  /**
   * Shared informers (Services, EndpointSlices, Nodes, Pods...). Components ask for what
   * they need while starting; the agent starts the factory once they all have.
   */
  informers: SharedInformerFactory;
  nodeName: string;
  nodeIP: string;
  /** This node's pod CIDR (spec.podCIDR), e.g. 10.42.3.0/24. */
  podCidr: string;
  cluster: ClusterNetworkConfig;
  /** The agent's names (hash, bridge, network): nft tables and interfaces are named from them. */
  names: AgentNames;
  agentDir: string;
  /** Port the built-in Ingress controller serves HTTP on (default 80; 0 turns it off). */
  ingressHttpPort: number;
  log: Logger;
}

/** A running component; stop() leaves its rules in place (killall removes them). */
export interface NodeNetworkComponent {
  stop(): Promise<void> | void;
}
