// What an object counts against a ResourceQuota, in Kubernetes' resource names: object
// counts (`pods`, `services`, `count/deployments.apps`...), compute (`requests.cpu` or
// plain `cpu`, `limits.memory`...), storage (`requests.storage`), and service kinds
// (`services.nodeports`, `services.loadbalancers`). Shared by the admission check and the
// controller that writes quota status, so both count the same way.
import type { KObject } from '../../../api/object.ts';
import { formatBinaryQuantity, formatDecimalQuantity } from '../../../api/quantity-format.ts';
import { parseQuantity } from '../../../api/validation/quantity.ts';

type Json = Record<string, any>;
export type Usage = Record<string, number>;

/** Resources whose plain name counts objects (besides count/<resource>[.<group>]). */
const LEGACY_COUNTS: Record<string, string> = {
  pods: 'pods', services: 'services', configmaps: 'configmaps', secrets: 'secrets',
  persistentvolumeclaims: 'persistentvolumeclaims', replicationcontrollers: 'replicationcontrollers', resourcequotas: 'resourcequotas',
};

const q = (v: unknown): number => {
  try {
    return parseQuantity(v as string | number);
  } catch {
    return 0;
  }
};

/** A pod that no longer holds resources: finished, or being deleted. */
export const podIsTerminal = (pod: KObject): boolean =>
  !!pod.metadata.deletionTimestamp || ['Succeeded', 'Failed'].includes((pod.status as Json)?.phase);

function podCompute(pod: KObject, into: Usage): void {
  const spec = (pod.spec ?? {}) as Json;
  const sum = (field: 'requests' | 'limits'): Record<string, number> => {
    const total: Record<string, number> = {};
    for (const c of (spec.containers ?? []) as Json[]) for (const [k, v] of Object.entries(c.resources?.[field] ?? {})) total[k] = (total[k] ?? 0) + q(v);
    // An init container's request counts when it is larger than the containers' sum (the pod's effective request).
    for (const c of (spec.initContainers ?? []) as Json[]) for (const [k, v] of Object.entries(c.resources?.[field] ?? {})) total[k] = Math.max(total[k] ?? 0, q(v));
    return total;
  };
  for (const [k, v] of Object.entries(sum('requests'))) { into[`requests.${k}`] = v; if (k === 'cpu' || k === 'memory' || k === 'ephemeral-storage') into[k] = v; }
  for (const [k, v] of Object.entries(sum('limits'))) into[`limits.${k}`] = v;
}

/** What one object adds to its namespace's usage. */
export function usageOf(resource: string, group: string, obj: KObject): Usage {
  if (resource === 'pods' && group === '' && podIsTerminal(obj)) return {};
  const u: Usage = { [`count/${group ? `${resource}.${group}` : resource}`]: 1 };
  if (group === '' && LEGACY_COUNTS[resource]) u[LEGACY_COUNTS[resource]] = 1;
  if (group === '' && resource === 'pods') podCompute(obj, u);
  if (group === '' && resource === 'services') {
    const spec = (obj.spec ?? {}) as Json;
    if (spec.type === 'LoadBalancer') u['services.loadbalancers'] = 1;
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') u['services.nodeports'] = ((spec.ports ?? []) as Json[]).length;
  }
  if (group === '' && resource === 'persistentvolumeclaims') {
    u['requests.storage'] = q((obj.spec as Json)?.resources?.requests?.storage);
  }
  return u;
}

/** The resource (plural, group) a quota name counts, for names that count objects. */
export function countedResource(name: string): { resource: string; group: string } | undefined {
  if (LEGACY_COUNTS[name]) return { resource: name, group: '' };
  if (name === 'services.nodeports' || name === 'services.loadbalancers') return { resource: 'services', group: '' };
  if (name.startsWith('count/')) {
    const rest = name.slice('count/'.length);
    const dot = rest.indexOf('.');
    return dot < 0 ? { resource: rest, group: '' } : { resource: rest.slice(0, dot), group: rest.slice(dot + 1) };
  }
  if (name === 'requests.storage' || name.endsWith('.storageclass.storage.k8s.io/requests.storage')) return { resource: 'persistentvolumeclaims', group: '' };
  return { resource: 'pods', group: '' }; // cpu, memory, requests.*, limits.*
}

/** A usage figure as Kubernetes prints quantities (cpu in millicores, memory in binary units). */
export function formatUsage(name: string, v: number): string {
  if (/(^|\.)(memory|storage|ephemeral-storage)$/.test(name)) return formatBinaryQuantity(v);
  if (Number.isInteger(v)) return String(v);
  return formatDecimalQuantity(v * 1000, -3);
}

export function quantityOf(v: unknown): number {
  return q(v);
}
