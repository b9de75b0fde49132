// A PKCS#10 request and a self-signed certificate written with node:crypto alone (DER
// encoded by hand), for the agent: all it ever writes is its node client request and its
// serving certificate, once, on its first start. Loading @peculiar/x509 for that (with
// asn1js, tsyringe and reflect-metadata) left ~6.5 MB in every agent started once for the
// rest of its life (bench/README.md, footprint); ESM modules are never unloaded. Parsing
// and signing requests stays with @peculiar/x509 on the server (src/apiserver/certificates/).
// ECDSA P-256 with SHA-256 only, as everywhere in Skiff.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

export interface LiteSubject {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  extensionRequest: '1.2.840.113549.1.9.14',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

// --- DER ---------------------------------------------------------------------------------

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A non-negative INTEGER from big-endian bytes (a 0x00 is prepended when the top bit is set). */
function uint(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const b = bytes.subarray(i);
  return tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5), whole seconds. */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii')) : tlv(0x18, Buffer.from(iso, 'ascii'));
}

function name(s: LiteSubject): Buffer {
  const rdns = [...(s.organizations ?? []).map((o) => set(seq(oid(OID.organization), utf8(o)))), set(seq(oid(OID.commonName), utf8(s.commonName)))];
  return seq(...rdns);
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  if (isIP(ip) !== 6) throw new Error(`not an IP address: ${ip}`);
  const [head, tail] = ip.includes('::') ? ip.split('::') as [string, string] : [ip, undefined];
  const groups = (p: string | undefined) => (p ? p.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(all.flatMap((g) => { const v = parseInt(g, 16); return [v >> 8, v & 0xff]; }));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

function subjectAltName(s: LiteSubject): Buffer | undefined {
  const names = [
    ...(s.dnsNames ?? []).map((d) => tlv(0x82, Buffer.from(d, 'ascii'))), // [2] dNSName
    ...(s.ipAddresses ?? []).map((ip) => tlv(0x87, ipBytes(ip))), // [7] iPAddress
  ];
  return names.length ? extension(OID.subjectAltName, false, seq(...names)) : undefined;
}

const SIGNATURE_ALGORITHM = seq(oid(OID.ecdsaWithSha256));

function signed(tbs: Buffer, key: KeyObject): Buffer {
  return seq(tbs, SIGNATURE_ALGORITHM, bits(sign('sha256', tbs, { key, dsaEncoding: 'der' })));
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

function newKey(): { privateKey: KeyObject; spki: Buffer; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, spki: publicKey.export({ type: 'spki', format: 'der' }), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

// --- what the agent writes -----------------------------------------------------------------

/**
 * A fresh P-256 key (PKCS#8 PEM) and a PKCS#10 request (PEM) for `subject`: O and CN, and
 * its DNS names and IPs as a requested subjectAltName. Same contract as
 * src/apiserver/certificates/x509.ts createKeyAndRequest.
 */
export function createKeyAndRequestLite(subject: LiteSubject): { keyPem: string; requestPem: string } {
  const key = newKey();
  const san = subjectAltName(subject);
  // attributes [0]: extensionRequest { Extensions } when there is anything to request.
  const attributes = tlv(0xa0, ...(san ? [seq(oid(OID.extensionRequest), set(seq(san)))] : []));
  const info = seq(uint(Buffer.from([0])), name(subject), key.spki, attributes);
  return { keyPem: key.keyPem, requestPem: pem('CERTIFICATE REQUEST', signed(info, key.privateKey)) };
}

export interface SelfSignedOptions extends LiteSubject {
  notBefore: Date;
  notAfter: Date;
  /** Positive serial number, big-endian (16 random bytes is usual). */
  serial: Buffer;
}

/**
 * A fresh P-256 key and a self-signed TLS server certificate: v3, CA:false (critical),
 * keyUsage digitalSignature (critical), extKeyUsage serverAuth, subjectAltName.
 */
export function createSelfSignedServerCert(o: SelfSignedOptions): { certPem: string; keyPem: string } {
  const key = newKey();
  const subject = name(o);
  const extensions = [
    extension(OID.basicConstraints, true, seq()),
    extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)), // digitalSignature
    extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
    ...[subjectAltName(o)].filter((e): e is Buffer => e !== undefined),
  ];
  const tbs = seq(
    tlv(0xa0, uint(Buffer.from([2]))), // [0] version v3
    uint(o.serial),
    SIGNATURE_ALGORITHM,
    subject, // issuer: itself
    seq(time(o.notBefore), time(o.notAfter)),
    subject,
    key.spki,
    tlv(0xa3, seq(...extensions)), // [3] extensions
  );
  return { certPem: pem('CERTIFICATE', signed(tbs, key.privateKey)), keyPem: key.keyPem };
}
