// Node IPAM: gives every Node a pod range (spec.podCIDR, spec.podCIDRs) cut from the
// cluster CIDR, one /nodeCidrMaskSize block per node (per family when the cluster range is
// dual-stack), never the same block to two nodes.
//
//   nodes ─► queue of node names ─► sync(name):
//     gone        → release its blocks (and retry nodes that were waiting for one)
//     has CIDRs   → mark them taken (this is also how a restart rebuilds the allocation)
//     has none    → take the next free block(s) and write them; CIDRNotAvailable when full
//
// The allocation lives in memory and is rebuilt from the nodes' specs before the first
// allocation, so it is stable across restarts and leader changes.
import type { KObject } from '../../api/object.ts';
import type { Informer } from '../../client/informer.ts';
import { isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { Controller, ControllerContext } from '../types.ts';
import { CidrSet, formatCidr, parseCidr, type Cidr } from './cidr.ts';

export interface NodeIpamControllerOptions {
  /** Block size for an IPv6 cluster range (Kubernetes' --node-cidr-mask-size-ipv6). */
  ipv6MaskSize?: number;
}

interface Assignment { uid: string; cidrs: string[] }

export class NodeIpamController implements Controller {
  readonly name = 'nodeipam';
  readonly #ipv6MaskSize: number;
  #ctx?: ControllerContext;
  #queue?: WorkQueue;
  #nodes?: Informer;
  #api?: ResourceInterface;
  #sets: CidrSet[] = [];
  /** Node name → the blocks it holds (as we last saw or wrote them). */
  readonly #assigned = new Map<string, Assignment>();
  /** Nodes that found the range full: retried when a block is released. */
  readonly #waiting = new Set<string>();
  #initialized = false;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(opts: NodeIpamControllerOptions = {}) {
    this.#ipv6MaskSize = opts.ipv6MaskSize ?? 64;
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#api = ctx.api.resource('', 'v1', 'nodes');
    this.#sets = this.#buildSets(ctx);
    const nodes = this.#nodes = ctx.informers.informer('', 'v1', 'nodes');
    const queue = this.#queue = new WorkQueue((name) => this.sync(name), {
      onError: (name, err) => ctx.log.warn('node CIDR allocation failed', { node: name, error: String(err) }),
    });
    this.#unsubscribe.push(nodes.addEventHandler({
      onAdd: (n) => queue.add(n.metadata.name!),
      onUpdate: (_o, n) => queue.add(n.metadata.name!),
      onDelete: (n) => queue.add(n.metadata.name!),
    }));
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#queue?.stop();
  }

  get idle(): boolean {
    return this.#queue?.idle ?? true;
  }

  /** For tests and metrics: how many blocks each family has handed out. */
  usage(): { cidr: string; used: number; size: number }[] {
    return this.#sets.map((s) => ({ cidr: formatCidr(s.cluster), used: s.used, size: s.size }));
  }

  #buildSets(ctx: ControllerContext): CidrSet[] {
    const sets: CidrSet[] = [];
    for (const text of splitList(ctx.config.clusterCidr)) {
      try {
        const cluster = parseCidr(text);
        if (sets.some((s) => s.cluster.family === cluster.family)) throw new Error('only one range per IP family');
        const mask = cluster.family === 4 ? ctx.config.nodeCidrMaskSize || 24 : this.#ipv6MaskSize;
        sets.push(new CidrSet(cluster, mask));
      } catch (err) {
        ctx.log.error('cluster CIDR unusable; node IPAM disabled for it', { cidr: text, error: String(err) });
      }
    }
    // Keep the service range out, should the two overlap.
    for (const text of splitList(ctx.config.serviceCidr)) {
      try {
        const svc = parseCidr(text);
        for (const s of sets) if (s.cluster.family === svc.family) s.occupy(svc);
      } catch { /* the API server reports a bad service range */ }
    }
    return sets;
  }

  async sync(name: string): Promise<void> {
    if (this.#sets.length === 0) return;
    if (!this.#initialized) {
      if (!this.#nodes!.hasSynced()) { this.#queue!.addAfter(name, 100); return; }
      // Rebuild the allocation from what nodes already hold before handing anything out.
      for (const node of this.#nodes!.list()) {
        const cidrs = podCIDRs(node);
        if (cidrs.length) this.#record(node, cidrs);
      }
      this.#initialized = true;
    }

    const node = this.#nodes!.get(name);
    const had = this.#assigned.get(name);
    if (!node) {
      this.#waiting.delete(name);
      if (had) this.#release(name, had);
      return;
    }
    const existing = podCIDRs(node);
    if (existing.length) {
      this.#waiting.delete(name);
      if (!had || had.uid !== node.metadata.uid || !sameList(had.cidrs, existing)) {
        if (had) this.#release(name, had);
        this.#record(node, existing);
      }
      return;
    }

    let cidrs: string[];
    if (had && had.uid === node.metadata.uid) {
      // Allocated before, but the write has not reached the cache (or failed): write it again.
      cidrs = had.cidrs;
    } else {
      if (had) this.#release(name, had); // a new node with an old name
      const taken: { set: CidrSet; cidr: Cidr }[] = [];
      for (const set of this.#sets) {
        const cidr = set.allocateNext();
        if (!cidr) {
          for (const t of taken) t.set.release(t.cidr);
          if (!this.#waiting.has(name)) {
            this.#ctx!.recorder('cidrAllocator').event(node, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
          }
          this.#waiting.add(name);
          return;
        }
        taken.push({ set, cidr });
      }
      cidrs = taken.map((t) => formatCidr(t.cidr));
      this.#assigned.set(name, { uid: node.metadata.uid!, cidrs });
      this.#waiting.delete(name);
    }

    const next = structuredClone(node);
    const spec = (next.spec ??= {}) as Record<string, unknown>;
    spec.podCIDR = cidrs[0];
    spec.podCIDRs = cidrs;
    try {
      await this.#api!.update(next, { fieldManager: 'node-ipam-controller' });
    } catch (err) {
      if (isNotFound(err)) { this.#release(name, this.#assigned.get(name)!); return; }
      throw err; // a conflict: retried with the same blocks
    }
  }

  #record(node: KObject, cidrs: string[]): void {
    const name = node.metadata.name!;
    for (const text of cidrs) {
      let cidr: Cidr;
      try { cidr = parseCidr(text); } catch { continue; }
      const set = this.#sets.find((s) => s.cluster.family === cidr.family);
      if (!set || !set.occupy(cidr)) this.#ctx!.log.warn('node pod CIDR outside the cluster range', { node: name, cidr: text });
    }
    this.#assigned.set(name, { uid: node.metadata.uid!, cidrs });
  }

  #release(name: string, a: Assignment): void {
    this.#assigned.delete(name);
    // Another node may claim the same block (set by hand): keep it taken then.
    const stillUsed = new Set<string>();
    for (const other of this.#assigned.values()) for (const c of other.cidrs) stillUsed.add(c);
    for (const text of a.cidrs) {
      if (stillUsed.has(text)) continue;
      try {
        const cidr = parseCidr(text);
        this.#sets.find((s) => s.cluster.family === cidr.family)?.release(cidr);
      } catch { /* never ours */ }
    }
    for (const waiting of this.#waiting) this.#queue!.add(waiting);
  }
}

function podCIDRs(node: KObject): string[] {
  const spec = (node.spec ?? {}) as { podCIDR?: unknown; podCIDRs?: unknown };
  if (Array.isArray(spec.podCIDRs) && spec.podCIDRs.length) return spec.podCIDRs.filter((c): c is string => typeof c === 'string');
  return typeof spec.podCIDR === 'string' && spec.podCIDR ? [spec.podCIDR] : [];
}

function splitList(s: string | undefined): string[] {
  return (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
