// The slice reconciler: from what a Service's slices should hold (desired groups) and the
// slices it has, a plan of creates, updates and deletes that touches as few slices as it
// can. A pure function, so its choices are easy to test:
//  1. endpoints stay in the slice they are in (updated in place when their state changed);
//  2. new endpoints go first into slices that change anyway, then into one unchanged slice
//     if they all fit there, then into new slices of at most maxEndpointsPerSlice;
//  3. a slice that would be deleted is reused instead of creating a new one;
//  4. a Service with no endpoints keeps exactly one empty placeholder slice.
import type { KObject, OwnerReference } from '../../api/object.ts';
import { jsonEqual } from '../../api/kinds/access.ts';
import { HEADLESS_LABEL, isHeadless, serviceLabels } from '../endpoints/pods.ts';
import { endpointKey, portsKey, type DesiredGroup } from './desired.ts';

type Json = Record<string, unknown>;

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SlicePlan {
  create: KObject[];
  update: KObject[];
  delete: KObject[];
}

interface Work {
  slice?: KObject;
  endpoints: Json[];
  ports: Json[];
  changed: boolean;
}

export function sliceLabels(svc: KObject): Record<string, string> {
  const labels = serviceLabels(svc, [SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL]);
  labels[SERVICE_NAME_LABEL] = svc.metadata.name!;
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
  return labels;
}

export function serviceOwnerRef(svc: KObject): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name!, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

const byKey = (a: Json, b: Json): number => {
  const ka = endpointKey(a);
  const kb = endpointKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};
const byName = (a: KObject, b: KObject): number => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0);
const endpointsOf = (slice: KObject): Json[] => (Array.isArray(slice.endpoints) ? slice.endpoints as Json[] : []);
const portsOf = (slice: KObject): Json[] => (Array.isArray(slice.ports) ? slice.ports as Json[] : []);

export function reconcileSlices(
  svc: KObject, desired: Map<string, DesiredGroup>, existing: readonly KObject[], maxPerSlice = MAX_ENDPOINTS_PER_SLICE,
): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const byGroup = new Map<string, KObject[]>();
  /** Slices to delete unless reused for new endpoints. */
  const pool: KObject[] = [];
  for (const slice of [...existing].sort(byName)) {
    if (slice.addressType !== 'IPv4') { plan.delete.push(slice); continue; } // addressType is immutable
    const key = portsKey(portsOf(slice));
    if (!desired.has(key)) { pool.push(slice); continue; }
    let list = byGroup.get(key);
    if (!list) byGroup.set(key, list = []);
    list.push(slice);
  }

  const kept: Work[] = [];
  let total = 0;
  for (const group of [...desired.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    total += group.endpoints.size;
    const remaining = new Map(group.endpoints);
    const works: Work[] = [];
    for (const slice of byGroup.get(group.key) ?? []) {
      const eps: Json[] = [];
      let changed = false;
      for (const ep of endpointsOf(slice)) {
        const want = remaining.get(endpointKey(ep));
        if (!want || eps.length >= maxPerSlice) { changed = true; continue; }
        remaining.delete(endpointKey(ep));
        if (!jsonEqual(ep, want)) changed = true;
        eps.push(want);
      }
      if (eps.length === 0) { pool.push(slice); continue; }
      if (!jsonEqual(portsOf(slice), group.ports)) changed = true;
      works.push({ slice, endpoints: eps, ports: group.ports as unknown as Json[], changed });
    }
    const left = [...remaining.values()].sort(byKey);
    // Slices being written anyway take what they can.
    for (const w of works.filter((x) => x.changed).sort((a, b) => b.endpoints.length - a.endpoints.length)) {
      if (!left.length) break;
      w.endpoints.push(...left.splice(0, maxPerSlice - w.endpoints.length));
    }
    // Then one unchanged slice, if everything left fits in it (one write either way).
    if (left.length) {
      const fit = works.filter((x) => !x.changed && maxPerSlice - x.endpoints.length >= left.length)
        .sort((a, b) => b.endpoints.length - a.endpoints.length)[0];
      if (fit) { fit.endpoints.push(...left.splice(0)); fit.changed = true; }
    }
    // Then new slices, reusing ones that would otherwise be deleted.
    while (left.length) {
      const chunk = left.splice(0, maxPerSlice);
      works.push({ slice: pool.shift(), endpoints: chunk, ports: group.ports as unknown as Json[], changed: true });
    }
    kept.push(...works);
  }

  if (total === 0) {
    const i = pool.findIndex((s) => endpointsOf(s).length === 0 && portsOf(s).length === 0);
    const placeholder = i >= 0 ? pool.splice(i, 1)[0] : pool.shift();
    kept.push({ slice: placeholder, endpoints: [], ports: [], changed: i < 0 });
  }

  const labels = sliceLabels(svc);
  const owner = serviceOwnerRef(svc);
  for (const w of kept) {
    if (!w.slice) {
      plan.create.push({
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { generateName: `${svc.metadata.name}-`, namespace: svc.metadata.namespace, labels, ownerReferences: [owner] },
        addressType: 'IPv4',
        endpoints: w.endpoints.sort(byKey),
        ports: w.ports,
      });
      continue;
    }
    const metaChanged = !jsonEqual(w.slice.metadata.labels ?? {}, labels) || !jsonEqual(w.slice.metadata.ownerReferences ?? [], [owner]);
    if (!w.changed && !metaChanged) continue;
    const next = structuredClone(w.slice);
    next.metadata.labels = labels;
    next.metadata.ownerReferences = [owner];
    next.endpoints = w.endpoints.sort(byKey);
    next.ports = w.ports;
    plan.update.push(next);
  }
  plan.delete.push(...pool);
  return plan;
}
