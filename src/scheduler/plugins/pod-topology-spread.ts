// PodTopologySpread: keep matching pods evenly spread over topology domains. A
// DoNotSchedule constraint filters: placing the pod must not push its domain more than
// maxSkew above the emptiest domain. ScheduleAnyway constraints only score.
import { selectorMatches } from '../../api/validation/label-selector.ts';
import type { StateData } from '../framework/cycle-state.ts';
import { MAX_NODE_SCORE, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework/interface.ts';
import type { NodeInfo } from '../framework/node-info.ts';
import type { PodInfo, TopologySpreadConstraint } from '../framework/pod-info.ts';
import { SKIP, SUCCESS, unresolvable, unschedulable } from '../framework/status.ts';
import { firstUntolerated } from './helpers/taints.ts';
import { requiredNodeAffinityMatches } from './node-affinity.ts';

export const ERR_SPREAD = "node(s) didn't match pod topology spread constraints";
export const ERR_SPREAD_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

const NAME = 'PodTopologySpread';
const FILTER_KEY = `PreFilter${NAME}`;
const SCORE_KEY = `PreScore${NAME}`;

/** One constraint with its matching-pod count per domain (topology value). */
interface Domains {
  c: TopologySpreadConstraint;
  counts: Map<string, number>;
  /** The emptiest domain's count; recomputed lazily after preemption edits counts. */
  min: number | undefined;
  selfMatch: number;
}

const hasAllKeys = (node: NodeInfo, cs: readonly TopologySpreadConstraint[]) => cs.every((c) => node.labels[c.topologyKey] !== undefined);

// Whether a node's domain takes part at all (nodeAffinityPolicy / nodeTaintsPolicy).
function nodeIncluded(pod: PodInfo, c: TopologySpreadConstraint, node: NodeInfo): boolean {
  if (c.nodeAffinityPolicy === 'Honor' && !requiredNodeAffinityMatches(pod, node)) return false;
  if (c.nodeTaintsPolicy === 'Honor' && firstUntolerated(node.taints, pod.tolerations, ['NoSchedule', 'NoExecute'])) return false;
  return true;
}

// Terminating pods do not count: they are about to leave the domain.
function countMatching(pod: PodInfo, c: TopologySpreadConstraint, node: NodeInfo): number {
  if (!c.selector) return 0;
  let n = 0;
  for (const p of node.pods.values()) {
    if (!p.deleting && p.namespace === pod.namespace && selectorMatches(c.selector, p.labels)) n++;
  }
  return n;
}

function buildDomains(pod: PodInfo, cs: readonly TopologySpreadConstraint[], nodes: readonly NodeInfo[]): Domains[] {
  const out: Domains[] = cs.map((c) => ({
    c, counts: new Map(), min: undefined, selfMatch: c.selector && selectorMatches(c.selector, pod.labels) ? 1 : 0,
  }));
  for (const node of nodes) {
    if (!hasAllKeys(node, cs)) continue;
    for (const d of out) {
      if (!nodeIncluded(pod, d.c, node)) continue;
      const v = node.labels[d.c.topologyKey]!;
      d.counts.set(v, (d.counts.get(v) ?? 0) + countMatching(pod, d.c, node));
    }
  }
  return out;
}

function minOf(d: Domains): number {
  if (d.min !== undefined) return d.min;
  let min = Infinity;
  for (const n of d.counts.values()) min = Math.min(min, n);
  // Fewer domains than minDomains: the missing ones count as empty.
  if (min === Infinity || (d.c.minDomains !== undefined && d.counts.size < d.c.minDomains)) min = 0;
  return (d.min = min);
}

class FilterState implements StateData {
  constructor(readonly domains: Domains[]) {}
  clone(): FilterState {
    return new FilterState(this.domains.map((d) => ({ ...d, counts: new Map(d.counts) })));
  }
}

function account(state: FilterState, pod: PodInfo, other: PodInfo, node: NodeInfo, by: number): void {
  if (other.namespace !== pod.namespace || !hasAllKeys(node, state.domains.map((d) => d.c))) return;
  for (const d of state.domains) {
    if (!d.c.selector || !selectorMatches(d.c.selector, other.labels) || !nodeIncluded(pod, d.c, node)) continue;
    const v = node.labels[d.c.topologyKey]!;
    d.counts.set(v, (d.counts.get(v) ?? 0) + by);
    d.min = undefined;
  }
}

class ScoreState implements StateData {
  constructor(readonly domains: Domains[], readonly weights: number[], readonly ignored: Set<string>) {}
  clone(): ScoreState {
    return this;
  }
}

export const podTopologySpread: PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin = {
  name: NAME,

  preFilter(state, pod, snapshot) {
    const hard = pod.topologySpread.filter((c) => c.whenUnsatisfiable === 'DoNotSchedule');
    if (hard.length === 0) return SKIP;
    state.write(FILTER_KEY, new FilterState(buildDomains(pod, hard, snapshot.nodes)));
    return SUCCESS;
  },

  removePod(state, pod, victim, node) {
    const s = state.read<FilterState>(FILTER_KEY);
    if (s) account(s, pod, victim, node, -1);
  },

  addPod(state, pod, added, node) {
    const s = state.read<FilterState>(FILTER_KEY);
    if (s) account(s, pod, added, node, 1);
  },

  filter(state, _pod, node) {
    const s = state.read<FilterState>(FILTER_KEY);
    if (!s) return SUCCESS;
    for (const d of s.domains) {
      const v = node.labels[d.c.topologyKey];
      if (v === undefined) return unresolvable(ERR_SPREAD_MISSING_LABEL);
      const skew = (d.counts.get(v) ?? 0) + d.selfMatch - minOf(d);
      if (skew > d.c.maxSkew) return unschedulable(ERR_SPREAD);
    }
    return SUCCESS;
  },

  preScore(state, pod, nodes, snapshot) {
    const soft = pod.topologySpread.filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway');
    if (soft.length === 0) return SKIP;
    const ignored = new Set<string>();
    for (const n of nodes) if (!hasAllKeys(n, soft)) ignored.add(n.name);
    // More domains, more weight: spreading over 100 zones matters more than over 2.
    const weights = soft.map((c) => {
      const values = new Set<string>();
      for (const n of nodes) if (!ignored.has(n.name)) values.add(n.labels[c.topologyKey]!);
      return Math.log(values.size + 2);
    });
    state.write(SCORE_KEY, new ScoreState(buildDomains(pod, soft, snapshot.nodes), weights, ignored));
    return SUCCESS;
  },

  score(state, _pod, node) {
    const s = state.read<ScoreState>(SCORE_KEY);
    if (!s || s.ignored.has(node.name)) return 0;
    let score = 0;
    s.domains.forEach((d, i) => {
      score += (d.counts.get(node.labels[d.c.topologyKey]!) ?? 0) * s.weights[i]! + (d.c.maxSkew - 1);
    });
    return Math.round(score);
  },

  // Fewer matching pods in the node's domains is better: invert within [min, max].
  normalizeScore(state, _pod, scores) {
    const s = state.read<ScoreState>(SCORE_KEY);
    if (!s) return;
    let min = Infinity;
    let max = 0;
    for (const x of scores) {
      if (s.ignored.has(x.node.name)) continue;
      min = Math.min(min, x.score);
      max = Math.max(max, x.score);
    }
    for (const x of scores) {
      if (s.ignored.has(x.node.name)) x.score = 0;
      else if (max === 0) x.score = MAX_NODE_SCORE;
      else x.score = Math.floor((MAX_NODE_SCORE * (max + min - x.score)) / max);
    }
  },
};
