// Resource scores, cpu and memory weighted equally. LeastAllocated prefers the emptiest
// node (spreading load); BalancedAllocation prefers nodes whose cpu and memory use stay
// even, so neither runs out while the other is idle.
import { MAX_NODE_SCORE, type ScorePlugin } from '../framework/interface.ts';

function leastAllocated(requested: number, allocatable: number): number {
  if (allocatable === 0 || requested > allocatable) return 0;
  return ((allocatable - requested) * MAX_NODE_SCORE) / allocatable;
}

export const nodeResourcesLeastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  score(_state, pod, node) {
    // Non-zero requests: pods asking for nothing still weigh on the score.
    const cpu = leastAllocated(node.nonZeroRequested.cpu + pod.nonZeroRequests.cpu, node.allocatable.cpu);
    const mem = leastAllocated(node.nonZeroRequested.memory + pod.nonZeroRequests.memory, node.allocatable.memory);
    return Math.floor((cpu + mem) / 2);
  },
};

// At module level, not inside score(): a closure made per call costs an allocation and,
// with esbuild's keepNames (tsx and our bundle), a __name() call per node scored.
function fraction(req: number, alloc: number): number {
  return alloc === 0 ? 0 : Math.min(1, req / alloc);
}

export const nodeResourcesBalancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  score(_state, pod, node) {
    const cpu = fraction(node.requested.cpu + pod.requests.cpu, node.allocatable.cpu);
    const mem = fraction(node.requested.memory + pod.requests.memory, node.allocatable.memory);
    // The standard deviation of two fractions is half their difference.
    const std = Math.abs(cpu - mem) / 2;
    return Math.floor((1 - std) * MAX_NODE_SCORE);
  },
};
