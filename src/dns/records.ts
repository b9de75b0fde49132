// Answers for the cluster domain, computed from Services and EndpointSlices the way
// CoreDNS's kubernetes plugin answers them (plugin/kubernetes, with the default Corefile
// `kubernetes cluster.local in-addr.arpa ip6.arpa { pods insecure; fallthrough in-addr.arpa ip6.arpa }`).
//
// Pure: `ClusterZone.build(services, slices)` turns a snapshot into a table of records,
// `zone.answer(question)` answers from it, or returns undefined for names that are not
// ours (everything outside the cluster domain, and reverse names with no cluster IP
// behind them — CoreDNS's fallthrough), which the server forwards.
//
//   svc.ns.svc.<domain>                  A/AAAA ClusterIP(s); headless: ready endpoint IPs;
//                                        ExternalName: CNAME; SRV: one per port
//   ep.svc.ns.svc.<domain>               A/AAAA of a ready endpoint; ep = its hostname, or
//                                        its IP with dashes (10-1-2-3)
//   _port._proto.svc.ns.svc.<domain>     SRV for a named port → svc name, or each endpoint
//                                        of a headless service; targets' A/AAAA as additionals
//   a-b-c-d.ns.pod.<domain>              A a.b.c.d (pods insecure: not checked against pods)
//   d.c.b.a.in-addr.arpa, ….ip6.arpa     PTR → service name (ClusterIP) or endpoint name
//   dns-version.<domain>                 TXT "1.1.0" (the schema version)
//
// A name that exists (or has names under it) with no record of the type asked → NOERROR,
// no answers, the zone's SOA in authority (NODATA); a name that does not exist → NXDOMAIN
// with the SOA. The SOA's TTL and minimum are the record TTL, as in CoreDNS.
import type { KObject } from '../api/object.ts';
import { isIPv4, isIPv6 } from 'node:net';
import {
  Class, Rcode, Type, ipv6Bytes, normalizeName,
  type Question, type ResourceRecord, type SoaData, type SrvData,
} from './wire.ts';

/** CoreDNS kubernetes plugin's default `ttl`. */
export const DEFAULT_TTL = 5;
export const DEFAULT_DOMAIN = 'cluster.local';
/** The DNS schema version CoreDNS publishes (dns-version.<domain> TXT). */
export const SCHEMA_VERSION = '1.1.0';

export interface ZoneOptions {
  domain?: string;
  ttl?: number;
  /** SOA serial; CoreDNS uses the time of the last change it saw. Default: now, in seconds. */
  serial?: number;
  /** Namespaces known to exist: their `ns.svc.<domain>` names answer NODATA, not NXDOMAIN. */
  namespaces?: Iterable<string>;
  /** Keeps each Service's records between builds while it and its slices are the same objects. */
  cache?: ZoneCache;
}

/** The names, records and reverse names one Service adds to the zone. */
interface Contribution {
  names: string[];
  records: ResourceRecord[];
  ptrs: { name: string; target: string }[];
}

/**
 * Each Service's contribution, kept while the Service and its EndpointSlices are the same
 * objects (an informer replaces an object when it changes and never edits it in place),
 * so a rebuild after one change recomputes one Service and merges the rest.
 */
export class ZoneCache {
  #entries = new WeakMap<KObject, { slices: readonly KObject[]; domain: string; ttl: number; c: Contribution }>();

  get(svc: KObject, slices: readonly KObject[], domain: string, ttl: number): Contribution | undefined {
    const e = this.#entries.get(svc);
    if (!e || e.domain !== domain || e.ttl !== ttl || e.slices.length !== slices.length) return undefined;
    for (let i = 0; i < slices.length; i++) if (e.slices[i] !== slices[i]) return undefined;
    return e.c;
  }

  set(svc: KObject, slices: readonly KObject[], domain: string, ttl: number, c: Contribution): void {
    this.#entries.set(svc, { slices: [...slices], domain, ttl, c });
  }
}

export interface Answer {
  rcode: number;
  /** Authoritative: every cluster answer is. */
  aa: boolean;
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Json : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

interface ReadyEndpoint { ip: string; name: string }
interface SlicePort { name: string; port: number; protocol: string }

export class ClusterZone {
  readonly domain: string;
  readonly ttl: number;
  readonly soa: ResourceRecord;
  /** Owner name (normalized) → records. */
  readonly #records = new Map<string, ResourceRecord[]>();
  /** Every name in the domain that exists, including empty non-terminals. */
  readonly #names = new Set<string>();
  /** Reverse names → PTR records. */
  readonly #ptr = new Map<string, ResourceRecord[]>();

  private constructor(opts: ZoneOptions) {
    this.domain = normalizeName(opts.domain ?? DEFAULT_DOMAIN);
    this.ttl = opts.ttl ?? DEFAULT_TTL;
    const soa: SoaData = {
      mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`,
      serial: (opts.serial ?? Math.floor(Date.now() / 1000)) >>> 0,
      refresh: 7200, retry: 1800, expire: 86400, minimum: this.ttl,
    };
    this.soa = { name: this.domain, type: Type.SOA, class: Class.IN, ttl: this.ttl, data: soa };
    this.#add(this.soa);
    this.#add({ name: this.domain, type: Type.NS, class: Class.IN, ttl: this.ttl, data: `ns.dns.${this.domain}` });
    this.#add(this.#rr(`dns-version.${this.domain}`, Type.TXT, [SCHEMA_VERSION]));
    this.#exists(`svc.${this.domain}`);
    this.#exists(`pod.${this.domain}`);
    for (const ns of opts.namespaces ?? []) this.#exists(`${ns}.svc.${this.domain}`);
  }

  static build(services: readonly KObject[], endpointSlices: readonly KObject[], opts: ZoneOptions = {}): ClusterZone {
    const zone = new ClusterZone(opts);
    const slicesByService = new Map<string, KObject[]>();
    for (const s of endpointSlices) {
      const svc = s.metadata.labels?.['kubernetes.io/service-name'];
      if (!svc) continue;
      const key = `${s.metadata.namespace ?? ''}/${svc}`;
      let list = slicesByService.get(key);
      if (!list) slicesByService.set(key, (list = []));
      list.push(s);
    }
    const cache = opts.cache;
    for (const svc of services) {
      const key = `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`;
      const own = slicesByService.get(key) ?? [];
      let c = cache?.get(svc, own, zone.domain, zone.ttl);
      if (!c) {
        c = zone.#contribution(svc, own);
        cache?.set(svc, own, zone.domain, zone.ttl, c);
      }
      zone.#apply(c);
    }
    return zone;
  }

  #rr(name: string, type: number, data: ResourceRecord['data']): ResourceRecord {
    return { name, type, class: Class.IN, ttl: this.ttl, data };
  }

  #exists(name: string): void {
    let n = normalizeName(name);
    while (n.length > this.domain.length && n.endsWith(`.${this.domain}`)) {
      if (this.#names.has(n)) return; // its parents were added with it
      this.#names.add(n);
      n = n.slice(n.indexOf('.') + 1);
    }
    this.#names.add(this.domain);
  }

  #add(rr: ResourceRecord): void {
    const key = normalizeName(rr.name);
    let list = this.#records.get(key);
    if (!list) this.#records.set(key, (list = []));
    // The same address twice (an endpoint in two slices) is one record.
    if (!list.some((r) => r.type === rr.type && sameData(r.data, rr.data))) list.push(rr);
    this.#exists(key);
  }

  #ptrOf(c: Contribution, ip: string, target: string): void {
    const name = reverseName(ip);
    if (name) c.ptrs.push({ name, target });
  }

  #address(c: Contribution, name: string, ip: string): void {
    if (isIPv4(ip)) c.records.push(this.#rr(name, Type.A, ip));
    else if (isIPv6(ip)) c.records.push(this.#rr(name, Type.AAAA, ip));
  }

  #apply(c: Contribution): void {
    for (const n of c.names) this.#exists(n);
    for (const rr of c.records) this.#add(rr);
    for (const { name, target } of c.ptrs) {
      let list = this.#ptr.get(name);
      if (!list) this.#ptr.set(name, (list = []));
      if (!list.some((r) => r.data === target)) list.push({ name, type: Type.PTR, class: Class.IN, ttl: this.ttl, data: target });
    }
  }

  /** What one Service puts in the zone (pure: a function of the Service, its slices and the zone's domain and TTL). */
  #contribution(svc: KObject, slices: readonly KObject[]): Contribution {
    const c: Contribution = { names: [], records: [], ptrs: [] };
    const ns = svc.metadata.namespace ?? 'default';
    const base = `${svc.metadata.name}.${ns}.svc.${this.domain}`;
    const spec = obj(svc['spec']);
    c.names.push(base);
    if (str(spec['type']) === 'ExternalName') {
      const target = str(spec['externalName']).replace(/\.$/, '');
      if (target) c.records.push(this.#rr(base, Type.CNAME, target));
      return c;
    }
    const clusterIPs = arr(spec['clusterIPs']).map(str).filter(Boolean);
    if (clusterIPs.length === 0 && str(spec['clusterIP'])) clusterIPs.push(str(spec['clusterIP']));
    const headless = clusterIPs.length === 0 ? false : clusterIPs[0] === 'None';

    // Ready endpoints, by slice (each slice has its own ports).
    const endpoints: ReadyEndpoint[] = [];
    const bySlice: { eps: ReadyEndpoint[]; ports: SlicePort[] }[] = [];
    for (const slice of slices) {
      const eps: ReadyEndpoint[] = [];
      for (const e of arr(slice['endpoints']).map(obj)) {
        // CoreDNS keeps only ready addresses; a missing `ready` means ready (the API's rule).
        if (obj(e['conditions'])['ready'] === false) continue;
        const hostname = str(e['hostname']);
        for (const ip of arr(e['addresses']).map(str).filter(Boolean)) eps.push({ ip, name: hostname || dashed(ip) });
      }
      const ports = arr(slice['ports']).map(obj).map((p) => ({
        name: str(p['name']), port: Number(p['port'] ?? 0), protocol: str(p['protocol']) || 'TCP',
      }));
      endpoints.push(...eps);
      bySlice.push({ eps, ports });
    }

    // Endpoint names answer for every service (CoreDNS matches the endpoint label for any
    // service); PTRs for endpoint IPs point at them.
    for (const ep of endpoints) {
      this.#address(c, `${ep.name}.${base}`, ep.ip);
      this.#ptrOf(c, ep.ip, `${ep.name}.${base}`);
    }

    if (headless) {
      for (const ep of endpoints) this.#address(c, base, ep.ip);
      for (const { eps, ports } of bySlice) {
        for (const p of ports) {
          for (const ep of eps) {
            const srv: SrvData = { priority: 0, weight: 100, port: p.port, target: `${ep.name}.${base}` };
            c.records.push(this.#rr(base, Type.SRV, srv));
            if (p.name) c.records.push(this.#rr(`_${p.name}._${p.protocol.toLowerCase()}.${base}`, Type.SRV, srv));
          }
        }
      }
      return c;
    }
    for (const ip of clusterIPs) {
      this.#address(c, base, ip);
      this.#ptrOf(c, ip, base);
    }
    if (clusterIPs.length === 0) return c; // not allocated yet: the name exists, with no records
    for (const p of arr(spec['ports']).map(obj)) {
      const name = str(p['name']);
      const srv: SrvData = { priority: 0, weight: 100, port: Number(p['port'] ?? 0), target: base };
      c.records.push(this.#rr(base, Type.SRV, srv));
      if (name) c.records.push(this.#rr(`_${name}._${(str(p['protocol']) || 'TCP').toLowerCase()}.${base}`, Type.SRV, srv));
    }
    return c;
  }

  /** Whether a name is ours to answer (inside the cluster domain). */
  inDomain(name: string): boolean {
    const n = normalizeName(name);
    return n === this.domain || n.endsWith(`.${this.domain}`);
  }

  answer(q: Question): Answer | undefined {
    const n = normalizeName(q.name);
    if (n.endsWith('.in-addr.arpa') || n.endsWith('.ip6.arpa')) {
      const ptrs = this.#ptr.get(n);
      if (!ptrs || (q.type !== Type.PTR && q.type !== Type.ANY)) return undefined; // fallthrough
      return this.#reply(Rcode.NOERROR, ptrs.map((r) => ({ ...r, name: q.name })));
    }
    if (!this.inDomain(n)) return undefined;
    if (q.class !== Class.IN && q.class !== Class.ANY) return this.#reply(Rcode.REFUSED, []);
    const records = this.#records.get(n) ?? this.#podRecords(n);
    if (!records.length && !this.#names.has(n)) return this.#reply(Rcode.NXDOMAIN, [], [this.soa]);
    const asked = (rs: ResourceRecord[]): ResourceRecord[] => rs.map((r) => ({ ...r, name: q.name }));
    const cname = records.filter((r) => r.type === Type.CNAME);
    if (cname.length && q.type !== Type.CNAME) return this.#reply(Rcode.NOERROR, asked(cname));
    const hits = records.filter((r) => r.type === q.type || (q.type === Type.ANY && r.type !== Type.SOA && r.type !== Type.NS));
    if (!hits.length) return this.#reply(Rcode.NOERROR, [], [this.soa]);
    if (q.type !== Type.SRV) return this.#reply(Rcode.NOERROR, asked(hits));
    // SRV weights: 100 shared out over the records of one priority (CoreDNS backend_lookup).
    const srvs = asked(hits).map((r) => ({ ...r, data: { ...(r.data as SrvData), weight: Math.floor(100 / hits.length) } }));
    const extra: ResourceRecord[] = [];
    for (const target of new Set(hits.map((r) => normalizeName((r.data as SrvData).target)))) {
      for (const r of this.#records.get(target) ?? []) if (r.type === Type.A || r.type === Type.AAAA) extra.push(r);
    }
    return this.#reply(Rcode.NOERROR, srvs, [], extra);
  }

  /** a-b-c-d.ns.pod.<domain> → A a.b.c.d; IPv6 with dashes for colons → AAAA. */
  #podRecords(n: string): ResourceRecord[] {
    const m = /^([^.]+)\.([^.]+)\.pod\./.exec(n);
    if (!m || n !== `${m[1]}.${m[2]}.pod.${this.domain}`) return [];
    const v4 = m[1]!.replace(/-/g, '.');
    if (isIPv4(v4)) return [this.#rr(n, Type.A, v4)];
    const v6 = m[1]!.replace(/-/g, ':');
    if (isIPv6(v6)) return [this.#rr(n, Type.AAAA, v6)];
    return [];
  }

  #reply(rcode: number, answers: ResourceRecord[], authorities: ResourceRecord[] = [], additionals: ResourceRecord[] = []): Answer {
    return { rcode, aa: true, answers, authorities, additionals };
  }
}

function sameData(a: ResourceRecord['data'], b: ResourceRecord['data']): boolean {
  return typeof a === 'string' || typeof b === 'string' ? a === b : JSON.stringify(a) === JSON.stringify(b);
}

/** 10.1.2.3 → 10-1-2-3; fd00::1 → fd00--1 (CoreDNS's endpoint name for an address without a hostname). */
export function dashed(ip: string): string {
  return isIPv4(ip) ? ip.replace(/\./g, '-') : ip.replace(/:/g, '-');
}

/** 10.1.2.3 → 3.2.1.10.in-addr.arpa; IPv6 → nibbles under ip6.arpa. */
export function reverseName(ip: string): string | undefined {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (isIPv6(ip)) {
    const nibbles = Array.from(ipv6Bytes(ip)).flatMap((b) => [b >> 4, b & 0xf]).map((x) => x.toString(16));
    return `${nibbles.reverse().join('.')}.ip6.arpa`;
  }
  return undefined;
}
