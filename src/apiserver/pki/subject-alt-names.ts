import { isIP } from 'node:net';
import type { X509Certificate } from 'node:crypto';
import type { NetworkInterfaceInfo } from 'node:os';
import type { SanSet } from './types.ts';

/** Names every in-cluster client and kubectl on the host may dial. */
const BUILTIN_DNS_NAMES = [
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];
const LOOPBACK_IPS = ['127.0.0.1', '::1'];

/**
 * One spelling per address, so a certificate's SANs compare equal to what we want:
 * IPv4 dotted, IPv6 as eight lowercase unpadded hex groups (`0:0:0:0:0:0:0:1`).
 * Returns undefined for anything that is not an IP address.
 */
export function canonicalIp(address: string): string | undefined {
  const bare = address.replace(/%.*$/, ''); // drop an IPv6 zone id like fe80::1%eth0
  const family = isIP(bare);
  if (family === 4) return bare.split('.').map((part) => String(Number(part))).join('.');
  if (family !== 6) return undefined;

  let text = bare.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4Tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4Tail) {
    const [a, b, c, d] = v4Tail.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4Tail.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16)).join(':');
}

/** DNS names are case-insensitive; a trailing dot names the same host. */
function canonicalDnsName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** Adds one SAN given as free text to the set: an IP if it parses as one, else a DNS name. */
function addSan(set: SanSet, entry: string): void {
  const trimmed = entry.trim();
  if (trimmed === '') return;
  const ip = canonicalIp(trimmed.replace(/^\[(.*)\]$/, '$1'));
  if (ip !== undefined) {
    if (!set.ips.includes(ip)) set.ips.push(ip);
  } else {
    const dns = canonicalDnsName(trimmed);
    if (!set.dns.includes(dns)) set.dns.push(dns);
  }
}

/** The SANs the serving certificate should carry on this machine right now. */
export function wantedServingSans(machine: {
  hostname: string;
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
  extraSans?: readonly string[];
}): SanSet {
  const set: SanSet = { dns: [], ips: [] };
  for (const name of [...BUILTIN_DNS_NAMES, machine.hostname]) addSan(set, name);
  for (const ip of LOOPBACK_IPS) addSan(set, ip);
  for (const addresses of Object.values(machine.interfaces)) {
    for (const info of addresses ?? []) {
      if (!info.internal) addSan(set, info.address);
    }
  }
  for (const extra of machine.extraSans ?? []) addSan(set, extra);
  return set;
}

/**
 * The SANs a certificate carries, read from node's text form:
 * `DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`.
 */
export function sansOfCertificate(cert: X509Certificate): SanSet {
  const set: SanSet = { dns: [], ips: [] };
  for (const item of (cert.subjectAltName ?? '').split(/,\s*/)) {
    const match = /^(DNS|IP Address):(.*)$/.exec(item.trim());
    if (!match) continue;
    // Node quotes values holding unusual characters; our names never need it, but accept it.
    const value = match[2]!.startsWith('"') ? (JSON.parse(match[2]!) as string) : match[2]!;
    if (match[1] === 'DNS') {
      const dns = canonicalDnsName(value);
      if (!set.dns.includes(dns)) set.dns.push(dns);
    } else {
      const ip = canonicalIp(value);
      if (ip !== undefined && !set.ips.includes(ip)) set.ips.push(ip);
    }
  }
  return set;
}

/** Wanted SANs the certificate lacks, e.g. `['IP:10.0.0.7']`; empty when it covers them all. */
export function missingSans(have: SanSet, want: SanSet): string[] {
  return [
    ...want.dns.filter((name) => !have.dns.includes(name)).map((name) => `DNS:${name}`),
    ...want.ips.filter((ip) => !have.ips.includes(ip)).map((ip) => `IP:${ip}`),
  ];
}
