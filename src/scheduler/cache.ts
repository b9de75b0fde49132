// The scheduler's own view of the cluster: nodes and the pods assigned to them, kept
// incrementally from informer events, plus pods it has assumed onto a node while their
// binding is in flight, so the next cycle already counts them.
import type { KObject } from '../api/object.ts';
import { NodeInfo } from './framework/node-info.ts';
import { newPodInfo, podKey, type PodInfo } from './framework/pod-info.ts';
import type { Snapshot } from './framework/snapshot.ts';

interface CachedPod {
  info: PodInfo;
  node: string;
  assumed: boolean;
}

/** Finished pods hold no resources; kube-scheduler's informer filters them out too. */
export function isTerminal(pod: KObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export class SchedulerCache {
  // Insertion-ordered: the snapshot lists nodes in the order they were first seen.
  readonly #nodes = new Map<string, NodeInfo>();
  readonly #pods = new Map<string, CachedPod>();
  #generation = 0;
  /** Nodes appeared or vanished since the last snapshot: its lists need rebuilding. */
  #membershipChanged = true;
  /** Names of the nodes touched since #synced was last brought up to date. */
  readonly #dirty = new Set<string>();
  /** The snapshot updateSnapshot last brought up to date: it may be updated from #dirty. */
  #synced: Snapshot | undefined;

  get nodeCount(): number {
    let n = 0;
    for (const ni of this.#nodes.values()) if (ni.node) n++;
    return n;
  }

  get podCount(): number {
    return this.#pods.size;
  }

  #touch(ni: NodeInfo): void {
    ni.generation = ++this.#generation;
    this.#dirty.add(ni.name);
  }

  // A pod can be seen before its node (informers are not ordered across kinds): it
  // waits in a node-less NodeInfo that the snapshot leaves out.
  #nodeInfo(name: string): NodeInfo {
    let ni = this.#nodes.get(name);
    if (!ni) {
      ni = new NodeInfo(name);
      this.#nodes.set(name, ni);
    }
    return ni;
  }

  addNode(node: KObject): void {
    const ni = this.#nodeInfo(node.metadata.name!);
    if (!ni.node) this.#membershipChanged = true;
    ni.setNode(node);
    this.#touch(ni);
  }

  updateNode(node: KObject): void {
    this.addNode(node);
  }

  removeNode(name: string): void {
    const ni = this.#nodes.get(name);
    if (!ni) return;
    // Its pods stay until their own delete events; only the node itself goes.
    ni.node = undefined;
    if (ni.pods.size === 0) this.#nodes.delete(name);
    this.#membershipChanged = true;
    this.#touch(ni);
  }

  #place(info: PodInfo, node: string, assumed: boolean): void {
    const ni = this.#nodeInfo(node);
    ni.addPod(info);
    this.#touch(ni);
    this.#pods.set(info.key, { info, node, assumed });
  }

  #unplace(key: string): CachedPod | undefined {
    const cached = this.#pods.get(key);
    if (!cached) return undefined;
    this.#pods.delete(key);
    const ni = this.#nodes.get(cached.node);
    if (ni) {
      ni.removePod(key);
      this.#touch(ni);
      if (!ni.node && ni.pods.size === 0) this.#nodes.delete(cached.node);
    }
    return cached;
  }

  /** An assigned pod seen by the informer (add or update); confirms an assumed one. */
  addPod(pod: KObject): void {
    const key = podKey(pod);
    this.#unplace(key);
    const info = newPodInfo(pod);
    if (!info.nodeName || isTerminal(pod)) return;
    this.#place(info, info.nodeName, false);
  }

  updatePod(pod: KObject): void {
    this.addPod(pod);
  }

  removePod(pod: KObject): void {
    this.#unplace(podKey(pod));
  }

  /** Counts the pod on the node now, before the binding is confirmed. */
  assumePod(info: PodInfo, node: string): void {
    this.#unplace(info.key);
    this.#place(info, node, true);
  }

  /** The binding failed: the node's room goes back. */
  forgetPod(key: string): void {
    if (this.#pods.get(key)?.assumed) this.#unplace(key);
  }

  isAssumed(key: string): boolean {
    return this.#pods.get(key)?.assumed === true;
  }

  /** Whether the pod occupies a node in the cache (assumed or confirmed). */
  hasPod(key: string): boolean {
    return this.#pods.has(key);
  }

  podInfo(key: string): PodInfo | undefined {
    return this.#pods.get(key)?.info;
  }

  /** Brings the snapshot up to date, copying only nodes changed since it was last updated. */
  updateSnapshot(snap: Snapshot): void {
    if (snap.generation === this.#generation && !this.#membershipChanged) return;
    if (snap === this.#synced && snap.generation > 0 && !this.#membershipChanged) {
      // The usual case (a pod assumed or bound, a node's status): copy the few nodes
      // touched since, in place, without walking all of them.
      const changed: NodeInfo[] = [];
      let gone = false;
      for (const name of this.#dirty) {
        const ni = this.#nodes.get(name);
        if (ni?.node) changed.push(ni.clone());
        else if (snap.byName.delete(name)) gone = true;
      }
      if (!gone && snap.replace(changed)) {
        this.#dirty.clear();
        snap.generation = this.#generation;
        return;
      }
    }
    this.#fullUpdate(snap);
    this.#dirty.clear();
    this.#synced = snap;
  }

  #fullUpdate(snap: Snapshot): void {
    let relist = this.#membershipChanged;
    for (const [name, ni] of this.#nodes) {
      if (ni.generation <= snap.generation) continue;
      relist = true;
      if (ni.node) snap.byName.set(name, ni.clone());
      else snap.byName.delete(name);
    }
    if (this.#membershipChanged) {
      for (const name of snap.byName.keys()) if (!this.#nodes.get(name)?.node) snap.byName.delete(name);
    }
    if (relist) snap.relist(this.#nodes.keys());
    snap.generation = this.#generation;
    this.#membershipChanged = false;
  }
}
