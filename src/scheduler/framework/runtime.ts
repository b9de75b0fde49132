// Running a profile's plugins at each extension point: first rejection wins, Skip is
// remembered in the cycle state, and every status is stamped with its plugin's name.
import type { CycleState } from './cycle-state.ts';
import type { FilterPlugin, FrameworkHandle, NodeScore, Profile } from './interface.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import type { Snapshot } from './snapshot.ts';
import { SUCCESS, errorStatus, withPlugin, type Status } from './status.ts';

function guarded(plugin: string, run: () => Status): Status {
  try {
    return run();
  } catch (err) {
    // A plugin bug must not take the scheduler down; it fails this pod's cycle instead.
    return withPlugin(errorStatus(`running ${plugin}: ${(err as Error).message}`), plugin);
  }
}

export function runPreFilter(profile: Profile, state: CycleState, pod: PodInfo, snapshot: Snapshot): Status {
  for (const p of profile.preFilter) {
    const s = guarded(p.name, () => p.preFilter(state, pod, snapshot));
    if (s.code === 'Skip') state.skipFilter.add(p.name);
    else if (s.code !== 'Success') return withPlugin(s, p.name);
  }
  return SUCCESS;
}

export function runFilters(profile: Profile, state: CycleState, pod: PodInfo, node: NodeInfo): Status {
  for (const p of profile.filter) {
    if (state.skipFilter.has(p.name)) continue;
    const s = p.filter(state, pod, node);
    if (s.code !== 'Success') return withPlugin(s, p.name);
  }
  return SUCCESS;
}

/** The Filter plugins that run this cycle (PreFilter did not skip them), looked up once
 * per pod rather than once per node. */
export function activeFilters(profile: Profile, state: CycleState): FilterPlugin[] {
  return profile.filter.filter((p) => !state.skipFilter.has(p.name));
}

/** runFilters with the active plugins already chosen: the per-node hot path. */
export function runActiveFilters(filters: readonly FilterPlugin[], state: CycleState, pod: PodInfo, node: NodeInfo): Status {
  for (let i = 0; i < filters.length; i++) {
    const p = filters[i]!;
    const s = p.filter(state, pod, node);
    if (s.code !== 'Success') return withPlugin(s, p.name);
  }
  return SUCCESS;
}

/** Nominated pods (status.nominatedNodeName, not bound) that the pod being scheduled must
 * make room for, by node: priority ≥ its own, itself excluded. */
export type NominatedPods = ReadonlyMap<string, readonly PodInfo[]>;

function addPodToState(profile: Profile, state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void {
  for (const p of profile.preFilter) if (!state.skipFilter.has(p.name)) p.addPod?.(state, pod, added, node);
}

/**
 * Kubernetes' RunFilterPluginsWithNominatedPods, for a node that has nominated pods: run
 * the filters with those pods added to the node and (through the PreFilter extensions'
 * addPod) to the cycle state, so the room preemption freed for them is not taken by a pod
 * that must yield to them. If that passes and the pod has required pod affinity (the one
 * check that pods on a node can make easier), run them again without: the nominated pods
 * may still land elsewhere. `run` is the plain filter pass.
 */
export function runFiltersWithNominatedPods(
  profile: Profile, run: (state: CycleState, node: NodeInfo) => Status,
  state: CycleState, pod: PodInfo, node: NodeInfo, nominated: readonly PodInfo[] | undefined,
): Status {
  if (!nominated?.length) return run(state, node);
  const nodeWith = node.clone();
  const stateWith = state.clone();
  for (const p of nominated) {
    nodeWith.addPod(p);
    addPodToState(profile, stateWith, pod, p, nodeWith);
  }
  const s = run(stateWith, nodeWith);
  if (s.code !== 'Success' || pod.requiredAffinity.length === 0) return s;
  return run(state, node);
}

export function frameworkHandle(profile: Profile, nominated?: NominatedPods): FrameworkHandle {
  const plain = (state: CycleState, pod: PodInfo, node: NodeInfo) => runFilters(profile, state, pod, node);
  return {
    runFilters: nominated
      ? (state, pod, node) => runFiltersWithNominatedPods(profile, (st, ni) => plain(st, pod, ni), state, pod, node, nominated.get(node.name))
      : plain,
    removePod(state, pod, victim, node) {
      for (const p of profile.preFilter) if (!state.skipFilter.has(p.name)) p.removePod?.(state, pod, victim, node);
    },
    addPod: (state, pod, added, node) => addPodToState(profile, state, pod, added, node),
  };
}

/** Weighted sum of every score plugin's normalized (0..100) score, per feasible node. */
export function runScoring(profile: Profile, state: CycleState, pod: PodInfo, nodes: NodeInfo[], snapshot: Snapshot): NodeScore[] {
  for (const p of profile.preScore) {
    const s = p.preScore(state, pod, nodes, snapshot);
    if (s.code === 'Skip') state.skipScore.add(p.name);
  }
  const totals: NodeScore[] = nodes.map((node) => ({ node, score: 0 }));
  // One scratch array for every plugin (normalizeScore rewrites it in place).
  let scores: NodeScore[] | undefined;
  for (const { plugin, weight } of profile.score) {
    if (state.skipScore.has(plugin.name) || weight === 0) continue;
    if (!scores) scores = nodes.map((node) => ({ node, score: plugin.score(state, pod, node) }));
    else for (let i = 0; i < nodes.length; i++) { const s = scores[i]!; s.node = nodes[i]!; s.score = plugin.score(state, pod, nodes[i]!); }
    plugin.normalizeScore?.(state, pod, scores);
    for (let i = 0; i < scores.length; i++) totals[i]!.score += scores[i]!.score * weight;
  }
  return totals;
}
