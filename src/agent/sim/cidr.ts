// Pod IPs from a node's pod CIDR (IPv4): the network address, .1 (the bridge's gateway)
// and the broadcast address are never handed out; released addresses are reused, oldest
// released first after the never-used ones.

export function parseIPv4(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${ip}`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw new Error(`not an IPv4 address: ${ip}`);
    n = n * 256 + v;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): { base: number; bits: number; size: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const bits = Number(m[2]);
  if (bits > 32) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const size = 2 ** (32 - bits);
  const base = parseIPv4(m[1]!) - (parseIPv4(m[1]!) % size);
  return { base, bits, size };
}

export class CidrAllocator {
  readonly cidr: string;
  readonly #base: number;
  readonly #first: number;
  readonly #last: number;
  readonly #used = new Set<number>();
  readonly #free: number[] = [];
  #next: number;

  constructor(cidr: string) {
    const { base, size } = parseCidr(cidr);
    if (size < 4) throw new Error(`pod CIDR ${cidr} is too small`);
    this.cidr = cidr;
    this.#base = base;
    this.#first = 2; // skip .0 (network) and .1 (gateway)
    this.#last = size - 2; // skip the broadcast address
    this.#next = this.#first;
  }

  get capacity(): number {
    return this.#last - this.#first + 1;
  }

  get used(): number {
    return this.#used.size;
  }

  contains(ip: string): boolean {
    const off = parseIPv4(ip) - this.#base;
    return off >= this.#first && off <= this.#last;
  }

  /** The next free address, or undefined when the range is used up. */
  allocate(): string | undefined {
    let off: number | undefined;
    while (this.#next <= this.#last && this.#used.has(this.#next)) this.#next++; // reserved ones
    if (this.#next <= this.#last) off = this.#next++;
    else while (this.#free.length && off === undefined) { const f = this.#free.shift()!; if (!this.#used.has(f)) off = f; }
    if (off === undefined) return undefined;
    this.#used.add(off);
    return formatIPv4(this.#base + off);
  }

  /** Marks an address already in use (a pod found running after a restart); false if it is not ours or taken. */
  reserve(ip: string): boolean {
    if (!this.contains(ip)) return false;
    const off = parseIPv4(ip) - this.#base;
    if (this.#used.has(off)) return false;
    this.#used.add(off);
    return true;
  }

  release(ip: string): void {
    if (!this.contains(ip)) return;
    const off = parseIPv4(ip) - this.#base;
    if (this.#used.delete(off) && off < this.#next) this.#free.push(off);
  }
}

/**
 * A stand-in pod CIDR for a node the server has not given one (no node IPAM yet):
 * /24s carved from 100.64.0.0/10 by node index, 16384 of them before they repeat.
 */
export function fallbackPodCidr(index: number): string {
  const i = index % 16384;
  return `100.${64 + (i >> 8)}.${i & 255}.0/24`;
}

/** A made-up InternalIP for node `index` from 172.30.0.0/15 (never used for traffic). */
export function simulatedHostIP(index: number): string {
  return formatIPv4(parseIPv4('172.30.0.0') + 2 + (index % 131_000));
}
