// What a Service's EndpointSlices should hold: its pods as slice endpoints, grouped by the
// port numbers they resolve to (one group per distinct port list; each slice holds one
// group). Terminating pods are kept with their conditions so proxies can drain them.
import type { KObject } from '../../api/object.ts';
import type { Informer } from '../../client/informer.ts';
import {
  findPort, isPodReady, isTerminating, podHostname, podIP, podTargetRef, publishNotReady, servicePorts, shouldPodBeInEndpoints,
  isHeadless,
} from '../endpoints/pods.ts';

type Json = Record<string, unknown>;

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface DesiredGroup {
  key: string;
  ports: SlicePort[];
  /** Endpoint key (`ns/pod`) → endpoint JSON. */
  endpoints: Map<string, Json>;
}

export function portsKey(ports: readonly Json[] | readonly SlicePort[]): string {
  return JSON.stringify((ports as Json[]).map((p) => [String(p.name ?? ''), Number(p.port ?? 0), String(p.protocol ?? 'TCP'), String(p.appProtocol ?? '')]).sort());
}

/** The identity of an endpoint inside a service's slices: its pod, or its first address. */
export function endpointKey(ep: Json): string {
  const ref = ep.targetRef as Json | undefined;
  if (ref?.name) return `${String(ref.namespace ?? '')}/${String(ref.name)}`;
  return `ip:${String((ep.addresses as unknown[] | undefined)?.[0] ?? '')}`;
}

export function desiredGroups(svc: KObject, pods: readonly KObject[], nodes: Informer | undefined): Map<string, DesiredGroup> {
  const groups = new Map<string, DesiredGroup>();
  const svcPorts = servicePorts(svc);
  const publish = publishNotReady(svc);
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ip = podIP(pod);
    if (ip.includes(':')) continue; // IPv4 slices only
    const ports: SlicePort[] = [];
    for (const sp of svcPorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      ports.push({ name: sp.name, port, protocol: sp.protocol, ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    // A pod resolving none of several ports serves nothing here; a portless headless
    // service lists bare addresses.
    if (svcPorts.length > 0 && ports.length === 0) continue;
    if (svcPorts.length === 0 && !isHeadless(svc)) continue;
    ports.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port - b.port));
    const terminating = isTerminating(pod);
    const ready = isPodReady(pod);
    const endpoint: Json = {
      addresses: [ip],
      conditions: { ready: publish || (ready && !terminating), serving: ready, terminating },
    };
    const hostname = podHostname(pod, svc);
    if (hostname) endpoint.hostname = hostname;
    endpoint.targetRef = podTargetRef(pod);
    const nodeName = (pod.spec as Json | undefined)?.nodeName;
    if (typeof nodeName === 'string' && nodeName) {
      endpoint.nodeName = nodeName;
      const zone = nodes?.get(nodeName)?.metadata.labels?.[ZONE_LABEL];
      if (zone) endpoint.zone = zone;
    }
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) { g = { key, ports, endpoints: new Map() }; groups.set(key, g); }
    g.endpoints.set(endpointKey(endpoint), endpoint);
  }
  return groups;
}
