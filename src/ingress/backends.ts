// Where a Service backend's traffic goes: the ready endpoints of the Service's
// EndpointSlices, on the endpoint port that the named (or numbered) Service port maps to.
// Built from the informers' caches whenever they change, then answered from memory.
import type { KObject } from '../api/object.ts';
import { obj, objs, str } from '../api/kinds/access.ts';
import type { ServiceBackend } from './routes.ts';

export interface Endpoint {
  ip: string;
  port: number;
}

export type Resolution =
  | { kind: 'endpoints'; endpoints: Endpoint[] }
  | { kind: 'unavailable'; reason: string };

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export class BackendIndex {
  readonly #services = new Map<string, KObject>();
  readonly #slices = new Map<string, KObject[]>();
  readonly #memo = new Map<string, Resolution>();

  static build(services: Iterable<KObject>, slices: Iterable<KObject>): BackendIndex {
    const index = new BackendIndex();
    for (const svc of services) index.#services.set(`${svc.metadata.namespace}/${svc.metadata.name}`, svc);
    for (const slice of slices) {
      const owner = slice.metadata.labels?.[SERVICE_NAME_LABEL];
      if (!owner) continue;
      const key = `${slice.metadata.namespace}/${owner}`;
      const list = index.#slices.get(key);
      if (list) list.push(slice); else index.#slices.set(key, [slice]);
    }
    return index;
  }

  /** The ready endpoints behind a backend (memoized until the next build). */
  resolve(backend: ServiceBackend): Resolution {
    const key = backendKey(backend);
    let r = this.#memo.get(key);
    if (!r) this.#memo.set(key, r = this.#resolve(backend));
    return r;
  }

  #resolve(backend: ServiceBackend): Resolution {
    const name = `${backend.namespace}/${backend.service}`;
    const svc = this.#services.get(name);
    if (!svc) return { kind: 'unavailable', reason: `service ${name} not found` };
    const ports = objs(obj(svc.spec).ports);
    const port = 'number' in backend.port
      ? ports.find((p) => p.port === (backend.port as { number: number }).number)
      : ports.find((p) => str(p.name) === (backend.port as { name: string }).name);
    const portText = 'number' in backend.port ? String(backend.port.number) : backend.port.name;
    if (!port) return { kind: 'unavailable', reason: `service ${name} has no port ${portText}` };
    const portName = str(port.name);
    const protocol = str(port.protocol) || 'TCP';
    if (protocol !== 'TCP') return { kind: 'unavailable', reason: `service ${name} port ${portText} is ${protocol}, not TCP` };
    const seen = new Set<string>();
    const endpoints: Endpoint[] = [];
    for (const slice of this.#slices.get(name) ?? []) {
      if (slice.addressType === 'FQDN') continue;
      const slicePort = objs(slice.ports).find((p) => str(p.name) === portName && (str(p.protocol) || 'TCP') === 'TCP');
      if (!slicePort || typeof slicePort.port !== 'number') continue;
      for (const ep of objs(slice.endpoints)) {
        // An unset ready condition means ready (EndpointConditions docs).
        if (obj(ep.conditions).ready === false) continue;
        const ip = str((ep.addresses as unknown[] | undefined)?.[0]);
        const id = `${ip}:${slicePort.port}`;
        if (!ip || seen.has(id)) continue;
        seen.add(id);
        endpoints.push({ ip, port: slicePort.port });
      }
    }
    if (endpoints.length === 0) return { kind: 'unavailable', reason: `service ${name} has no ready endpoints` };
    return { kind: 'endpoints', endpoints };
  }
}

export function backendKey(b: ServiceBackend): string {
  return `${b.namespace}/${b.service}:${'number' in b.port ? b.port.number : b.port.name}`;
}
