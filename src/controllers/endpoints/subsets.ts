// A Service's pods → Endpoints subsets. Each pod contributes one address (ready or not
// ready) with the ports its containers resolve the service's targetPorts to; addresses
// with the same set of ports share a subset, so pods that number a named port differently
// land in different subsets. The result is sorted, so the same world gives the same JSON.
import type { KObject } from '../../api/object.ts';
import {
  findPort, isHeadless, isPodReady, podHostname, podIP, podTargetRef, publishNotReady, servicePorts, shouldPodBeInEndpoints,
} from './pods.ts';

type Json = Record<string, unknown>;

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: Json;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** Kubernetes caps an Endpoints object at this many addresses and marks it truncated. */
export const MAX_ENDPOINT_ADDRESSES = 1000;

export interface BuiltSubsets {
  subsets: EndpointSubset[];
  /** True when addresses beyond MAX_ENDPOINT_ADDRESSES were dropped. */
  truncated: boolean;
}

interface Entry { address: EndpointAddress; ready: boolean; ports: EndpointPort[] }

const portKey = (p: EndpointPort): string => `${p.name ?? ''}\x00${p.port}\x00${p.protocol}\x00${p.appProtocol ?? ''}`;
const comparePorts = (a: EndpointPort, b: EndpointPort): number => (portKey(a) < portKey(b) ? -1 : portKey(a) > portKey(b) ? 1 : 0);

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  const ka = ipSortKey(a.ip);
  const kb = ipSortKey(b.ip);
  if (ka !== kb) return ka < kb ? -1 : 1;
  const na = String(a.targetRef.uid ?? a.targetRef.name ?? '');
  const nb = String(b.targetRef.uid ?? b.targetRef.name ?? '');
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** IPv4 addresses sort numerically (10.0.0.9 before 10.0.0.10); anything else as text after them. */
function ipSortKey(ip: string): string {
  const parts = ip.split('.');
  if (parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p))) return `4${parts.map((p) => p.padStart(3, '0')).join('.')}`;
  return `6${ip}`;
}

export function buildSubsets(svc: KObject, pods: readonly KObject[]): BuiltSubsets {
  const tolerateUnready = publishNotReady(svc);
  const ports = servicePorts(svc);
  const entries: Entry[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const address: EndpointAddress = { ip: podIP(pod), targetRef: podTargetRef(pod) };
    const hostname = podHostname(pod, svc);
    if (hostname) address.hostname = hostname;
    const nodeName = (pod.spec as Json | undefined)?.nodeName;
    if (typeof nodeName === 'string' && nodeName) address.nodeName = nodeName;
    const ready = tolerateUnready || isPodReady(pod);
    if (ports.length === 0) {
      // Only a headless service without ports lists bare addresses.
      if (isHeadless(svc)) entries.push({ address, ready, ports: [] });
      continue;
    }
    const resolved: EndpointPort[] = [];
    for (const sp of ports) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      resolved.push({
        ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol,
        ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
      });
    }
    if (resolved.length === 0) continue;
    entries.push({ address, ready, ports: resolved.sort(comparePorts) });
  }

  // Ready addresses first, so truncation keeps the ones that carry traffic.
  entries.sort((a, b) => Number(b.ready) - Number(a.ready) || compareAddresses(a.address, b.address));
  const truncated = entries.length > MAX_ENDPOINT_ADDRESSES;
  const kept = truncated ? entries.slice(0, MAX_ENDPOINT_ADDRESSES) : entries;

  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const e of kept) {
    const key = e.ports.map(portKey).join('\x01');
    let g = groups.get(key);
    if (!g) { g = { ports: e.ports, ready: [], notReady: [] }; groups.set(key, g); }
    (e.ready ? g.ready : g.notReady).push(e.address);
  }
  const subsets = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => {
    const ss: EndpointSubset = {};
    if (g.ready.length) ss.addresses = g.ready.sort(compareAddresses);
    if (g.notReady.length) ss.notReadyAddresses = g.notReady.sort(compareAddresses);
    if (g.ports.length) ss.ports = g.ports;
    return ss;
  });
  return { subsets, truncated };
}
