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

/** A node's InternalIPs while it is Ready; none otherwise. */
function readyIPsOf(node: KObject): string[] {
  if (!isNodeReady(node)) return [];
  return objs(obj(node.status).addresses).filter((a) => a.type === 'InternalIP' && str(a.address)).map((a) => str(a.address));
}

/** The Ready nodes' InternalIPs, sorted (IPv4 numerically), without duplicates. */
export function readyNodeIPs(nodes: Iterable<KObject>): string[] {
  const ips = new Set<string>();
  for (const node of nodes) for (const ip of readyIPsOf(node)) ips.add(ip);
  return [...ips].sort(compareIPs);
}

/**
 * The same list, kept up to date one Node event at a time: a heartbeat that changes
 * neither readiness nor addresses costs a comparison, not a pass over every node (which,
 * at thousands of nodes heartbeating, was the server's hottest path).
 */
export class ReadyNodeAddresses {
  readonly #byNode = new Map<string, string[]>();
  #sorted: string[] | undefined = [];

  /** Records a node's state; true when the set of addresses changed. */
  update(node: KObject): boolean {
    const name = node.metadata.name!;
    const next = readyIPsOf(node);
    const prev = this.#byNode.get(name) ?? [];
    if (prev.length === next.length && prev.every((ip, i) => ip === next[i])) return false;
    if (next.length) this.#byNode.set(name, next); else this.#byNode.delete(name);
    this.#sorted = undefined;
    return true;
  }

  remove(node: KObject): boolean {
    if (!this.#byNode.delete(node.metadata.name!)) return false;
    this.#sorted = undefined;
    return true;
  }

  get ips(): string[] {
    this.#sorted ??= [...new Set([...this.#byNode.values()].flat())].sort(compareIPs);
    return this.#sorted;
  }
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
