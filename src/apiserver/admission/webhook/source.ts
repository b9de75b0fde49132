// The dispatcher's view of the cluster, read from the registry's watch cache (no store
// round trip per write): webhook configurations, namespaces for namespaceSelector, and
// the endpoints of a webhook's Service (its EndpointSlices, else its Endpoints).
import type { KObject } from '../../../api/object.ts';
import { lookupResource, type ResourceInfo } from '../../../api/scheme.ts';
import type { Endpoint, WebhookSource } from './types.ts';

/** The part of the Registry this needs (kept narrow to avoid an import cycle). */
export interface CacheReader {
  listFromCache(r: ResourceInfo, ns: string | undefined, q: { resourceVersion?: string; name?: string }): Promise<{ items: { obj: KObject }[] }>;
}

const MUTATING = lookupResource('admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations')!;
const VALIDATING = lookupResource('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations')!;
const NAMESPACES = lookupResource('', 'v1', 'namespaces')!;
const SERVICES = lookupResource('', 'v1', 'services')!;
const ENDPOINT_SLICES = lookupResource('discovery.k8s.io', 'v1', 'endpointslices')!;
const ENDPOINTS = lookupResource('', 'v1', 'endpoints')!;

type Json = Record<string, unknown>;
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x) => x && typeof x === 'object') as Json[] : []);

export function cacheSource(reader: CacheReader): WebhookSource {
  const items = async (r: ResourceInfo, ns?: string, name?: string): Promise<KObject[]> =>
    (await reader.listFromCache(r, ns, { resourceVersion: '0', name })).items.map((c) => c.obj);
  return {
    async configurations(kind) {
      try {
        return await items(kind === 'mutating' ? MUTATING : VALIDATING);
      } catch (err) {
        // The server is shutting down (its caches are stopped): writes still in flight go on as before.
        if ((err as Error).message === 'watch cache stopped') return [];
        throw err;
      }
    },
    namespace: async (name) => (await items(NAMESPACES, undefined, name))[0],
    async resolveService(ns, name, port) {
      const svc = (await items(SERVICES, ns, name))[0];
      if (!svc) throw new Error(`service "${name}" not found`);
      const sp = list((svc.spec as Json | undefined)?.ports).find((p) => p.port === port);
      if (!sp) throw new Error(`no service port ${port} found for service "${name}"`);
      const portName = String(sp.name ?? '');
      const found = fromSlices(await items(ENDPOINT_SLICES, ns), name, portName)
        ?? fromEndpoints((await items(ENDPOINTS, ns, name))[0], portName);
      if (!found) throw new Error(`no endpoints available for service "${name}"`);
      return found;
    },
  };
}

function fromSlices(slices: KObject[], service: string, portName: string): Endpoint | undefined {
  for (const slice of slices) {
    if (slice.metadata.labels?.['kubernetes.io/service-name'] !== service) continue;
    if (slice.addressType !== undefined && slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const port = list(slice.ports).find((p) => String(p.name ?? '') === portName);
    if (!port || typeof port.port !== 'number') continue;
    for (const ep of list(slice.endpoints)) {
      if ((ep.conditions as Json | undefined)?.ready === false) continue;
      const addr = (ep.addresses as string[] | undefined)?.[0];
      if (addr) return { host: addr, port: port.port };
    }
  }
  return undefined;
}

function fromEndpoints(eps: KObject | undefined, portName: string): Endpoint | undefined {
  for (const subset of list(eps?.subsets)) {
    const port = list(subset.ports).find((p) => String(p.name ?? '') === portName);
    const addr = list(subset.addresses)[0]?.ip;
    if (port && typeof port.port === 'number' && typeof addr === 'string') return { host: addr, port: port.port };
  }
  return undefined;
}
