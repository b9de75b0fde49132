// NodeResourcesFit: the pod's requests must fit in what the node's allocatable leaves
// after the pods already there, and the node must have room for one more pod.
import type { FilterPlugin } from '../framework/interface.ts';
import type { NodeInfo } from '../framework/node-info.ts';
import type { PodInfo } from '../framework/pod-info.ts';
import { SUCCESS, unresolvable, unschedulable, type Status } from '../framework/status.ts';

export interface Insufficiency {
  reason: string;
  /** The pod asks for more than the whole node has: evicting pods cannot help. */
  unresolvable: boolean;
}

function check(out: Insufficiency[], name: string, want: number, used: number, alloc: number): void {
  if (want > 0 && want > alloc - used) out.push({ reason: `Insufficient ${name}`, unresolvable: want > alloc });
}

export function insufficientResources(pod: PodInfo, node: NodeInfo): Insufficiency[] {
  const out: Insufficiency[] = [];
  const a = node.allocatable;
  const used = node.requested;
  const want = pod.requests;
  if (node.pods.size + 1 > a.pods) out.push({ reason: 'Too many pods', unresolvable: false });
  check(out, 'cpu', want.cpu, used.cpu, a.cpu);
  check(out, 'memory', want.memory, used.memory, a.memory);
  check(out, 'ephemeral-storage', want.ephemeralStorage, used.ephemeralStorage, a.ephemeralStorage);
  if (want.scalar) {
    for (const [name, v] of Object.entries(want.scalar)) check(out, name, v, used.scalar?.[name] ?? 0, a.scalar?.[name] ?? 0);
  }
  return out;
}

/** Room for the pod on every count, without building the list of what is lacking. */
function roomFor(pod: PodInfo, node: NodeInfo): boolean {
  const a = node.allocatable;
  const used = node.requested;
  const want = pod.requests;
  return !want.scalar && node.pods.size + 1 <= a.pods
    && !(want.cpu > 0 && want.cpu > a.cpu - used.cpu)
    && !(want.memory > 0 && want.memory > a.memory - used.memory)
    && !(want.ephemeralStorage > 0 && want.ephemeralStorage > a.ephemeralStorage - used.ephemeralStorage);
}

export function fits(pod: PodInfo, node: NodeInfo): Status {
  // The common case, once per node per pod: no allocation.
  if (roomFor(pod, node)) return SUCCESS;
  const lacking = insufficientResources(pod, node);
  if (lacking.length === 0) return SUCCESS;
  const reasons = lacking.map((l) => l.reason);
  return lacking.some((l) => l.unresolvable) ? unresolvable(...reasons) : unschedulable(...reasons);
}

export const nodeResourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  // A pod leaving (or shrinking) frees room; a node added or resized adds some.
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete', 'AssignedPodUpdate'],
  filter: (_state, pod, node) => fits(pod, node),
};
