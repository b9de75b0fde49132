// DefaultPreemption (PostFilter): when no node fits, find a node where evicting pods of
// lower priority would let the pod in, evicting as few and as unimportant pods as
// possible. The pods are not evicted here: the plan (node + victims) goes back to the
// caller, who deletes them and nominates the node.
import type { FrameworkHandle, PostFilterPlugin, PostFilterResult } from '../framework/interface.ts';
import type { CycleState } from '../framework/cycle-state.ts';
import type { NodeInfo } from '../framework/node-info.ts';
import type { PodInfo } from '../framework/pod-info.ts';
import { SUCCESS, unresolvable, unschedulable, type Status } from '../framework/status.ts';
import { fitErrorMessage } from '../fit-error.ts';

export const ERR_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const ERR_NO_VICTIMS = 'No preemption victims found for incoming pod';

// Kubernetes looks for at least this many candidates (or 10% of nodes) before choosing.
const MIN_CANDIDATES = 100;
const MIN_CANDIDATES_PERCENT = 10;

interface Candidate {
  node: NodeInfo;
  victims: PodInfo[];
}

/** Higher priority first; among equals the one that started earlier matters more. */
const moreImportantFirst = (a: PodInfo, b: PodInfo) => b.priority - a.priority || a.started - b.started;

function eligible(pod: PodInfo, nodes: { get(name: string): NodeInfo | undefined }, statuses: ReadonlyMap<string, Status>): string | undefined {
  if (pod.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
  const nominated = pod.nominatedNodeName ? nodes.get(pod.nominatedNodeName) : undefined;
  // A victim from an earlier round is still leaving the nominated node: wait for it
  // rather than evict more (unless that node can no longer take the pod at all).
  if (nominated && statuses.get(nominated.name)?.code !== 'UnschedulableAndUnresolvable') {
    for (const p of nominated.pods.values()) {
      if (p.deleting && p.priority < pod.priority) return 'not eligible due to a terminating pod on the nominated node.';
    }
  }
  return undefined;
}

/** Evict every lower-priority pod; if the pod then fits, put back as many as still allow it. */
function selectVictims(state: CycleState, pod: PodInfo, original: NodeInfo, handle: FrameworkHandle): Candidate | Status {
  const lower = [...original.pods.values()].filter((p) => p.priority < pod.priority);
  if (lower.length === 0) return unresolvable(ERR_NO_VICTIMS);
  const node = original.clone();
  for (const p of lower) {
    node.removePod(p.key);
    handle.removePod(state, pod, p, node);
  }
  const fits = handle.runFilters(state, pod, node);
  if (fits.code !== 'Success') return fits;
  const victims: PodInfo[] = [];
  for (const p of lower.sort(moreImportantFirst)) {
    node.addPod(p);
    handle.addPod(state, pod, p, node);
    if (handle.runFilters(state, pod, node).code !== 'Success') {
      node.removePod(p.key);
      handle.removePod(state, pod, p, node);
      victims.push(p);
    }
  }
  return victims.length ? { node: original, victims } : unresolvable(ERR_NO_VICTIMS);
}

// Offsetting by 2^31 keeps every term positive, so negative priorities still add up
// to "more victims is worse", as in Kubernetes.
const prioritySum = (c: Candidate) => c.victims.reduce((s, v) => s + v.priority + 2 ** 31 + 1, 0);
const highest = (c: Candidate) => c.victims.reduce((m, v) => Math.max(m, v.priority), -Infinity);
const earliestTopStart = (c: Candidate) => {
  const top = highest(c);
  return c.victims.reduce((m, v) => (v.priority === top ? Math.min(m, v.started) : m), Infinity);
};

/** Kubernetes' order: lowest top victim priority, lowest priority sum, fewest victims,
 * most recently started top victims, then the first found. */
export function pickCandidate(candidates: Candidate[]): Candidate | undefined {
  const criteria: ((c: Candidate) => number)[] = [highest, prioritySum, (c) => c.victims.length, (c) => -earliestTopStart(c)];
  let pool = candidates;
  for (const f of criteria) {
    if (pool.length <= 1) break;
    const best = Math.min(...pool.map(f));
    pool = pool.filter((c) => f(c) === best);
  }
  return pool[0];
}

export const defaultPreemption: PostFilterPlugin = {
  name: 'DefaultPreemption',
  postFilter(state, pod, snapshot, statuses, handle) {
    const notEligible = eligible(pod, snapshot, statuses);
    if (notEligible) return { status: unschedulable(`preemption: ${notEligible}`) };

    const outcome = new Map<string, Status>();
    const potential: NodeInfo[] = [];
    for (const node of snapshot.nodes) {
      if (statuses.get(node.name)?.code === 'UnschedulableAndUnresolvable') outcome.set(node.name, unresolvable(ERR_NOT_HELPFUL));
      else potential.push(node);
    }
    const wanted = Math.max(MIN_CANDIDATES, Math.floor((snapshot.size * MIN_CANDIDATES_PERCENT) / 100));
    const candidates: Candidate[] = [];
    for (const node of potential) {
      if (candidates.length >= wanted) break;
      const r = selectVictims(state.clone(), pod, node, handle);
      if ('victims' in r) candidates.push(r);
      else outcome.set(node.name, r);
    }
    const best = pickCandidate(candidates);
    if (!best) return { status: unschedulable(`preemption: ${fitErrorMessage(snapshot.size, outcome.values())}`) };
    const result: PostFilterResult = { nominatedNode: best.node.name, victims: best.victims };
    return { status: SUCCESS, result };
  },
};
