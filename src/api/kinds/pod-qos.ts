// A pod's QoS class from its containers' cpu/memory requests and limits:
// Guaranteed when every container limits both and requests equal limits, BestEffort when
// nothing is requested or limited, Burstable otherwise.
import { isQuantity, parseQuantity } from '../validation/index.ts';
import { obj, objs, type Json } from './access.ts';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const QOS_RESOURCES = ['cpu', 'memory'];

// Zero quantities count as unset, as in Kubernetes.
function positive(values: Json, resource: string): number | undefined {
  const q = values[resource];
  if (!isQuantity(q)) return undefined;
  const n = parseQuantity(q);
  return n > 0 ? n : undefined;
}

// Sums of decimal fractions ("100m" + "200m") are not exact in floating point.
function nearlyEqual(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

export function podQOSClass(spec: Json): QOSClass {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const c of [...objs(spec.containers), ...objs(spec.initContainers)]) {
    const res = obj(c.resources);
    for (const r of QOS_RESOURCES) {
      const req = positive(obj(res.requests), r);
      const lim = positive(obj(res.limits), r);
      if (req !== undefined) requests.set(r, (requests.get(r) ?? 0) + req);
      if (lim !== undefined) limits.set(r, (limits.get(r) ?? 0) + lim);
      else guaranteed = false;
    }
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed && QOS_RESOURCES.every((r) => nearlyEqual(requests.get(r), limits.get(r)))) return 'Guaranteed';
  return 'Burstable';
}
