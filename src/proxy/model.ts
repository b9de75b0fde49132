// Services + EndpointSlices → what the proxy should do, as plain data (no nft here).
// One entry per Service port, with the endpoints kube-proxy would use: ready ones, or
// serving-but-terminating ones when none is ready; and the local subset for
// externalTrafficPolicy: Local.
import type { KObject } from '../api/object.ts';

export type Protocol = 'tcp' | 'udp' | 'sctp';

export interface Endpoint {
  ip: string;
  port: number;
}

export interface ServicePort {
  /** `ns/name/proto/portname` (portname = the port's name, or its number when unnamed). */
  key: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** 0 when the Service has none (ClusterIP type). */
  nodePort: number;
  /** spec.externalIPs and status.loadBalancer.ingress[].ip. */
  externalIPs: string[];
  /** externalTrafficPolicy: Local (NodePort and LoadBalancer only). */
  externalLocal: boolean;
  /** ClientIP affinity timeout in seconds; 0 = no affinity. */
  affinitySeconds: number;
  /** Endpoints for traffic to the ClusterIP (and external traffic with policy Cluster). */
  endpoints: Endpoint[];
  /** Endpoints on this node, for external traffic with policy Local. */
  localEndpoints: Endpoint[];
}

export interface ModelOptions {
  nodeName: string;
  /** The cluster DNS address: node-local DNS binds it itself, so its Service is skipped. */
  clusterDns?: string;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
export const DEFAULT_AFFINITY_SECONDS = 10800;

interface SliceEndpoint { ip: string; port: number; ready: boolean; serving: boolean; terminating: boolean; local: boolean }

/** The desired proxy state, sorted by key so equal inputs give equal output. */
export function buildModel(services: readonly KObject[], slices: readonly KObject[], opts: ModelOptions): ServicePort[] {
  const slicesByService = new Map<string, KObject[]>();
  for (const s of slices) {
    const svc = s.metadata.labels?.['kubernetes.io/service-name'];
    if (!svc || (s.addressType && s.addressType !== 'IPv4')) continue;
    const k = `${s.metadata.namespace}/${svc}`;
    let list = slicesByService.get(k);
    if (!list) slicesByService.set(k, (list = []));
    list.push(s);
  }
  const out: ServicePort[] = [];
  for (const svc of services) {
    const spec = (svc.spec ?? {}) as Record<string, any>;
    const clusterIP: unknown = spec.clusterIP;
    if (spec.type === 'ExternalName' || typeof clusterIP !== 'string' || !IPV4.test(clusterIP)) continue;
    if (clusterIP === opts.clusterDns) continue;
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name!;
    const status = (svc.status ?? {}) as Record<string, any>;
    const external = [
      ...((spec.externalIPs as string[] | undefined) ?? []),
      ...(((status.loadBalancer?.ingress as { ip?: string }[] | undefined) ?? []).map((i) => i.ip ?? '')),
    ].filter((ip) => IPV4.test(ip));
    const externalIPs = [...new Set(external)].sort();
    const hasExternal = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const affinitySeconds = spec.sessionAffinity === 'ClientIP'
      ? Number(spec.sessionAffinityConfig?.clientIP?.timeoutSeconds) || DEFAULT_AFFINITY_SECONDS : 0;
    for (const p of (spec.ports as Record<string, any>[] | undefined) ?? []) {
      const protocol = String(p.protocol ?? 'TCP').toLowerCase() as Protocol;
      if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') continue;
      const portName: string = p.name ?? '';
      const eps = endpointsFor(slicesByService.get(`${ns}/${name}`) ?? [], portName, protocol, opts.nodeName);
      out.push({
        key: `${ns}/${name}/${protocol}/${portName || p.port}`,
        protocol, clusterIP, port: Number(p.port),
        nodePort: hasExternal ? Number(p.nodePort) || 0 : 0,
        externalIPs,
        externalLocal: hasExternal && spec.externalTrafficPolicy === 'Local',
        affinitySeconds,
        endpoints: usable(eps),
        localEndpoints: usable(eps.filter((e) => e.local)),
      });
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function endpointsFor(slices: KObject[], portName: string, protocol: Protocol, nodeName: string): SliceEndpoint[] {
  const seen = new Map<string, SliceEndpoint>();
  for (const s of slices) {
    const port = ((s.ports as Record<string, any>[] | undefined) ?? [])
      .find((p) => (p.name ?? '') === portName && String(p.protocol ?? 'TCP').toLowerCase() === protocol);
    if (!port || !port.port) continue;
    for (const e of (s.endpoints as Record<string, any>[] | undefined) ?? []) {
      const ip = e.addresses?.[0];
      if (typeof ip !== 'string' || !IPV4.test(ip)) continue;
      const c = e.conditions ?? {};
      // As the API says: ready unset means ready; serving unset follows ready.
      const ready = c.ready !== false;
      const ep: SliceEndpoint = {
        ip, port: Number(port.port), ready, serving: c.serving ?? ready, terminating: c.terminating === true,
        local: e.nodeName === nodeName,
      };
      const k = `${ip}:${ep.port}`;
      // An endpoint listed in two slices (during a slice rewrite) counts once, ready if either says so.
      const prev = seen.get(k);
      if (!prev || (!prev.ready && ep.ready)) seen.set(k, ep);
    }
  }
  return [...seen.values()];
}

/** Ready endpoints; when none is ready, the serving ones that are terminating. */
function usable(eps: SliceEndpoint[]): Endpoint[] {
  let pick = eps.filter((e) => e.ready && !e.terminating);
  if (pick.length === 0) pick = eps.filter((e) => e.serving && e.terminating);
  return pick.map((e) => ({ n: ipNumber(e.ip), ep: { ip: e.ip, port: e.port } }))
    .sort((a, b) => a.n - b.n || a.ep.port - b.ep.port)
    .map((x) => x.ep);
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
