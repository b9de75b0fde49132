// Which LoadBalancer Services get an address. k3s's ServiceLB claims each Service port on
// every node (a svclb pod with a hostPort), so a second LoadBalancer Service on a port and
// protocol already taken cannot get its pods scheduled and stays <pending> until the port
// is free. Here the same rule, decided on the Services alone: Services that have an address
// already first (so a newcomer never takes a port away), then oldest first (creation time,
// then namespace/name); a Service is admitted when none of its ports is held by a Service
// admitted before it; pending Services hold nothing, so they block nobody.
import { olderFirst, type KObject } from '../../api/object.ts';
import { obj, objs, str } from '../../api/kinds/access.ts';

export type Admission =
  | { admitted: true }
  | { admitted: false; port: number; protocol: string; heldBy: string };

/** Services of type LoadBalancer that this controller handles (no loadBalancerClass). */
export function isOurLoadBalancer(svc: KObject): boolean {
  const spec = obj(svc.spec);
  return spec.type === 'LoadBalancer' && !str(spec.loadBalancerClass) && !svc.metadata.deletionTimestamp;
}

export function admitLoadBalancers(services: Iterable<KObject>): Map<string, Admission> {
  const lbs = [...services].filter(isOurLoadBalancer).sort(addressedThenOlder);
  const held = new Map<string, string>();
  const out = new Map<string, Admission>();
  for (const svc of lbs) {
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const ports = objs(obj(svc.spec).ports).map((p) => ({ port: Number(p.port), protocol: str(p.protocol) || 'TCP' }));
    const clash = ports.find((p) => held.has(`${p.port}/${p.protocol}`));
    if (clash) {
      out.set(key, { admitted: false, ...clash, heldBy: held.get(`${clash.port}/${clash.protocol}`)! });
      continue;
    }
    for (const p of ports) held.set(`${p.port}/${p.protocol}`, key);
    out.set(key, { admitted: true });
  }
  return out;
}

function hasAddress(svc: KObject): boolean {
  return objs(obj(obj(svc.status).loadBalancer).ingress).length > 0;
}

/** Services that already have an address keep it; then the oldest. */
function addressedThenOlder(a: KObject, b: KObject): number {
  const ha = hasAddress(a);
  if (ha !== hasAddress(b)) return ha ? -1 : 1;
  return olderFirst(a, b);
}
