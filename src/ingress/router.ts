// The proxy's view of the cluster: turns a request's host and path into an endpoint.
// Informer events only mark the route table (Ingresses, IngressClasses) or the backend
// index (Services, EndpointSlices) stale; prepare() (run once per burst of events, off the
// request path) or else the next request rebuilds what is stale, once. Each backend's
// endpoints are picked round robin.
import type { KObject } from '../api/object.ts';
import { classSelector } from './class.ts';
import { RouteTable, type Route } from './routes.ts';
import { BackendIndex, backendKey, type Endpoint } from './backends.ts';

export interface ListSource {
  list(): KObject[];
}

export interface RouterSources {
  ingresses: ListSource;
  ingressClasses: ListSource;
  services: ListSource;
  endpointSlices: ListSource;
  /** False until the caches hold the cluster's state (requests get 503 meanwhile). */
  synced?: () => boolean;
}

export type Decision =
  | { kind: 'notFound' }
  | { kind: 'unavailable'; route?: Route; reason: string }
  | { kind: 'proxy'; route: Route; endpoint: Endpoint };

const MAX_COUNTERS = 10_000;

export class Router {
  readonly #sources: RouterSources;
  #routes: RouteTable | undefined;
  #backends: BackendIndex | undefined;
  readonly #next = new Map<string, number>();

  constructor(sources: RouterSources) {
    this.#sources = sources;
  }

  /** Ingresses or IngressClasses changed. */
  invalidateRoutes(): void {
    this.#routes = undefined;
  }

  /** Services or EndpointSlices changed. */
  invalidateBackends(): void {
    this.#backends = undefined;
  }

  /** Rebuilds whatever is stale now, so requests find the tables ready. */
  prepare(): void {
    if (this.#sources.synced && !this.#sources.synced()) return;
    void this.routes;
    this.#backendIndex();
  }

  get routes(): RouteTable {
    const s = this.#sources;
    return this.#routes ??= RouteTable.build(s.ingresses.list(), classSelector(s.ingressClasses.list()));
  }

  decide(host: string | undefined, path: string): Decision {
    if (this.#sources.synced && !this.#sources.synced()) return { kind: 'unavailable', reason: 'ingress controller is starting' };
    const route = this.routes.match(host, path);
    if (!route) return { kind: 'notFound' };
    if (!route.backend) return { kind: 'unavailable', route, reason: `${route.ingress}: resource backends are not supported` };
    const r = this.#backendIndex().resolve(route.backend);
    if (r.kind === 'unavailable') return { kind: 'unavailable', route, reason: r.reason };
    const key = backendKey(route.backend);
    const n = this.#next.get(key) ?? 0;
    if (this.#next.size >= MAX_COUNTERS && n === 0) this.#next.clear();
    this.#next.set(key, (n + 1) % r.endpoints.length);
    return { kind: 'proxy', route, endpoint: r.endpoints[n % r.endpoints.length]! };
  }

  #backendIndex(): BackendIndex {
    const s = this.#sources;
    return this.#backends ??= BackendIndex.build(s.services.list(), s.endpointSlices.list());
  }
}
