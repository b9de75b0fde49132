// The default profile: Kubernetes' default plugins, their order and score weights.
// Filter order puts cheap, node-only checks first so most nodes are rejected early.
import type { Profile } from '../framework/interface.ts';
import { defaultPreemption } from './default-preemption.ts';
import { interPodAffinity } from './inter-pod-affinity.ts';
import { nodeAffinity } from './node-affinity.ts';
import { nodeName } from './node-name.ts';
import { nodeResourcesFit } from './node-resources-fit.ts';
import { nodeResourcesBalancedAllocation, nodeResourcesLeastAllocated } from './node-resources-scoring.ts';
import { nodeUnschedulable } from './node-unschedulable.ts';
import { podTopologySpread } from './pod-topology-spread.ts';
import { taintToleration } from './taint-toleration.ts';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export function defaultProfile(overrides: Partial<Profile> = {}): Profile {
  return {
    schedulerName: DEFAULT_SCHEDULER_NAME,
    preFilter: [podTopologySpread, interPodAffinity],
    filter: [nodeUnschedulable, nodeName, taintToleration, nodeAffinity, nodeResourcesFit, podTopologySpread, interPodAffinity],
    postFilter: [defaultPreemption],
    preScore: [interPodAffinity, podTopologySpread],
    score: [
      { plugin: taintToleration, weight: 3 },
      { plugin: nodeAffinity, weight: 2 },
      { plugin: podTopologySpread, weight: 2 },
      { plugin: interPodAffinity, weight: 2 },
      { plugin: nodeResourcesLeastAllocated, weight: 1 },
      { plugin: nodeResourcesBalancedAllocation, weight: 1 },
    ],
    reserve: [],
    ...overrides,
  };
}
