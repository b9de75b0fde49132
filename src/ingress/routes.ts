// The routing table: Skiff's Ingresses folded into per-host maps once, whenever they
// change, so a request costs a few map lookups (its host, then one per path element)
// instead of a scan of every Ingress. Pure: objects in, a table out.
//
// Matching follows the networking.k8s.io/v1 Ingress spec:
// - hosts: exact, or `*.example.com` matching exactly one more label (`a.example.com`,
//   not `example.com` nor `a.b.example.com`); a rule without a host matches any host.
//   A request tries its exact host, then its wildcard, then host-less rules, then the
//   default backend (like Traefik, whose routers are independent: a host with no matching
//   path falls through to the catch-all rules).
// - paths: the longest match wins and, at equal length, Exact beats Prefix. Prefix is
//   element-wise: `/foo` (or `/foo/`) matches `/foo`, `/foo/` and `/foo/bar`, not
//   `/foobar`. ImplementationSpecific is treated as Prefix.
// - the same host + path type + path in two Ingresses: the older Ingress wins (creation
//   time, then namespace/name), as ingress-nginx does; likewise for spec.defaultBackend.
import { olderFirst, type KObject } from '../api/object.ts';
import { obj, objs, str, type Json } from '../api/kinds/access.ts';
import { isOurs, type ClassSelector } from './class.ts';

/** A Service port an Ingress sends traffic to. */
export interface ServiceBackend {
  namespace: string;
  service: string;
  /** The Service port by number or by name. */
  port: { number: number } | { name: string };
}

export interface Route {
  /** undefined: a `resource` backend, which Skiff cannot serve. */
  backend: ServiceBackend | undefined;
  /** namespace/name of the Ingress the route came from. */
  ingress: string;
  /** The path as written (empty for the default backend). */
  path: string;
  pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific' | 'Default';
}

class HostRoutes {
  readonly exact = new Map<string, Route>();
  /** Keyed by the prefix without trailing slashes ('/' for the root). */
  readonly prefix = new Map<string, Route>();

  add(route: Route): void {
    if (route.pathType === 'Exact') {
      if (!this.exact.has(route.path)) this.exact.set(route.path, route);
      return;
    }
    const key = trimSlashes(route.path || '/');
    if (!this.prefix.has(key)) this.prefix.set(key, route);
  }

  match(path: string): Route | undefined {
    const exact = this.exact.get(path);
    if (exact) return exact; // an Exact match is as long as the request path: nothing beats it
    if (this.prefix.size === 0) return undefined;
    // The request path, then each parent (element-wise), longest first.
    let p = trimSlashes(path);
    for (;;) {
      const r = this.prefix.get(p);
      if (r) return r;
      if (p === '/') return undefined;
      const i = p.lastIndexOf('/');
      p = i <= 0 ? '/' : p.slice(0, i);
    }
  }
}

export class RouteTable {
  readonly #exactHosts = new Map<string, HostRoutes>();
  /** `*.example.com` keyed by `example.com`. */
  readonly #wildcardHosts = new Map<string, HostRoutes>();
  readonly #anyHost = new HostRoutes();
  #defaultRoute: Route | undefined;
  #routes = 0;

  /** The table for the Ingresses `selector` says are ours. */
  static build(ingresses: Iterable<KObject>, selector: ClassSelector): RouteTable {
    const table = new RouteTable();
    const ours = [...ingresses].filter((ing) => !ing.metadata.deletionTimestamp && isOurs(ing, selector)).sort(olderFirst);
    for (const ing of ours) table.#add(ing);
    return table;
  }

  /** How many routes (host × path) the table holds, the default backend included. */
  get size(): number {
    return this.#routes;
  }

  /** The route for a request's Host header and path (a query string is ignored). */
  match(host: string | undefined, rawPath: string): Route | undefined {
    const h = normalizeHost(host ?? '');
    const q = rawPath.indexOf('?');
    const path = (q >= 0 ? rawPath.slice(0, q) : rawPath) || '/';
    const dot = h.indexOf('.');
    return this.#exactHosts.get(h)?.match(path)
      ?? (dot > 0 ? this.#wildcardHosts.get(h.slice(dot + 1))?.match(path) : undefined)
      ?? this.#anyHost.match(path)
      ?? this.#defaultRoute;
  }

  #add(ing: KObject): void {
    const spec = obj(ing.spec);
    const namespace = ing.metadata.namespace ?? 'default';
    const ingress = `${namespace}/${ing.metadata.name}`;
    if (spec.defaultBackend !== undefined && !this.#defaultRoute) {
      this.#defaultRoute = { backend: serviceBackend(namespace, obj(spec.defaultBackend)), ingress, path: '', pathType: 'Default' };
      this.#routes++;
    }
    for (const rule of objs(spec.rules)) {
      const host = normalizeHost(str(rule.host));
      for (const p of objs(obj(rule.http).paths)) {
        const pathType = (['Exact', 'Prefix'].includes(str(p.pathType)) ? p.pathType : 'ImplementationSpecific') as Route['pathType'];
        const route: Route = { backend: serviceBackend(namespace, obj(p.backend)), ingress, path: str(p.path), pathType };
        this.#hostRoutes(host).add(route);
        this.#routes++;
      }
    }
  }

  #hostRoutes(host: string): HostRoutes {
    if (!host) return this.#anyHost;
    const [map, key] = host.startsWith('*.') ? [this.#wildcardHosts, host.slice(2)] : [this.#exactHosts, host];
    let hr = map.get(key);
    if (!hr) map.set(key, hr = new HostRoutes());
    return hr;
  }
}

function serviceBackend(namespace: string, backend: Json): ServiceBackend | undefined {
  const service = obj(backend.service);
  if (!str(service.name)) return undefined;
  const port = obj(service.port);
  return {
    namespace, service: str(service.name),
    port: typeof port.number === 'number' ? { number: port.number } : { name: str(port.name) },
  };
}

/** Lower case, without a port (`host:8080`, `[::1]:80`) or a trailing dot. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : h;
  }
  const colon = h.indexOf(':');
  if (colon >= 0 && h.indexOf(':', colon + 1) < 0) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

function trimSlashes(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end--;
  const p = path.slice(0, end);
  return p === '' || p === '/' ? '/' : p.startsWith('/') ? p : `/${p}`;
}

