// ipBlock peers as address ranges: "cidr minus except" is not something an nft interval
// set can say directly, so we subtract here and hand nft plain, disjoint ranges.
// IPv4 only: pods on Skiff have IPv4 addresses, so IPv6 blocks can never match one.

export interface Ipv4Range { start: number; end: number } // inclusive, as unsigned 32-bit

export function parseIpv4(ip: string): number | undefined {
  // A hand loop, not a regex: the model parses every pod IP on every sync.
  let n = 0; let octet = -1; let dots = 0; let digits = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) { // '.'
      if (octet < 0 || ++dots > 3) return undefined;
      n = n * 256 + octet; octet = -1; digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return undefined;
      octet = (octet < 0 ? 0 : octet * 10) + (c - 48);
      if (octet > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || octet < 0) return undefined;
  return n * 256 + octet;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** "10.0.0.0/8" → its range; undefined for anything that is not an IPv4 CIDR. */
export function parseCidr4(cidr: string): Ipv4Range | undefined {
  const [ip, bits, ...rest] = cidr.split('/');
  if (rest.length || bits === undefined || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return undefined;
  const addr = parseIpv4(ip!);
  if (addr === undefined) return undefined;
  const size = 2 ** (32 - Number(bits));
  const start = addr - (addr % size); // Kubernetes accepts host bits set; the network is meant
  return { start, end: start + size - 1 };
}

/** Sorts and merges overlapping or adjacent ranges. */
export function mergeRanges(ranges: readonly Ipv4Range[]): Ipv4Range[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: Ipv4Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** The block's addresses minus its excepts, as disjoint sorted ranges ([] for IPv6). */
export function ipBlockRanges(cidr: string, except: readonly string[] = []): Ipv4Range[] {
  const block = parseCidr4(cidr);
  if (!block) return [];
  let out: Ipv4Range[] = [block];
  for (const e of except) {
    const cut = parseCidr4(e);
    if (!cut) continue;
    out = out.flatMap((r) => {
      if (cut.end < r.start || cut.start > r.end) return [r];
      const parts: Ipv4Range[] = [];
      if (cut.start > r.start) parts.push({ start: r.start, end: cut.start - 1 });
      if (cut.end < r.end) parts.push({ start: cut.end + 1, end: r.end });
      return parts;
    });
  }
  return out;
}

/** nft set element text: "a.b.c.d" for one address, "a.b.c.d-e.f.g.h" otherwise. */
export function formatRange(r: Ipv4Range): string {
  return r.start === r.end ? formatIpv4(r.start) : `${formatIpv4(r.start)}-${formatIpv4(r.end)}`;
}
