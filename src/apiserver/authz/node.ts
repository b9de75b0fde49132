// The Node authorizer (kube-apiserver's --authorization-mode=Node): requests from a node
// (user system:node:<name> in group system:nodes, the certificate an agent gets at join,
// see src/agent/credentials.ts) are decided here by what the node needs, not by RBAC:
//
// - its own Lease in kube-node-lease; Nodes: read any, write (NodeRestriction admission,
//   ../admission/noderestriction.ts, then keeps the writes to its own Node);
// - pods: list and watch (the agent watches its spec.nodeName), get, status writes and
//   delete only for pods bound to it;
// - Secrets, ConfigMaps, PVCs: get (or list/watch pinned to one name) only when a pod
//   bound to the node uses them; serviceaccounts/token only for its pods' service accounts
//   (node-graph.ts); plus the cluster's network ConfigMap kube-system/skiff-cluster;
// - events; reading what node networking needs (services, endpoints, EndpointSlices,
//   namespaces, NetworkPolicies, Ingresses, IngressClasses); filing CSRs.
//
// Anything else gets no opinion: RBAC decides (discovery, self reviews, selfnodeclient),
// and since nothing binds system:nodes, the answer is Forbidden with the reason given here.
import type { Registry } from '../registry/registry.ts';
import { NodeGraph, type RefKind } from './node-graph.ts';
import type { Attributes, Decision } from './types.ts';

export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The cluster network settings every agent reads at start (src/agent/network/cluster-config.ts). */
export const CLUSTER_CONFIGMAP = { namespace: 'kube-system', name: 'skiff-cluster' };

const READ = new Set(['get', 'list', 'watch']);
const WRITE_EVENTS = new Set(['create', 'update', 'patch']);

/** The node a user is, or undefined for anyone else. */
export function nodeNameOf(user: { name: string; groups: string[] }): string | undefined {
  if (!user.name.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return undefined;
  const name = user.name.slice(NODE_USER_PREFIX.length);
  return name || undefined;
}

const allow: Decision = { allowed: true, reason: '' };
const noOpinion = (reason: string): Decision => ({ allowed: false, reason });

/** What node users may read everywhere: the node's networking (proxy, DNS, Ingress, NetworkPolicy). */
const READ_ANY: Record<string, Set<string>> = {
  '': new Set(['nodes', 'services', 'endpoints', 'namespaces']),
  'discovery.k8s.io': new Set(['endpointslices']),
  'networking.k8s.io': new Set(['networkpolicies', 'ingresses', 'ingressclasses']),
};

export class NodeAuthorizer {
  readonly graph: NodeGraph;

  constructor(registry: Registry) {
    this.graph = new NodeGraph(registry);
  }

  /** undefined: not a node, no opinion at all; otherwise the node's answer (a denial carries why). */
  async authorize(a: Attributes): Promise<Decision | undefined> {
    const node = nodeNameOf(a.user);
    if (node === undefined) return undefined;
    if (!a.resourceRequest) return noOpinion('');
    const d = await this.#decide(node, a);
    if (d.allowed || !d.related) return d;
    // A relationship may be a moment old: wait for the graph to reach the store, then ask again.
    await this.graph.catchUp();
    return this.#decide(node, a);
  }

  async #decide(node: string, a: Attributes): Promise<Decision & { related?: boolean }> {
    const { apiGroup: group, resource, subresource: sub, verb } = a;
    if (!sub && READ.has(verb) && READ_ANY[group]?.has(resource)) return allow;
    if (group === '') {
      switch (resource) {
        case 'nodes':
          // Writes are NodeRestriction's to limit to the node's own object (with Kubernetes' message).
          if (!sub && (verb === 'create' || verb === 'update' || verb === 'patch')) return allow;
          if (sub === 'status' && (verb === 'get' || verb === 'update' || verb === 'patch')) return allow;
          return noOpinion('');
        case 'pods':
          if (!sub && (verb === 'list' || verb === 'watch') && !a.name) return allow;
          if ((!sub && (verb === 'get' || verb === 'delete' || verb === 'list' || verb === 'watch')) || (sub === 'status' && (verb === 'get' || verb === 'update' || verb === 'patch'))) {
            return this.#related(node, 'pod', a);
          }
          if (!sub && verb === 'create') return allow; // NodeRestriction: mirror pods only
          return noOpinion('');
        case 'events':
          return WRITE_EVENTS.has(verb) ? allow : noOpinion('');
        case 'configmaps':
          if (a.namespace === CLUSTER_CONFIGMAP.namespace && a.name === CLUSTER_CONFIGMAP.name && READ.has(verb) && !sub) return allow;
          return this.#readNamespaced(node, 'configmap', a);
        case 'secrets':
          return this.#readNamespaced(node, 'secret', a);
        case 'persistentvolumeclaims':
          if (verb !== 'get') return noOpinion('can only get individual resources of this type');
          if (sub) return noOpinion('cannot get subresource');
          return this.#related(node, 'persistentvolumeclaim', a);
        case 'serviceaccounts':
          if (verb !== 'create' || !a.name) return noOpinion('can only create tokens for individual service accounts');
          if (sub !== 'token') return noOpinion('can only create token subresource of serviceaccount');
          return this.#related(node, 'serviceaccount', a);
        default:
          return noOpinion('');
      }
    }
    if (group === 'coordination.k8s.io' && resource === 'leases') {
      if (!['get', 'create', 'update', 'patch', 'delete'].includes(verb)) return noOpinion('can only get, create, update, patch, or delete a node lease');
      if (a.namespace !== NODE_LEASE_NAMESPACE) return noOpinion(`can only access leases in the ${NODE_LEASE_NAMESPACE} namespace`);
      if (verb !== 'create' && a.name !== node) return noOpinion('can only access node lease with the same name as the requesting node');
      return allow;
    }
    if (group === 'events.k8s.io' && resource === 'events') return WRITE_EVENTS.has(verb) ? allow : noOpinion('');
    if (group === 'certificates.k8s.io' && resource === 'certificatesigningrequests' && !sub && ['create', 'get', 'list', 'watch'].includes(verb)) return allow;
    return noOpinion('');
  }

  #readNamespaced(node: string, kind: RefKind, a: Attributes): Promise<Decision & { related?: boolean }> | Decision {
    if (!READ.has(a.verb)) return noOpinion('can only read resources of this type');
    if (a.subresource) return noOpinion('cannot read subresource');
    if (!a.namespace) return noOpinion('can only read namespaced object of this type');
    return this.#related(node, kind, a);
  }

  async #related(node: string, kind: RefKind, a: Attributes): Promise<Decision & { related?: boolean }> {
    if (!a.name) return noOpinion('No Object name found');
    if (await this.graph.related(node, kind, a.namespace, a.name)) return allow;
    return { allowed: false, reason: `no relationship found between node '${node}' and this object`, related: true };
  }

  stop(): void {
    this.graph.stop();
  }
}
