// Pods that preemption nominated to a node (status.nominatedNodeName) and that are not
// bound yet: kube-scheduler's PodNominator. Filtering counts them on their node for pods
// of lower or equal priority, so the room freed for a preemptor is kept for it.
import type { PodInfo } from './framework/pod-info.ts';

export class Nominator {
  readonly #byNode = new Map<string, Map<string, PodInfo>>();
  readonly #nodeOf = new Map<string, string>();

  /** How many pods are nominated. */
  get size(): number {
    return this.#nodeOf.size;
  }

  /** The node the pod is nominated to, if any. */
  nodeOf(key: string): string | undefined {
    return this.#nodeOf.get(key);
  }

  /** Nominates the pod to node (replacing any earlier nomination); '' clears it. */
  set(info: PodInfo, node: string): void {
    this.delete(info.key);
    if (!node) return;
    let pods = this.#byNode.get(node);
    if (!pods) this.#byNode.set(node, (pods = new Map()));
    pods.set(info.key, info);
    this.#nodeOf.set(info.key, node);
  }

  /** Clears the pod's nomination; true if it had one. */
  delete(key: string): boolean {
    const node = this.#nodeOf.get(key);
    if (node === undefined) return false;
    this.#nodeOf.delete(key);
    const pods = this.#byNode.get(node)!;
    pods.delete(key);
    if (pods.size === 0) this.#byNode.delete(node);
    return true;
  }

  podsForNode(node: string): readonly PodInfo[] {
    const pods = this.#byNode.get(node);
    return pods ? [...pods.values()] : [];
  }

  /**
   * What pod must make room for, by node: the nominated pods of priority ≥ its own, other
   * than itself. Undefined when there are none (the common case: one map lookup per cycle).
   */
  forPod(pod: PodInfo): Map<string, PodInfo[]> | undefined {
    if (this.#nodeOf.size === 0) return undefined;
    let out: Map<string, PodInfo[]> | undefined;
    for (const [node, pods] of this.#byNode) {
      for (const p of pods.values()) {
        if (p.priority < pod.priority || p.key === pod.key || (p.uid && p.uid === pod.uid)) continue;
        out ??= new Map();
        let list = out.get(node);
        if (!list) out.set(node, (list = []));
        list.push(p);
      }
    }
    return out;
  }
}
