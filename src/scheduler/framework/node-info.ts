// A node with what is placed on it: the pods assigned (or assumed) and the sum of their
// requests, kept up to date as pods come and go so no plugin sums them per cycle.
import type { KObject } from '../../api/object.ts';
import { hasAffinity, type PodInfo, type Taint } from './pod-info.ts';
import { addInto, cloneResources, emptyResources, toResources, type Resources } from './resources.ts';

export interface Allocatable extends Resources {
  pods: number;
}

export class NodeInfo {
  readonly name: string;
  node: KObject | undefined;
  labels: Readonly<Record<string, string>> = {};
  taints: readonly Taint[] = [];
  unschedulable = false;
  allocatable: Allocatable = { ...emptyResources(), pods: 0 };
  readonly pods = new Map<string, PodInfo>();
  requested: Resources = emptyResources();
  nonZeroRequested: Resources = emptyResources();
  /** Pods here with any (anti-)affinity term, and with required anti-affinity: the
   * inter-pod affinity plugin only has to look at these. */
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;
  /** Bumped on every change; the snapshot copies only nodes that moved. */
  generation = 0;

  constructor(name: string, node?: KObject) {
    this.name = name;
    if (node) this.setNode(node);
  }

  setNode(node: KObject): void {
    const spec = (node.spec ?? {}) as { taints?: Taint[]; unschedulable?: boolean };
    const status = (node.status ?? {}) as { allocatable?: Record<string, unknown>; capacity?: Record<string, unknown> };
    const list = status.allocatable ?? status.capacity ?? {};
    this.node = node;
    this.labels = node.metadata.labels ?? {};
    this.taints = spec.taints ?? [];
    this.unschedulable = spec.unschedulable === true;
    const pods = Number(list.pods ?? 0);
    this.allocatable = { ...toResources(list), pods: Number.isFinite(pods) ? pods : 0 };
  }

  addPod(p: PodInfo): void {
    this.pods.set(p.key, p);
    addInto(this.requested, p.requests);
    addInto(this.nonZeroRequested, p.nonZeroRequests);
    if (hasAffinity(p)) this.podsWithAffinity++;
    if (p.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity++;
  }

  removePod(key: string): PodInfo | undefined {
    const p = this.pods.get(key);
    if (!p) return undefined;
    this.pods.delete(key);
    addInto(this.requested, p.requests, -1);
    addInto(this.nonZeroRequested, p.nonZeroRequests, -1);
    if (hasAffinity(p)) this.podsWithAffinity--;
    if (p.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity--;
    return p;
  }

  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.taints = this.taints;
    c.unschedulable = this.unschedulable;
    c.allocatable = this.allocatable;
    for (const [k, p] of this.pods) c.pods.set(k, p);
    c.requested = cloneResources(this.requested);
    c.nonZeroRequested = cloneResources(this.nonZeroRequested);
    c.podsWithAffinity = this.podsWithAffinity;
    c.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity;
    c.generation = this.generation;
    return c;
  }
}
