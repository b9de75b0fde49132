// The read-only view one scheduling cycle works on. The cache refreshes it between cycles,
// copying only the nodes that changed, so a cycle never sees a half-applied event.
import type { KObject } from '../../api/object.ts';
import { NodeInfo } from './node-info.ts';
import { newPodInfo } from './pod-info.ts';

export class Snapshot {
  /** Nodes in a stable order (the order they were first seen). */
  nodes: NodeInfo[] = [];
  /** Nodes holding a pod with any affinity term / with required anti-affinity. */
  havePodsWithAffinity: NodeInfo[] = [];
  havePodsWithRequiredAntiAffinity: NodeInfo[] = [];
  /** The cache generation this snapshot reflects. */
  generation = 0;
  readonly byName = new Map<string, NodeInfo>();
  /** Where each listed node sits in `nodes`, so a changed node is swapped in place. */
  readonly #index = new Map<string, number>();

  get(name: string): NodeInfo | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.nodes.length;
  }

  /** Rebuilds the node lists from byName (after nodes were added, removed or replaced). */
  relist(order: Iterable<string>): void {
    this.nodes = [];
    this.#index.clear();
    for (const name of order) {
      const n = this.byName.get(name);
      if (n?.node) {
        this.#index.set(name, this.nodes.length);
        this.nodes.push(n);
      }
    }
    this.#refilter();
  }

  #refilter(): void {
    this.havePodsWithAffinity = this.nodes.filter((n) => n.podsWithAffinity > 0);
    this.havePodsWithRequiredAntiAffinity = this.nodes.filter((n) => n.podsWithRequiredAntiAffinity > 0);
  }

  /**
   * Swaps in new copies of nodes already listed, keeping the order: O(changed nodes)
   * rather than a relist of all of them. False (nothing changed) when one of them is not
   * listed yet; the caller relists instead.
   */
  replace(changed: readonly NodeInfo[]): boolean {
    for (const ni of changed) if (!ni.node || !this.#index.has(ni.name)) return false;
    let affinityMoved = false;
    for (const ni of changed) {
      const i = this.#index.get(ni.name)!;
      const old = this.nodes[i]!;
      if (old.podsWithAffinity > 0 || old.podsWithRequiredAntiAffinity > 0 || ni.podsWithAffinity > 0 || ni.podsWithRequiredAntiAffinity > 0) affinityMoved = true;
      this.nodes[i] = ni;
      this.byName.set(ni.name, ni);
    }
    if (affinityMoved) this.#refilter();
    return true;
  }

  /** A snapshot straight from objects: for tests and one-off simulations. */
  static from(nodes: KObject[], pods: KObject[] = []): Snapshot {
    const s = new Snapshot();
    for (const n of nodes) s.byName.set(n.metadata.name!, new NodeInfo(n.metadata.name!, n));
    for (const p of pods) {
      const info = newPodInfo(p);
      s.byName.get(info.nodeName)?.addPod(info);
    }
    s.relist(s.byName.keys());
    return s;
  }
}
