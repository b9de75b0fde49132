// DNS messages on the wire (RFC 1035 §4), both ways: header, questions, the three record
// sections, name compression (written when encoding, followed with loop protection when
// decoding), the record types cluster DNS answers with, and truncation for UDP.
//
// Names are written without the trailing dot ("" is the root) and keep the case they came
// with; compare them with `sameName`.
import { isIPv4, isIPv6 } from 'node:net';

export const Type = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255,
} as const;
export const Class = { IN: 1, ANY: 255 } as const;
export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface Header {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number;
}

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface SrvData { priority: number; weight: number; port: number; target: string }
export interface SoaData {
  mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number;
}

/**
 * The record's data by type: A/AAAA an address string; NS/CNAME/PTR a name; SRV and SOA
 * objects; TXT its character strings; anything else (OPT included) the raw RDATA.
 */
export type RData = string | string[] | SrvData | SoaData | Uint8Array;

export interface ResourceRecord {
  name: string;
  type: number;
  /** For OPT this is the requester's UDP payload size. */
  class: number;
  /** For OPT this carries the extended rcode, version and flags. */
  ttl: number;
  data: RData;
}

export interface Message {
  header: Header;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

export class WireError extends Error {}

export function header(partial: Partial<Header> = {}): Header {
  return { id: 0, qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, ad: false, cd: false, rcode: 0, ...partial };
}

export function message(partial: Partial<Omit<Message, 'header'>> & { header?: Partial<Header> } = {}): Message {
  return {
    header: header(partial.header),
    questions: partial.questions ?? [], answers: partial.answers ?? [],
    authorities: partial.authorities ?? [], additionals: partial.additionals ?? [],
  };
}

export function sameName(a: string, b: string): boolean {
  return normalizeName(a) === normalizeName(b);
}

/** Lower case, no trailing dot. */
export function normalizeName(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

export function typeName(type: number): string {
  for (const [k, v] of Object.entries(Type)) if (v === type) return k;
  return `TYPE${type}`;
}

// ---- encoding ---------------------------------------------------------------------------

class Writer {
  buf = Buffer.alloc(512);
  len = 0;
  /** Lower-cased name suffix → offset of its first occurrence (compression targets). */
  readonly names = new Map<string, number>();

  #room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void { this.#room(1); this.buf.writeUInt8(v & 0xff, this.len); this.len += 1; }
  u16(v: number): void { this.#room(2); this.buf.writeUInt16BE(v & 0xffff, this.len); this.len += 2; }
  u32(v: number): void { this.#room(4); this.buf.writeUInt32BE(v >>> 0, this.len); this.len += 4; }
  bytes(b: Uint8Array): void { this.#room(b.length); this.buf.set(b, this.len); this.len += b.length; }

  name(name: string, compress = true): void {
    const labels = splitName(name);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = compress ? this.names.get(suffix) : undefined;
      if (at !== undefined) { this.u16(0xc000 | at); return; }
      if (this.len < 0x4000) this.names.set(suffix, this.len);
      const b = Buffer.from(labels[i]!, 'utf8');
      this.u8(b.length);
      this.bytes(b);
    }
    this.u8(0);
  }
}

function splitName(name: string): string[] {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n === '') return [];
  const labels = n.split('.');
  let total = 1;
  for (const l of labels) {
    const len = Buffer.byteLength(l, 'utf8');
    if (len === 0 || len > 63) throw new WireError(`bad label in name "${name}"`);
    total += len + 1;
  }
  if (total > 255) throw new WireError(`name too long: "${name}"`);
  return labels;
}

function writeHeader(w: Writer, h: Header, counts: [number, number, number, number]): void {
  w.u16(h.id);
  w.u16((h.qr ? 0x8000 : 0) | ((h.opcode & 0xf) << 11) | (h.aa ? 0x400 : 0) | (h.tc ? 0x200 : 0) |
    (h.rd ? 0x100 : 0) | (h.ra ? 0x80 : 0) | (h.ad ? 0x20 : 0) | (h.cd ? 0x10 : 0) | (h.rcode & 0xf));
  for (const c of counts) w.u16(c);
}

function writeRecord(w: Writer, rr: ResourceRecord): void {
  w.name(rr.name);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const lenAt = w.len;
  w.u16(0);
  const start = w.len;
  const d = rr.data;
  if (d instanceof Uint8Array) {
    w.bytes(d);
  } else switch (rr.type) {
    case Type.A: w.bytes(ipv4Bytes(d as string)); break;
    case Type.AAAA: w.bytes(ipv6Bytes(d as string)); break;
    case Type.NS: case Type.CNAME: case Type.PTR: w.name(d as string); break;
    case Type.SRV: {
      const s = d as SrvData;
      w.u16(s.priority); w.u16(s.weight); w.u16(s.port);
      w.name(s.target, false); // RFC 2782: the target is not compressed
      break;
    }
    case Type.SOA: {
      const s = d as SoaData;
      w.name(s.mname); w.name(s.rname);
      w.u32(s.serial); w.u32(s.refresh); w.u32(s.retry); w.u32(s.expire); w.u32(s.minimum);
      break;
    }
    case Type.TXT: {
      const strings = typeof d === 'string' ? [d] : (d as string[]);
      for (const s of strings.length ? strings : ['']) {
        const b = Buffer.from(s, 'utf8');
        if (b.length > 255) throw new WireError('TXT string longer than 255 bytes');
        w.u8(b.length); w.bytes(b);
      }
      break;
    }
    default: throw new WireError(`cannot encode ${typeName(rr.type)} data that is not raw bytes`);
  }
  w.buf.writeUInt16BE(w.len - start, lenAt);
}

export function encode(msg: Message): Buffer {
  const w = new Writer();
  writeHeader(w, msg.header, [msg.questions.length, msg.answers.length, msg.authorities.length, msg.additionals.length]);
  for (const q of msg.questions) { w.name(q.name); w.u16(q.type); w.u16(q.class); }
  for (const rr of msg.answers) writeRecord(w, rr);
  for (const rr of msg.authorities) writeRecord(w, rr);
  for (const rr of msg.additionals) writeRecord(w, rr);
  return Buffer.from(w.buf.subarray(0, w.len));
}

/**
 * Encodes for a transport limited to maxSize bytes (UDP: 512, or the requester's EDNS
 * payload size). If the whole message does not fit, the TC bit is set and whole records
 * are dropped — additionals (the OPT record is kept), then authorities, then answers from
 * the end — until it does, so the client retries over TCP.
 */
export function encodeTruncated(msg: Message, maxSize: number): Buffer {
  const full = encode(msg);
  if (full.length <= maxSize) return full;
  const opt = msg.additionals.filter((rr) => rr.type === Type.OPT);
  const m: Message = { ...msg, header: { ...msg.header, tc: true }, additionals: opt, authorities: [], answers: [...msg.answers] };
  let out = encode(m);
  // Halve, then step: answers are usually many records of the same size.
  while (out.length > maxSize && m.answers.length > 0) {
    const over = out.length - maxSize;
    const per = Math.max(1, Math.floor((out.length - 12) / (m.answers.length + 1)));
    m.answers.length = Math.max(0, m.answers.length - Math.max(1, Math.floor(over / per)));
    out = encode(m);
  }
  if (out.length > maxSize) { m.additionals = []; out = encode(m); }
  return out;
}

// ---- decoding ---------------------------------------------------------------------------

class Reader {
  off = 0;
  constructor(readonly buf: Buffer) {}

  #need(n: number): void {
    if (this.off + n > this.buf.length) throw new WireError('message truncated');
  }
  u8(): number { this.#need(1); return this.buf.readUInt8(this.off++); }
  u16(): number { this.#need(2); const v = this.buf.readUInt16BE(this.off); this.off += 2; return v; }
  u32(): number { this.#need(4); const v = this.buf.readUInt32BE(this.off); this.off += 4; return v; }
  bytes(n: number): Buffer { this.#need(n); const b = this.buf.subarray(this.off, this.off + n); this.off += n; return b; }

  /**
   * Follows compression pointers. Loop protection: every pointer must point strictly
   * before the label that holds it, and a name is at most 255 bytes — so a loop, or a
   * pointer chain that never ends, is an error rather than a hang.
   */
  name(): string {
    const labels: string[] = [];
    let pos = this.off;
    let jumped = false;
    let total = 1;
    for (;;) {
      if (pos >= this.buf.length) throw new WireError('name runs past the end of the message');
      const len = this.buf[pos]!;
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new WireError('truncated compression pointer');
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]!;
        if (target >= pos) throw new WireError('compression pointer does not point backwards');
        if (!jumped) this.off = pos + 2;
        jumped = true;
        pos = target;
        continue;
      }
      if ((len & 0xc0) !== 0) throw new WireError('unsupported label type');
      if (len === 0) { if (!jumped) this.off = pos + 1; break; }
      if (pos + 1 + len > this.buf.length) throw new WireError('label runs past the end of the message');
      total += len + 1;
      if (total > 255) throw new WireError('name longer than 255 bytes');
      labels.push(this.buf.toString('latin1', pos + 1, pos + 1 + len));
      pos += 1 + len;
    }
    return labels.join('.');
  }
}

function readRecord(r: Reader): ResourceRecord {
  const name = r.name();
  const type = r.u16();
  const cls = r.u16();
  const ttl = r.u32();
  const rdlen = r.u16();
  const end = r.off + rdlen;
  if (end > r.buf.length) throw new WireError('record data runs past the end of the message');
  let data: RData;
  switch (type) {
    case Type.A:
      if (rdlen !== 4) throw new WireError('A record data is not 4 bytes');
      data = Array.from(r.bytes(4)).join('.');
      break;
    case Type.AAAA:
      if (rdlen !== 16) throw new WireError('AAAA record data is not 16 bytes');
      data = formatIPv6(r.bytes(16));
      break;
    case Type.NS: case Type.CNAME: case Type.PTR: data = r.name(); break;
    case Type.SRV: data = { priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name() }; break;
    case Type.SOA:
      data = { mname: r.name(), rname: r.name(), serial: r.u32(), refresh: r.u32(), retry: r.u32(), expire: r.u32(), minimum: r.u32() };
      break;
    case Type.TXT: {
      const strings: string[] = [];
      while (r.off < end) { const n = r.u8(); strings.push(r.bytes(n).toString('utf8')); }
      data = strings;
      break;
    }
    default: data = Uint8Array.from(r.bytes(rdlen));
  }
  if (r.off !== end) throw new WireError(`${typeName(type)} record data length mismatch`);
  return { name, type, class: cls, ttl, data };
}

export function decode(buf: Buffer): Message {
  const r = new Reader(buf);
  if (buf.length < 12) throw new WireError('message shorter than a header');
  const id = r.u16();
  const f = r.u16();
  const h: Header = {
    id, qr: !!(f & 0x8000), opcode: (f >> 11) & 0xf, aa: !!(f & 0x400), tc: !!(f & 0x200), rd: !!(f & 0x100),
    ra: !!(f & 0x80), ad: !!(f & 0x20), cd: !!(f & 0x10), rcode: f & 0xf,
  };
  const [qd, an, ns, ar] = [r.u16(), r.u16(), r.u16(), r.u16()];
  const msg = message({ header: h });
  for (let i = 0; i < qd; i++) msg.questions.push({ name: r.name(), type: r.u16(), class: r.u16() });
  for (let i = 0; i < an; i++) msg.answers.push(readRecord(r));
  for (let i = 0; i < ns; i++) msg.authorities.push(readRecord(r));
  for (let i = 0; i < ar; i++) msg.additionals.push(readRecord(r));
  return msg;
}

/** Just the header and first question, for answering FORMERR to what will not decode fully. */
export function decodeHeaderId(buf: Buffer): number | undefined {
  return buf.length >= 2 ? buf.readUInt16BE(0) : undefined;
}

// ---- EDNS0 (RFC 6891) -------------------------------------------------------------------

/** The requester's UDP payload size: 512 without an OPT record, never less than 512. */
export function udpSizeOf(msg: Message): number {
  const opt = msg.additionals.find((rr) => rr.type === Type.OPT);
  return opt ? Math.max(512, opt.class) : 512;
}

export function optRecord(udpSize: number): ResourceRecord {
  return { name: '', type: Type.OPT, class: udpSize, ttl: 0, data: new Uint8Array(0) };
}

// ---- addresses --------------------------------------------------------------------------

function ipv4Bytes(ip: string): Uint8Array {
  if (!isIPv4(ip)) throw new WireError(`not an IPv4 address: ${ip}`);
  return Uint8Array.from(ip.split('.').map(Number));
}

export function ipv6Bytes(ip: string): Uint8Array {
  if (!isIPv6(ip)) throw new WireError(`not an IPv6 address: ${ip}`);
  let s = ip.split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    s = s.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const hs = head ? head.split(':') : [];
  const ts = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const v = parseInt(g, 16); out[i * 2] = v >> 8; out[i * 2 + 1] = v & 0xff; });
  return out;
}

/** RFC 5952 text form: lower case, the longest run (≥ 2) of zero groups as "::". */
export function formatIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((v) => v.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
