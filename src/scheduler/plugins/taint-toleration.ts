// TaintToleration: NoSchedule and NoExecute taints keep out pods that do not tolerate
// them; PreferNoSchedule taints only lower the node's score.
import type { FilterPlugin, ScorePlugin } from '../framework/interface.ts';
import { SUCCESS, unresolvable } from '../framework/status.ts';
import { firstUntolerated, toleratedBy } from './helpers/taints.ts';
import { normalizeToMax } from './helpers/normalize.ts';

const HARD = ['NoSchedule', 'NoExecute'];

export const taintToleration: FilterPlugin & ScorePlugin = {
  name: 'TaintToleration',
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state, pod, node) {
    if (node.taints.length === 0) return SUCCESS;
    const taint = firstUntolerated(node.taints, pod.tolerations, HARD);
    return taint ? unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`) : SUCCESS;
  },
  score(_state, pod, node) {
    if (node.taints.length === 0) return 0;
    // Only tolerations that could apply to PreferNoSchedule count, as in Kubernetes.
    const tolerations = pod.tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let n = 0;
    for (const taint of node.taints) if (taint.effect === 'PreferNoSchedule' && !toleratedBy(tolerations, taint)) n++;
    return n;
  },
  normalizeScore: (_state, _pod, scores) => normalizeToMax(scores, true),
};
