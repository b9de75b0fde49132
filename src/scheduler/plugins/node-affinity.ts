// NodeAffinity: spec.nodeSelector and required node affinity filter; preferred node
// affinity scores by the summed weights of the preferences a node matches.
import type { FilterPlugin, ScorePlugin } from '../framework/interface.ts';
import type { NodeInfo } from '../framework/node-info.ts';
import type { PodInfo } from '../framework/pod-info.ts';
import { SUCCESS, unresolvable } from '../framework/status.ts';
import { anyTermMatches, termMatches } from './helpers/node-selector.ts';
import { normalizeToMax } from './helpers/normalize.ts';

export const ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";

/** Both nodeSelector and required affinity hold (also used by topology spreading). */
export function requiredNodeAffinityMatches(pod: PodInfo, node: NodeInfo): boolean {
  if (pod.nodeSelector) {
    for (const [k, v] of Object.entries(pod.nodeSelector)) if (node.labels[k] !== v) return false;
  }
  return !pod.requiredNodeAffinity || anyTermMatches(pod.requiredNodeAffinity, node);
}

export const nodeAffinity: FilterPlugin & ScorePlugin = {
  name: 'NodeAffinity',
  events: ['NodeAdd', 'NodeUpdate'],
  filter: (_state, pod, node) => (requiredNodeAffinityMatches(pod, node) ? SUCCESS : unresolvable(ERR_NODE_AFFINITY)),
  score(_state, pod, node) {
    let sum = 0;
    for (const p of pod.preferredNodeAffinity) if (p.weight && termMatches(p.preference, node)) sum += p.weight;
    return sum;
  },
  normalizeScore: (_state, _pod, scores) => normalizeToMax(scores, false),
};
