// The proxy's nftables table as data: the fixed chains, and per Service its chains, its
// affinity sets and its elements of the shared maps (state.ts turns changes of these into
// `nft -f` scripts). Pure, unit tested without a kernel.
//
// Layout (kube-proxy's nftables mode is the model, with one change: endpoints are picked by
// one `dnat to numgen random mod N offset BASE map @endpoints-<proto>` rule in the service
// chain instead of a chain per endpoint. Each Service port owns a block of keys in a shared
// `endpoints-<proto>` map, so a table for 10,000 endpoints has ~1,000 chains and no anonymous
// sets — nft reads all of them before every run, which is most of an update's cost — and
// replacing an endpoint only swaps map elements. Hairpin is matched in postrouting against
// a set of `ip . ip` pairs):
//
//   nat-prerouting / nat-output ─► services: ip daddr . l4proto . dport vmap @service-ips
//                                            fib daddr local: l4proto . dport vmap @service-nodeports
//     svc-<key>: masquerade clients from outside the cluster CIDR, then pick an endpoint
//     ext-<key>: NodePort / external / LB IPs: masquerade (policy Cluster) or local
//                endpoints only (policy Local, drop if none), then svc-<key>
//     ep-<key>__<ip>/<port> + set aff-…: only for sessionAffinity ClientIP
//   nat-postrouting ─► masquerading: hairpin pairs, and packets marked 0x4000
//   filter-input / -forward / -output ─► endpoints-check: Services without endpoints
//     (@no-endpoint-services, @no-endpoint-nodeports) ─► reject
import type { Endpoint, ServicePort } from './model.ts';

export interface NftChain {
  /** Base chains: `type nat hook prerouting priority -100 ; policy accept ;`. */
  hook?: string;
  rules: string[];
}

export interface NftSet {
  kind: 'set' | 'map';
  /** What goes between the braces of `add set`: `type ipv4_addr ;`. */
  decl: string;
  /** Element key → map value ('' for plain sets). */
  elements: Map<string, string>;
}

/** Everything one Service renders to: its own chains and sets, and its elements of the shared sets. */
export interface Fragment {
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
  /** Shared set name → element key → value ('' for plain sets). */
  elements: Map<string, Map<string, string>>;
}

export interface RenderOptions {
  /** Table name (family `ip`). */
  table: string;
  /** The cluster's pod network: clients outside it are masqueraded. */
  clusterCidr: string;
}

export const MASQ_MARK = '0x4000';

/** The sets every Service adds elements to. */
export const SHARED_SETS: ReadonlyMap<string, Omit<NftSet, 'elements'>> = new Map([
  ['hairpin', { kind: 'set', decl: 'type ipv4_addr . ipv4_addr ;' }],
  // One per protocol: nft ties the typeof's port to its protocol (`th dport` does not
  // survive nft 1.0.6 reading it back).
  ...(['tcp', 'udp', 'sctp'] as const).map((p) => [`endpoints-${p}`, { kind: 'map', decl: `typeof numgen random mod 2 : ip daddr . ${p} dport ;` }] as const),
  ['service-ips', { kind: 'map', decl: 'type ipv4_addr . inet_proto . inet_service : verdict ;' }],
  ['service-nodeports', { kind: 'map', decl: 'type inet_proto . inet_service : verdict ;' }],
  ['no-endpoint-services', { kind: 'map', decl: 'type ipv4_addr . inet_proto . inet_service : verdict ;' }],
  ['no-endpoint-nodeports', { kind: 'map', decl: 'type inet_proto . inet_service : verdict ;' }],
]);

/** The chains that do not depend on any Service (base chains, dispatch, reject, masquerade). */
export function baseChains(): Map<string, NftChain> {
  const chains = new Map<string, NftChain>();
  const chain = (name: string, rules: string[], hook?: string) => chains.set(name, hook ? { hook, rules } : { rules });
  const nat = (hook: string, prio: number) => `type nat hook ${hook} priority ${prio} ; policy accept ;`;
  const filter = (hook: string) => `type filter hook ${hook} priority 0 ; policy accept ;`;
  chain('nat-prerouting', ['jump services'], nat('prerouting', -100));
  chain('nat-output', ['jump services'], nat('output', -100));
  chain('nat-postrouting', ['jump masquerading'], nat('postrouting', 100));
  for (const hook of ['input', 'forward', 'output']) chain(`filter-${hook}`, ['ct state new jump endpoints-check'], filter(hook));
  const local = 'fib daddr type local ip daddr != 127.0.0.0/8';
  chain('services', ['ip daddr . meta l4proto . th dport vmap @service-ips', `${local} meta l4proto . th dport vmap @service-nodeports`]);
  chain('endpoints-check', ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services', `${local} meta l4proto . th dport vmap @no-endpoint-nodeports`]);
  chain('reject-chain', ['meta l4proto tcp reject with tcp reset', 'reject']);
  chain('mark-for-masquerade', [`meta mark set meta mark | ${MASQ_MARK}`]);
  chain('masquerading', [
    // A pod reaching itself through its Service: the reply must come back through the node.
    'ct status dnat ip saddr . ip daddr @hairpin masquerade',
    `meta mark & ${MASQ_MARK} == 0 return`,
    `meta mark set meta mark ^ ${MASQ_MARK}`,
    'masquerade fully-random',
  ]);
  return chains;
}

/** Keys per block of the `endpoints` map: a Service port with more endpoints gets an inline map. */
export const SLOT_BLOCK = 4096;

/**
 * The first `endpoints` map key of a pick (a Service port's endpoints, or its local ones),
 * by a stable id; kept by the caller so a block stays put while the Service lives.
 */
export type SlotBase = (id: string) => number;

/** Blocks of the `endpoints` map, per Service (`ns/name`), reused once freed. */
export class Slots {
  readonly #blocks = new Map<string, Map<string, number>>(); // service → id → block
  readonly #free: number[] = [];
  #next = 0;

  /** The allocator one render of `service` uses; blocks it no longer asks for are freed by done(). */
  forService(service: string): { base: SlotBase; done: () => void } {
    const before = this.#blocks.get(service) ?? new Map<string, number>();
    const now = new Map<string, number>();
    const base = (id: string) => {
      let b = now.get(id) ?? before.get(id);
      if (b === undefined) b = this.#free.pop() ?? this.#next++;
      now.set(id, b);
      return b * SLOT_BLOCK;
    };
    const done = () => {
      for (const [id, b] of before) if (now.get(id) !== b) this.#free.push(b);
      if (now.size) this.#blocks.set(service, now);
      else this.#blocks.delete(service);
    };
    return { base, done };
  }
}

/** One Service's ports (from buildModel) as chains, affinity sets and shared-set elements. */
export function renderService(ports: readonly ServicePort[], opts: RenderOptions, slots: SlotBase): Fragment {
  const f: Fragment = { chains: new Map(), sets: new Map(), elements: new Map() };
  const chain = (name: string, rules: string[]) => f.chains.set(name, { rules });
  const put = (set: string, k: string, v = '') => {
    let m = f.elements.get(set);
    if (!m) f.elements.set(set, (m = new Map()));
    if (!m.has(k)) m.set(k, v);
  };
  for (const p of ports) {
    const svc = `svc-${p.key}`;
    const ext = `ext-${p.key}`;
    const hasExternal = p.nodePort > 0 || p.externalIPs.length > 0;
    if (p.endpoints.length === 0) {
      put('no-endpoint-services', `${p.clusterIP} . ${p.protocol} . ${p.port}`, 'goto reject-chain');
      for (const ip of p.externalIPs) put('no-endpoint-services', `${ip} . ${p.protocol} . ${p.port}`, 'goto reject-chain');
      if (p.nodePort) put('no-endpoint-nodeports', `${p.protocol} . ${p.nodePort}`, 'goto reject-chain');
      continue;
    }
    const all = new Map<string, Endpoint>();
    for (const e of [...p.endpoints, ...p.localEndpoints]) all.set(`${e.ip}/${e.port}`, e);
    for (const e of all.values()) put('hairpin', `${e.ip} . ${e.ip}`);
    if (p.affinitySeconds > 0) {
      for (const [id, e] of all) {
        f.sets.set(`aff-${p.key}__${id}`, { kind: 'set', decl: `type ipv4_addr ; flags dynamic,timeout ; timeout ${p.affinitySeconds}s ;`, elements: new Map() });
        chain(`ep-${p.key}__${id}`, [`update @aff-${p.key}__${id} { ip saddr }`, `meta l4proto ${p.protocol} dnat to ${e.ip}:${e.port}`]);
      }
    }
    const pick = (eps: Endpoint[], id: string): string[] => {
      if (p.affinitySeconds > 0) return pickSticky(p, eps);
      if (eps.length === 1) return [`meta l4proto ${p.protocol} dnat to ${eps[0]!.ip}:${eps[0]!.port}`];
      if (eps.length > SLOT_BLOCK) return [`meta l4proto ${p.protocol} dnat to numgen random mod ${eps.length} map { ${eps.map((e, i) => `${i} : ${e.ip} . ${e.port}`).join(', ')} }`];
      const base = slots(id);
      eps.forEach((e, i) => put(`endpoints-${p.protocol}`, String(base + i), `${e.ip} . ${e.port}`));
      return [`meta l4proto ${p.protocol} dnat to numgen random mod ${eps.length} offset ${base} map @endpoints-${p.protocol}`];
    };
    chain(svc, [
      `ip daddr ${p.clusterIP} ${p.protocol} dport ${p.port} ip saddr != ${opts.clusterCidr} jump mark-for-masquerade`,
      ...pick(p.endpoints, p.key),
    ]);
    put('service-ips', `${p.clusterIP} . ${p.protocol} . ${p.port}`, `goto ${svc}`);
    if (!hasExternal) continue;
    chain(ext, p.externalLocal
      ? [
        // Pods and the node itself may use any endpoint; outside clients only local ones.
        `ip saddr ${opts.clusterCidr} goto ${svc}`,
        'fib saddr type local jump mark-for-masquerade',
        `fib saddr type local goto ${svc}`,
        ...(p.localEndpoints.length ? pick(p.localEndpoints, `${p.key}/local`) : ['drop']),
      ]
      : ['jump mark-for-masquerade', `goto ${svc}`]);
    for (const ip of p.externalIPs) put('service-ips', `${ip} . ${p.protocol} . ${p.port}`, `goto ${ext}`);
    if (p.nodePort) put('service-nodeports', `${p.protocol} . ${p.nodePort}`, `goto ${ext}`);
  }
  return f;
}

/** ClientIP affinity: back to the endpoint a client had, else one at random (via its chain). */
function pickSticky(p: ServicePort, eps: Endpoint[]): string[] {
  const chainOf = (e: Endpoint) => `ep-${p.key}__${e.ip}/${e.port}`;
  const sticky = eps.map((e) => `ip saddr @aff-${p.key}__${e.ip}/${e.port} goto ${chainOf(e)}`);
  const spread = eps.length === 1
    ? `goto ${chainOf(eps[0]!)}`
    : `numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${chainOf(e)}`).join(', ')} }`;
  return [...sticky, spread];
}
