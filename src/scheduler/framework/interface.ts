// One small interface per extension point, as in kube-scheduler's framework. A plugin
// implements the ones it needs; a Profile lists which run, in order, and score weights.
import type { CycleState } from './cycle-state.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import type { Snapshot } from './snapshot.ts';
import type { Status } from './status.ts';

/** Cluster changes after which a pod rejected by a plugin may fit (EventsToRegister). */
export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'NodeDelete' | 'AssignedPodAdd' | 'AssignedPodUpdate' | 'AssignedPodDelete';

export interface Plugin {
  readonly name: string;
  /** Which events can turn this plugin's rejection into a fit; absent means all of them. */
  readonly events?: readonly ClusterEvent[];
}

/** Once per pod before Filter: compute what Filter reads, or reject the pod outright.
 * Returning Skip skips this plugin's Filter for the cycle. */
export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status;
  /** Preemption's simulation: keep the PreFilter state true when a pod is removed from
   * (or put back on) a node. Only plugins whose state depends on other pods need these. */
  removePod?(state: CycleState, pod: PodInfo, victim: PodInfo, node: NodeInfo): void;
  addPod?(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void;
}

/** Per node: can the pod run here? */
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
}

/** What PostFilter may hand back: a node to nominate and the pods to evict for it. */
export interface PostFilterResult {
  nominatedNode: string;
  victims: PodInfo[];
}

/** The framework as PostFilter plugins see it: enough to re-run the filters. */
export interface FrameworkHandle {
  runFilters(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
  removePod(state: CycleState, pod: PodInfo, victim: PodInfo, node: NodeInfo): void;
  addPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void;
}

/** Runs only when no node fits; preemption lives here. */
export interface PostFilterPlugin extends Plugin {
  postFilter(
    state: CycleState, pod: PodInfo, snapshot: Snapshot, statuses: ReadonlyMap<string, Status>, handle: FrameworkHandle,
  ): { status: Status; result?: PostFilterResult };
}

/** Once per pod before Score, over the feasible nodes; Skip skips its Score. */
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): Status;
}

export interface NodeScore {
  node: NodeInfo;
  score: number;
}

/** Per feasible node: a raw score; normalizeScore maps them to 0..100 (MAX_NODE_SCORE). */
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  normalizeScore?(state: CycleState, pod: PodInfo, scores: NodeScore[]): void;
}

/** After a node is chosen and before binding: claim per-node resources a plugin tracks. */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status;
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

/** Binding happens outside the pure core: the scheduler calls this with its decision. */
export interface Binder {
  bind(pod: PodInfo['pod'], nodeName: string): Promise<void>;
}

export const MAX_NODE_SCORE = 100;

export interface Profile {
  schedulerName: string;
  preFilter: PreFilterPlugin[];
  filter: FilterPlugin[];
  postFilter: PostFilterPlugin[];
  preScore: PreScorePlugin[];
  score: { plugin: ScorePlugin; weight: number }[];
  reserve: ReservePlugin[];
  /** 0 (default) means Kubernetes' adaptive percentage; 100 checks every node. */
  percentageOfNodesToScore?: number;
}
