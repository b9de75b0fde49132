// Service IP and node port allocation (Kubernetes' service REST allocators), as an
// admission step of Service create and update: a Service of type ClusterIP, NodePort or
// LoadBalancer without spec.clusterIP gets the first free address of the service CIDR
// (the network and broadcast addresses are never handed out, and the first usable
// address is kept for the `kubernetes` Service); a chosen address must be inside the
// range and free. NodePort and LoadBalancer ports get free node ports the same way.
// What is allocated is read from the stored Services, so there is no separate state to
// drift, and a deleted Service frees its addresses; the registry serialises allocating
// writes with a ServiceAllocationLock so two creates cannot pick the same address.
import type { KObject } from '../../api/object.ts';
import { invalid, type FieldError } from '../../api/field-error.ts';
import { NODE_PORT_RANGE } from '../../api/kinds/service.ts';
import { internalError } from '../errors.ts';

export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';

export interface ServiceRange {
  /** The network address as a 32-bit number. */
  base: number;
  /** Addresses in the range, network and broadcast included. */
  size: number;
  /** The range as Kubernetes prints it in errors (normalised CIDR). */
  text: string;
}

function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    v = v * 256 + Number(p);
  }
  return v;
}

const formatIPv4 = (v: number): string => [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');

/** The IPv4 range of a --service-cidr value (the first IPv4 CIDR of a dual-stack list). */
export function parseServiceCidr(text: string = DEFAULT_SERVICE_CIDR): ServiceRange {
  for (const part of text.split(',').map((s) => s.trim())) {
    const m = /^([\d.]+)\/(\d{1,2})$/.exec(part);
    if (!m) continue;
    const ip = parseIPv4(m[1]);
    const prefix = Number(m[2]);
    if (ip === undefined || prefix > 30 || prefix < 8) continue;
    const size = 2 ** (32 - prefix);
    const base = ip - (ip % size);
    return { base, size, text: `${formatIPv4(base)}/${prefix}` };
  }
  throw new Error(`invalid service CIDR ${JSON.stringify(text)}: need an IPv4 CIDR with a prefix between /8 and /30`);
}

/** The address the `kubernetes` Service takes: the first usable one. */
export const kubernetesServiceIP = (range: ServiceRange): string => formatIPv4(range.base + 1);

/** Network and broadcast excluded, as Kubernetes' allocator does. */
const inRange = (range: ServiceRange, ip: number): boolean => ip > range.base && ip < range.base + range.size - 1;

/** Whether an address may be handed to a Service from this range. */
export function isServiceIP(range: ServiceRange, ip: string): boolean {
  const v = parseIPv4(ip);
  return v !== undefined && inRange(range, v);
}

type Json = Record<string, unknown>;
const specOf = (o: KObject | undefined): Json => (o?.spec && typeof o.spec === 'object' ? o.spec as Json : {});
const portsOf = (spec: Json): Json[] => (Array.isArray(spec.ports) ? spec.ports.filter((p): p is Json => typeof p === 'object' && p !== null) : []);

function ipsOf(svc: KObject): string[] {
  const spec = specOf(svc);
  const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs.filter((x): x is string => typeof x === 'string') : [];
  if (typeof spec.clusterIP === 'string') ips.push(spec.clusterIP);
  return ips;
}

const wantsNodePorts = (spec: Json): boolean =>
  spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);

/**
 * Allocates (and checks chosen) cluster IP and node ports of `svc`, being created (no
 * `old`) or updated from `old`; `others` are every other stored Service. Mutates `svc`;
 * returns the field errors of chosen values that are out of range or taken.
 */
export function allocateServiceAddresses(svc: KObject, old: KObject | undefined, others: KObject[], range: ServiceRange): FieldError[] {
  const errs: FieldError[] = [];
  const spec = (svc.spec ??= {}) as Json;
  const type = typeof spec.type === 'string' ? spec.type : 'ClusterIP';
  const oldSpec = specOf(old);

  if (type !== 'ExternalName' && spec.clusterIP !== 'None') {
    const chosen = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
    const kept = chosen !== '' && chosen === oldSpec.clusterIP;
    if (!kept) {
      const taken = new Set<number>();
      for (const o of others) for (const ip of ipsOf(o)) { const v = parseIPv4(ip); if (v !== undefined) taken.add(v); }
      if (chosen) {
        const v = parseIPv4(chosen);
        // Other families and bad syntax are for validation to report.
        if (v !== undefined) {
          if (!inRange(range, v)) errs.push(invalid('spec.clusterIPs[0]', chosen, `provided IP is not in the valid range. The range of valid IPs is ${range.text}`));
          else if (taken.has(v)) errs.push(invalid('spec.clusterIPs[0]', chosen, 'provided IP is already allocated'));
          else spec.clusterIPs = [chosen];
        }
      } else {
        // The first usable address belongs to the `kubernetes` Service.
        let found: number | undefined;
        for (let v = range.base + 2; v < range.base + range.size - 1; v++) {
          if (!taken.has(v)) { found = v; break; }
        }
        if (found === undefined) throw internalError('failed to allocate a serviceIP: range is full');
        spec.clusterIP = formatIPv4(found);
        spec.clusterIPs = [spec.clusterIP];
      }
    }
  }

  if (wantsNodePorts(spec)) {
    const taken = new Set<number>();
    for (const o of others) for (const p of portsOf(specOf(o))) if (typeof p.nodePort === 'number') taken.add(p.nodePort);
    const own = new Set<number>(portsOf(oldSpec).map((p) => p.nodePort).filter((n): n is number => typeof n === 'number' && n > 0));
    const ports = portsOf(spec);
    ports.forEach((p, i) => {
      const n = p.nodePort;
      if (typeof n !== 'number' || n === 0) return;
      if (n < NODE_PORT_RANGE.min || n > NODE_PORT_RANGE.max) return; // validation reports it
      if (!own.has(n) && taken.has(n)) errs.push(invalid(`spec.ports[${i}].nodePort`, n, 'provided port is already allocated'));
    });
    const used = new Set([...taken, ...ports.map((p) => p.nodePort).filter((n): n is number => typeof n === 'number')]);
    for (const p of ports) {
      if (typeof p.nodePort === 'number' && p.nodePort !== 0) continue;
      let found: number | undefined;
      for (let n = NODE_PORT_RANGE.min; n <= NODE_PORT_RANGE.max; n++) {
        if (!used.has(n)) { found = n; break; }
      }
      if (found === undefined) throw internalError('failed to allocate a nodePort: range is full');
      p.nodePort = found;
      used.add(found);
    }
  }
  return errs;
}

/** A FIFO async mutex: run() calls execute one at a time, in the order made. */
export class ServiceAllocationLock {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
