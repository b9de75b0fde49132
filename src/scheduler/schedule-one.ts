// One scheduling decision, as a pure function of a pod, a snapshot and a profile:
// PreFilter → Filter (until enough feasible nodes) → PostFilter if none → PreScore →
// Score → pick. It reads nothing else and writes nothing; binding is the caller's job.
import { CycleState } from './framework/cycle-state.ts';
import type { Profile } from './framework/interface.ts';
import type { NodeInfo } from './framework/node-info.ts';
import type { PodInfo } from './framework/pod-info.ts';
import { activeFilters, frameworkHandle, runActiveFilters, runFiltersWithNominatedPods, runPreFilter, runScoring, type NominatedPods } from './framework/runtime.ts';
import type { Snapshot } from './framework/snapshot.ts';
import type { Status } from './framework/status.ts';
import { fitErrorMessage, reasonHistogram } from './fit-error.ts';

export type ScheduleResult =
  | { node: string; state: CycleState; evaluatedNodes: number; feasibleNodes: number }
  | { unschedulable: Unschedulable }
  | { preempt: { node: string; victims: PodInfo[]; message: string; plugins: string[] } };

export interface Unschedulable {
  /** The FailedScheduling event message. */
  message: string;
  /** "count reason" strings, sorted. */
  reasons: string[];
  /** Plugins that rejected the pod: the queue moves it back only on events they care about. */
  plugins: string[];
  /** True when a plugin errored (retry with backoff, do not wait for an event). */
  error?: boolean;
}

export interface ScheduleOptions {
  /** Where to start filtering, so successive pods do not all examine the same nodes. */
  startIndex?: number;
  /** For ties between best-scoring nodes; Math.random by default. */
  rng?: () => number;
  /** Pods preemption nominated to a node and not yet bound (the Scheduler's Nominator):
   * those of priority ≥ this pod's are counted on their node while filtering. */
  nominator?: { forPod(pod: PodInfo): NominatedPods | undefined };
}

export const NO_NODES = 'no nodes available to schedule pods';
const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE = 5;

/** Kubernetes' percentageOfNodesToScore: all of a small cluster, a shrinking share of a big one. */
export function numFeasibleNodesToFind(numAllNodes: number, percentage = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE, 50 - numAllNodes / 125);
  return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((numAllNodes * pct) / 100));
}

const pluginsOf = (statuses: Iterable<Status>) => {
  const names = new Set<string>();
  for (const s of statuses) if (s.plugin) names.add(s.plugin);
  return [...names].sort();
};

export function scheduleOne(pod: PodInfo, snapshot: Snapshot, profile: Profile, opts: ScheduleOptions = {}): ScheduleResult {
  const nodes = snapshot.nodes;
  const n = nodes.length;
  if (n === 0) return { unschedulable: { message: NO_NODES, reasons: [], plugins: [] } };
  const state = new CycleState();
  const nominated = opts.nominator?.forPod(pod);

  const pre = runPreFilter(profile, state, pod, snapshot);
  if (pre.code === 'Error') return { unschedulable: { message: pre.reasons.join(', '), reasons: [], plugins: [], error: true } };
  const statuses = new Map<string, Status>();
  const feasible: NodeInfo[] = [];
  let evaluated = 0;
  if (pre.code !== 'Success') {
    for (const node of nodes) statuses.set(node.name, pre);
  } else {
    const wanted = numFeasibleNodesToFind(n, profile.percentageOfNodesToScore);
    const start = (opts.startIndex ?? 0) % n;
    const filters = activeFilters(profile, state);
    for (; evaluated < n && feasible.length < wanted; evaluated++) {
      const node = nodes[(start + evaluated) % n]!;
      const s = nominated?.has(node.name)
        ? runFiltersWithNominatedPods(profile, (st, ni) => runActiveFilters(filters, st, pod, ni), state, pod, node, nominated.get(node.name))
        : runActiveFilters(filters, state, pod, node);
      if (s.code === 'Success') feasible.push(node);
      else if (s.code === 'Error') return { unschedulable: { message: s.reasons.join(', '), reasons: [], plugins: [s.plugin ?? ''], error: true } };
      else statuses.set(node.name, s);
    }
  }

  if (feasible.length === 0) {
    const preFilter = pre.code !== 'Success' ? pre.reasons.join(', ') : undefined;
    const reasons = preFilter ? [preFilter] : reasonHistogram(statuses.values());
    const plugins = preFilter ? [pre.plugin ?? ''] : pluginsOf(statuses.values());
    const handle = frameworkHandle(profile, nominated);
    let postFilter: string | undefined;
    for (const p of profile.postFilter) {
      const { status, result } = p.postFilter(state, pod, snapshot, statuses, handle);
      if (result && status.code === 'Success') {
        const message = fitErrorMessage(n, statuses.values(), { preFilter });
        return { preempt: { node: result.nominatedNode, victims: result.victims, message, plugins } };
      }
      if (status.reasons.length) postFilter = status.reasons.join(', ');
    }
    return { unschedulable: { message: fitErrorMessage(n, statuses.values(), { preFilter, postFilter }), reasons, plugins } };
  }

  if (feasible.length === 1) return { node: feasible[0]!.name, state, evaluatedNodes: evaluated, feasibleNodes: 1 };
  const scores = runScoring(profile, state, pod, feasible, snapshot);
  return { node: selectHost(scores, opts.rng ?? Math.random), state, evaluatedNodes: evaluated, feasibleNodes: feasible.length };
}

/** The best-scoring node; ties broken uniformly at random (reservoir sampling). */
function selectHost(scores: { node: NodeInfo; score: number }[], rng: () => number): string {
  let best = scores[0]!;
  let ties = 1;
  for (let i = 1; i < scores.length; i++) {
    const s = scores[i]!;
    if (s.score > best.score) {
      best = s;
      ties = 1;
    } else if (s.score === best.score && rng() * ++ties < 1) {
      best = s;
    }
  }
  return best.node.name;
}
