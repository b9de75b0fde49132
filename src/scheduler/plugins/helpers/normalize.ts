// Kubernetes' DefaultNormalizeScore: scale so the best node gets 100; `reverse` turns
// "fewer is better" counts (untolerated PreferNoSchedule taints) into scores.
import { MAX_NODE_SCORE, type NodeScore } from '../../framework/interface.ts';

export function normalizeToMax(scores: NodeScore[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) max = Math.max(max, s.score);
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = MAX_NODE_SCORE;
    return;
  }
  for (const s of scores) {
    const v = Math.floor((MAX_NODE_SCORE * s.score) / max);
    s.score = reverse ? MAX_NODE_SCORE - v : v;
  }
}
