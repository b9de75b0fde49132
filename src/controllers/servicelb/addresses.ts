// What a LoadBalancer Service or a Skiff Ingress is reachable at: the InternalIPs of the
// Ready nodes (every node runs the service proxy and the Ingress proxy, so any of them
// answers), as k3s's ServiceLB reports the nodes running its svclb pods. Shared by the
// servicelb and ingress-status controllers.
import type { KObject } from '../../api/object.ts';
import { obj, objs, str } from '../../api/kinds/access.ts';

export function isNodeReady(node: KObject): boolean {
  if (node.metadata.deletionTimestamp) return false;
  return objs(obj(node.status).conditions).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The Ready nodes' InternalIPs, sorted (IPv4 numerically), without duplicates. */
export function readyNodeIPs(nodes: Iterable<KObject>): string[] {
  const ips = new Set<string>();
  for (const node of nodes) {
    if (!isNodeReady(node)) continue;
    for (const a of objs(obj(node.status).addresses)) if (a.type === 'InternalIP' && str(a.address)) ips.add(str(a.address));
  }
  return [...ips].sort(compareIPs);
}

function compareIPs(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4 && pa.every(Number.isFinite) && pb.every(Number.isFinite)) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
