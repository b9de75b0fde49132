// The cluster DNS server: UDP and TCP (2-byte length prefix, RFC 1035 §4.2.2) on one port.
// Names in the cluster domain (and reverse names of cluster IPs) are answered from the
// informers' caches — which keep their last state while the API server is away — and
// everything else is forwarded to the upstream resolvers over UDP (2 s each, then the
// next). Positive upstream answers pass through untouched; negative ones (NXDOMAIN, and
// NOERROR without answers) are cached for their SOA's TTL, at most 30 s, as CoreDNS's
// `cache 30` does. Zone answers are kept encoded until the zone changes and replayed with
// the query's id, so the hot path neither decodes nor encodes.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { parseResolvConf } from '../util/resolv-conf.ts';
import net from 'node:net';
import type { KObject } from '../api/object.ts';
import type { Logger } from '../util/log.ts';
import { silentLogger } from '../util/log.ts';
import { ClusterZone, DEFAULT_DOMAIN, DEFAULT_TTL, ZoneCache } from './records.ts';
import {
  Rcode, Type, decode, encode, encodeTruncated, message, normalizeName, optRecord, udpSizeOf,
  type Message, type SoaData,
} from './wire.ts';

/** What the server reads: an Informer, or anything with the same list/handler shape. */
export interface ObjectSource {
  list(): KObject[];
  /** When present, the zone is rebuilt only after a change; otherwise on every query. */
  addEventHandler?(handlers: { onAdd?(o: KObject): void; onUpdate?(a: KObject, b: KObject): void; onDelete?(o: KObject): void }): () => void;
}

export interface DnsServerOptions {
  host?: string;
  /** 0 (the default) picks a free port, the same for UDP and TCP. */
  port?: number;
  services: ObjectSource;
  endpointSlices: ObjectSource;
  /** Namespaces' names make `ns.svc.<domain>` answer NODATA rather than NXDOMAIN. */
  namespaces?: ObjectSource;
  /** "ip" or "ip:port" or "[ipv6]:port". Default: the nameservers in /etc/resolv.conf. */
  upstreams?: string[];
  domain?: string;
  ttl?: number;
  upstreamTimeoutMs?: number;
  /** Cap on how long negative upstream answers are cached, in seconds. */
  negativeTtlCap?: number;
  log?: Logger;
  /** Milliseconds; injected by tests. */
  now?: () => number;
  /**
   * False until the sources hold their first list: until then cluster names get SERVFAIL
   * (the client retries) rather than a wrong NXDOMAIN, as CoreDNS does before its sync.
   */
  ready?: () => boolean;
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Largest UDP answer we write, whatever the client's EDNS size says. */
const MAX_UDP = 4096;
/** Our advertised EDNS payload size (the DNS flag day 2020 value). */
const OUR_UDP = 1232;
/** How many negative answers the cache holds. */
const MAX_NEGATIVE = 10_000;
/** Receive buffer asked for the UDP socket. */
const UDP_RECV_BUFFER = 4 * 1024 * 1024;
/** Zone rebuilds allowed back to back before churn is rate limited. */
const REBUILD_BURST = 3;
/**
 * Under churn, at most one rebuild per this long (or 10× the build time, if longer): each
 * rebuild also empties the stored answers. Well inside the 5 s TTL clients cache for.
 */
const REBUILD_REFILL_MS = 500;
/** Encoded zone answers kept (emptied when full or when the zone changes). */
const MAX_ENCODED = 20_000;
/** Negative answers without an SOA are cached this long (CoreDNS cache's minimal TTL). */
const NO_SOA_NEGATIVE_TTL = 5;

interface Upstream { host: string; port: number }
interface CachedNegative { response: Buffer; storedAt: number; expires: number }

export function parseUpstream(s: string): Upstream {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) return { host: v6[1]!, port: Number(v6[2] ?? 53) };
  if (net.isIPv6(s)) return { host: s, port: 53 };
  const [host, port] = s.split(':');
  return { host: host!, port: Number(port ?? 53) };
}

export function resolvConfNameservers(text: string): string[] {
  return parseResolvConf(text).servers;
}

function defaultUpstreams(): string[] {
  try { return resolvConfNameservers(readFileSync('/etc/resolv.conf', 'utf8')); } catch { return []; }
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? silentLogger;
  const now = opts.now ?? Date.now;
  const upstreams = (opts.upstreams ?? defaultUpstreams()).map(parseUpstream);
  const timeoutMs = opts.upstreamTimeoutMs ?? 2000;
  const negativeCap = opts.negativeTtlCap ?? 30;
  const negative = new Map<string, CachedNegative>();
  const domain = normalizeName(opts.domain ?? DEFAULT_DOMAIN);

  // ---- the zone, rebuilt lazily after informer events --------------------------------
  // An event only marks the zone stale; the next query rebuilds it, recomputing only the
  // Services whose objects changed (ZoneCache) and merging the rest. Rebuilds draw on a
  // bucket of REBUILD_BURST tokens that refills one per 500 ms (or 10× the last build's
  // time, if longer), so a few changes show at once, while under steady churn queries
  // get the previous zone until a token is back: rebuilding (and refilling the stored
  // answers) stays a small share of the CPU.
  let zone: ClusterZone | undefined;
  let stale = true;
  let buildMs = 0;
  let tokens = REBUILD_BURST;
  let refilledAt = performance.now();
  // Services whose objects did not change keep their records from the last build.
  const zoneCache = new ZoneCache();
  const sources = [opts.services, opts.endpointSlices, ...(opts.namespaces ? [opts.namespaces] : [])];
  const watched = sources.every((s) => typeof s.addEventHandler === 'function');
  const unsubscribe: (() => void)[] = [];
  if (watched) {
    const dirty = (): void => { stale = true; };
    for (const s of sources) unsubscribe.push(s.addEventHandler!({ onAdd: dirty, onUpdate: dirty, onDelete: dirty }));
  }
  const currentZone = (): ClusterZone => {
    if (zone && watched) {
      if (!stale) return zone;
      const t = performance.now();
      tokens = Math.min(REBUILD_BURST, tokens + (t - refilledAt) / Math.max(10 * buildMs, REBUILD_REFILL_MS));
      refilledAt = t;
      if (tokens < 1) return zone;
      tokens -= 1;
    }
    const t0 = performance.now();
    stale = false;
    zone = ClusterZone.build(opts.services.list(), opts.endpointSlices.list(), {
      domain: opts.domain ?? DEFAULT_DOMAIN, ttl: opts.ttl ?? DEFAULT_TTL, serial: Math.floor(now() / 1000),
      namespaces: opts.namespaces?.list().map((n) => n.metadata.name ?? '').filter(Boolean), cache: zoneCache,
    });
    buildMs = performance.now() - t0;
    return zone;
  };

  // ---- encoded answers, per query (all of it but the id) and zone ---------------------
  // A zone answer depends only on the query's bytes after the id (flags, question, EDNS
  // size) and the zone, so the encoded response is kept and replayed with the new id:
  // no decoding, no encoding on the hot path. Emptied whenever the zone is replaced.
  let cachedFor: ClusterZone | undefined;
  const encoded = new Map<string, Buffer>();
  const cacheKey = (buf: Buffer, tcp: boolean): string => (tcp ? 'T' : 'U') + buf.toString('latin1', 2);
  const fromEncoded = (buf: Buffer, tcp: boolean): Buffer | undefined => {
    if (!watched || buf.length < 12 || buf.length > 512) return undefined;
    const z = currentZone();
    if (z !== cachedFor) { encoded.clear(); cachedFor = z; return undefined; }
    const hit = encoded.get(cacheKey(buf, tcp));
    if (!hit) return undefined;
    const out = Buffer.allocUnsafe(hit.length);
    hit.copy(out);
    out[0] = buf[0]!;
    out[1] = buf[1]!;
    return out;
  };
  const remember = (buf: Buffer, tcp: boolean, z: ClusterZone, out: Buffer): void => {
    if (buf.length > 512 || z !== cachedFor) return;
    if (encoded.size >= MAX_ENCODED) encoded.clear();
    encoded.set(cacheKey(buf, tcp), Buffer.from(out));
  };

  // ---- answering ---------------------------------------------------------------------
  const reply = (query: Message, rcode: number, tcp: boolean, body: Partial<Message> = {}): Buffer => {
    const hasOpt = query.additionals.some((r) => r.type === Type.OPT);
    const m = message({
      header: { id: query.header.id, qr: true, opcode: query.header.opcode, aa: body.header?.aa ?? false, rd: query.header.rd, ra: true, cd: query.header.cd, rcode },
      questions: query.questions,
      answers: body.answers ?? [], authorities: body.authorities ?? [],
      additionals: [...(body.additionals ?? []), ...(hasOpt ? [optRecord(OUR_UDP)] : [])],
    });
    return tcp ? encode(m) : encodeTruncated(m, Math.min(MAX_UDP, udpSizeOf(query)));
  };

  const handle = async (buf: Buffer, tcp: boolean, storedTried = false): Promise<Buffer | undefined> => {
    const hit = storedTried ? undefined : fromEncoded(buf, tcp);
    if (hit) return hit;
    let query: Message;
    try {
      query = decode(buf);
    } catch (err) {
      if (buf.length < 12 || buf[2]! & 0x80) return undefined;
      log.debug('malformed query', { error: String(err) });
      const h = Buffer.alloc(12);
      buf.copy(h, 0, 0, 4);
      h[2] = (h[2]! | 0x80) & ~0x02; // QR, no TC
      h[3] = (h[3]! & 0xf0) | Rcode.FORMERR;
      return h;
    }
    if (query.header.qr) return undefined;
    if (query.header.opcode !== 0) return reply(query, Rcode.NOTIMP, tcp);
    if (query.questions.length !== 1) return reply(query, Rcode.FORMERR, tcp);
    const q = query.questions[0]!;
    if (opts.ready && !opts.ready()) {
      const n = normalizeName(q.name);
      if (n === domain || n.endsWith(`.${domain}`)) return reply(query, Rcode.SERVFAIL, tcp);
    }
    const z = currentZone();
    const ans = z.answer(q);
    if (ans) {
      const out = reply(query, ans.rcode, tcp, {
        header: { aa: ans.aa } as Message['header'], answers: ans.answers, authorities: ans.authorities, additionals: ans.additionals,
      });
      if (!opts.ready || opts.ready()) remember(buf, tcp, z, out);
      return out;
    }
    return forward(query, buf, tcp);
  };

  const forward = async (query: Message, raw: Buffer, tcp: boolean): Promise<Buffer> => {
    const q = query.questions[0]!;
    const key = `${normalizeName(q.name)}|${q.type}|${q.class}|${query.header.cd ? 1 : 0}`;
    const hit = negative.get(key);
    if (hit && hit.expires > now()) return fromCache(hit, query.header.id);
    if (hit) negative.delete(key);
    for (const up of upstreams) {
      let res: Buffer;
      try {
        res = await udpExchange(up, raw, timeoutMs);
      } catch (err) {
        log.warn('upstream failed', { upstream: `${up.host}:${up.port}`, name: q.name, error: String(err) });
        continue;
      }
      let m: Message;
      try { m = decode(res); } catch { continue; }
      const ttl = negativeTtl(m, negativeCap);
      if (ttl > 0 && !m.header.tc) {
        // Bounded: the oldest entry goes first (a Map iterates in insertion order).
        if (negative.size >= MAX_NEGATIVE) negative.delete(negative.keys().next().value!);
        negative.set(key, { response: Buffer.from(res), storedAt: now(), expires: now() + ttl * 1000 });
      }
      res.writeUInt16BE(query.header.id, 0);
      if (!tcp && res.length > Math.min(MAX_UDP, udpSizeOf(query))) return encodeTruncated({ ...m, header: { ...m.header, id: query.header.id } }, udpSizeOf(query));
      return res;
    }
    return reply(query, Rcode.SERVFAIL, tcp);
  };

  const fromCache = (c: CachedNegative, id: number): Buffer => {
    const m = decode(c.response);
    const elapsed = Math.floor((now() - c.storedAt) / 1000);
    m.header.id = id;
    for (const rr of [...m.answers, ...m.authorities]) rr.ttl = Math.max(0, rr.ttl - elapsed);
    return encode(m);
  };

  // ---- transports --------------------------------------------------------------------
  const { udp, tcp } = await bindBoth(host, opts.port ?? 0);
  udp.on('message', (buf, rinfo) => {
    // The common case answered without a promise.
    const hit = fromEncoded(buf, false);
    if (hit) { udp.send(hit, rinfo.port, rinfo.address); return; }
    handle(buf, false, true).then((out) => {
      if (out) udp.send(out, rinfo.port, rinfo.address);
    }).catch((err) => log.error('dns udp handler failed', { error: String(err) }));
  });
  udp.on('error', (err) => log.error('dns udp socket error', { error: String(err) }));
  const conns = new Set<net.Socket>();
  tcp.on('connection', (sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setTimeout(10_000, () => sock.destroy());
    let pending = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const frame = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        handle(Buffer.from(frame), true).then((out) => {
          if (!out || sock.destroyed) return;
          const len2 = Buffer.alloc(2);
          len2.writeUInt16BE(out.length);
          sock.write(Buffer.concat([len2, out]));
        }).catch((err) => log.error('dns tcp handler failed', { error: String(err) }));
      }
    });
  });
  const port = (udp.address() as net.AddressInfo).port;
  log.info('dns listening', { host, port, upstreams: upstreams.map((u) => `${u.host}:${u.port}`) });

  return {
    host, port,
    close: async () => {
      for (const u of unsubscribe) u();
      for (const c of conns) c.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}

/** How long a negative answer may be cached, in seconds; 0 if it is not negative. */
export function negativeTtl(m: Message, cap: number): number {
  const negativeAnswer = m.header.rcode === Rcode.NXDOMAIN || (m.header.rcode === Rcode.NOERROR && m.answers.length === 0);
  if (!negativeAnswer) return 0;
  const soa = m.authorities.find((r) => r.type === Type.SOA);
  // RFC 2308 §5: the SOA's TTL, or its MINIMUM if that is smaller.
  const ttl = soa ? Math.min(soa.ttl, (soa.data as SoaData).minimum) : NO_SOA_NEGATIVE_TTL;
  return Math.min(ttl, cap);
}

async function bindBoth(host: string, port: number): Promise<{ udp: dgram.Socket; tcp: net.Server }> {
  const family = net.isIPv6(host) ? 'udp6' : 'udp4';
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket(family);
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => { udp.off('error', reject); resolve(); });
    });
    // Room for bursts: the default (~200 KB, about 200 queries' buffers) drops queries
    // when many clients ask at once. The kernel caps it at net.core.rmem_max.
    try { udp.setRecvBufferSize(UDP_RECV_BUFFER); } catch { /* keep the default */ }
    const chosen = (udp.address() as net.AddressInfo).port;
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(chosen, host, () => { tcp.off('error', reject); resolve(); });
      });
      return { udp, tcp };
    } catch (err) {
      udp.close();
      // A random UDP port whose TCP twin is taken: pick another.
      if (port !== 0 || attempt >= 20) throw err;
    }
  }
}

/** One query to one upstream over UDP, matched by a fresh random id. */
function udpExchange(up: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(up.host) ? 'udp6' : 'udp4');
    const id = Math.floor(Math.random() * 0x10000);
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    let finished = false;
    const done = (err: Error | undefined, res?: Buffer): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err); else resolve(res!);
    };
    const timer = setTimeout(() => done(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (err) => done(err));
    sock.on('message', (res, rinfo) => {
      if (rinfo.address !== up.host && !(up.host === 'localhost')) return;
      if (res.length < 12 || res.readUInt16BE(0) !== id) return;
      done(undefined, Buffer.from(res));
    });
    sock.send(out, up.port, up.host);
  });
}
