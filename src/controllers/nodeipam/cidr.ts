// Small IP and CIDR helpers for node IPAM: parse and format IPv4 and IPv6 addresses and
// prefixes (as bigints, so both families share one code path), and CidrSet, which hands
// out the /maskSize blocks of a cluster range one at a time.

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** The network address (host bits zero). */
  base: bigint;
  prefix: number;
}

const bitsOf = (family: Family): number => (family === 4 ? 32 : 128);

export function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

export function parseIPv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let head = s;
  let tailV4: bigint | undefined;
  // An embedded IPv4 address in the last 32 bits (::ffff:1.2.3.4).
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIPv4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = s.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1); // drop the separator; keep a '::'
  }
  const groupsWanted = tailV4 === undefined ? 8 : 6;
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): string[] | undefined => {
    if (part === '') return [];
    const g = part.split(':');
    return g.every((x) => /^[0-9a-fA-F]{1,4}$/.test(x)) ? g : undefined;
  };
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  if (!left || !right) return undefined;
  let groups: string[];
  if (halves.length === 2) {
    const missing = groupsWanted - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...Array<string>(missing).fill('0'), ...right];
  } else {
    groups = left;
  }
  if (groups.length !== groupsWanted) return undefined;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
  if (tailV4 !== undefined) v = (v << 32n) | tailV4;
  return v;
}

export function parseIP(s: string): { family: Family; value: bigint } | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = s.includes(':') ? parseIPv6(s) : undefined;
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

export function formatIP(value: bigint, family: Family): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: the longest run (two or more) of zero groups becomes "::", the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Parses "a.b.c.d/n" or "x::/n"; host bits must be zero. Throws on anything else. */
export function parseCidr(s: string): Cidr {
  const slash = s.indexOf('/');
  const ip = slash < 0 ? undefined : parseIP(s.slice(0, slash));
  const prefixText = slash < 0 ? '' : s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(prefixText)) throw new Error(`invalid CIDR address: ${s}`);
  const prefix = Number(prefixText);
  const bits = bitsOf(ip.family);
  if (prefix > bits) throw new Error(`invalid CIDR address: ${s}`);
  const base = ip.value & networkMask(ip.family, prefix);
  if (base !== ip.value) throw new Error(`invalid CIDR address: ${s} (host bits set; did you mean ${formatIP(base, ip.family)}/${prefix}?)`);
  return { family: ip.family, base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIP(c.base, c.family)}/${c.prefix}`;
}

export function networkMask(family: Family, prefix: number): bigint {
  const bits = BigInt(bitsOf(family));
  const all = (1n << bits) - 1n;
  return (all << (bits - BigInt(prefix))) & all;
}

/** The last address in the range. */
export function lastAddress(c: Cidr): bigint {
  return c.base | (~networkMask(c.family, c.prefix) & ((1n << BigInt(bitsOf(c.family))) - 1n));
}

export function containsIP(c: Cidr, ip: { family: Family; value: bigint }): boolean {
  return c.family === ip.family && (ip.value & networkMask(c.family, c.prefix)) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base <= lastAddress(b) && b.base <= lastAddress(a);
}

/** Blocks of 2^(maskSize - prefix) at most this many: a bigger split is a configuration error. */
const MAX_SUBNET_BITS = 24;

/**
 * The /maskSize blocks of a cluster range, handed out lowest free first after the last
 * one given (so a released block is not handed out again at once).
 */
export class CidrSet {
  readonly cluster: Cidr;
  readonly maskSize: number;
  readonly size: number;
  readonly #used = new Set<number>();
  #next = 0;

  constructor(cluster: Cidr, maskSize: number) {
    const bits = bitsOf(cluster.family);
    if (!Number.isInteger(maskSize) || maskSize < cluster.prefix || maskSize > bits) {
      throw new Error(`node CIDR mask size /${maskSize} does not fit in ${formatCidr(cluster)}`);
    }
    if (maskSize - cluster.prefix > MAX_SUBNET_BITS) {
      throw new Error(`node CIDR mask size /${maskSize} splits ${formatCidr(cluster)} into more than 2^${MAX_SUBNET_BITS} blocks`);
    }
    this.cluster = cluster;
    this.maskSize = maskSize;
    this.size = 2 ** (maskSize - cluster.prefix);
  }

  get used(): number {
    return this.#used.size;
  }

  get full(): boolean {
    return this.#used.size >= this.size;
  }

  block(index: number): Cidr {
    const shift = BigInt(bitsOf(this.cluster.family) - this.maskSize);
    return { family: this.cluster.family, base: this.cluster.base + (BigInt(index) << shift), prefix: this.maskSize };
  }

  /** The next free block, now taken; undefined when the range is full. */
  allocateNext(): Cidr | undefined {
    if (this.full) return undefined;
    for (let n = 0; n < this.size; n++) {
      const i = (this.#next + n) % this.size;
      if (this.#used.has(i)) continue;
      this.#used.add(i);
      this.#next = (i + 1) % this.size;
      return this.block(i);
    }
    return undefined;
  }

  /**
   * Marks every block the CIDR overlaps as taken (a node's existing podCIDR, or a range to
   * keep out, such as the service range). False when it does not overlap the cluster range.
   */
  occupy(c: Cidr): boolean {
    const range = this.#indexRange(c);
    if (!range) return false;
    for (let i = range[0]; i <= range[1]; i++) this.#used.add(i);
    return true;
  }

  release(c: Cidr): void {
    const range = this.#indexRange(c);
    if (!range) return;
    for (let i = range[0]; i <= range[1]; i++) this.#used.delete(i);
  }

  isUsed(c: Cidr): boolean {
    const range = this.#indexRange(c);
    if (!range) return false;
    for (let i = range[0]; i <= range[1]; i++) if (this.#used.has(i)) return true;
    return false;
  }

  #indexRange(c: Cidr): [number, number] | undefined {
    if (!overlaps(this.cluster, c)) return undefined;
    const shift = BigInt(bitsOf(this.cluster.family) - this.maskSize);
    const lo = c.base > this.cluster.base ? c.base : this.cluster.base;
    const last = lastAddress(c);
    const clusterLast = lastAddress(this.cluster);
    const hi = last < clusterLast ? last : clusterLast;
    return [Number((lo - this.cluster.base) >> shift), Number((hi - this.cluster.base) >> shift)];
  }
}
