// InterPodAffinity: required pod affinity and anti-affinity (the incoming pod's, and the
// anti-affinity of pods already running, which binds newcomers too) filter nodes by
// topology domain; preferred terms of both sides score them.
//
// PreFilter counts matching pods per topology pair ("zone=a") once, so Filter is a few
// map lookups per node instead of a walk over every pod in the cluster.
import type { StateData } from '../framework/cycle-state.ts';
import { MAX_NODE_SCORE, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework/interface.ts';
import type { NodeInfo } from '../framework/node-info.ts';
import type { AffinityTerm, PodInfo } from '../framework/pod-info.ts';
import { SKIP, SUCCESS, unresolvable, unschedulable } from '../framework/status.ts';
import { allTermsMatch, termMatchesPod } from './helpers/pod-matching.ts';

export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

const NAME = 'InterPodAffinity';
const FILTER_KEY = `PreFilter${NAME}`;
const SCORE_KEY = `PreScore${NAME}`;
/** Weight given to existing pods' required affinity when scoring (hardPodAffinityWeight). */
const HARD_POD_AFFINITY_WEIGHT = 1;

/** Matching-pod counts per topology pair, grouped by key so a node is checked with one
 * lookup per topology key rather than a walk over every pair. */
class Counts {
  readonly byKey = new Map<string, Map<string, number>>();
  size = 0;
  bump(key: string, value: string | undefined, by: number): void {
    if (value === undefined) return;
    let values = this.byKey.get(key);
    if (!values) this.byKey.set(key, (values = new Map()));
    const before = values.get(value) ?? 0;
    const n = before + by;
    if (n === 0) values.delete(value);
    else values.set(value, n);
    if (before === 0 && n !== 0) this.size++;
    if (before !== 0 && n === 0) this.size--;
  }
  at(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0;
  }
  copy(): Counts {
    const c = new Counts();
    for (const [k, values] of this.byKey) c.byKey.set(k, new Map(values));
    c.size = this.size;
    return c;
  }
}

class FilterState implements StateData {
  constructor(
    readonly existingAnti = new Counts(),
    readonly affinity = new Counts(),
    readonly anti = new Counts(),
  ) {}
  clone(): FilterState {
    return new FilterState(this.existingAnti.copy(), this.affinity.copy(), this.anti.copy());
  }
}

// Account for `other` on `node` (by = 1) or take it back out (by = -1).
function account(s: FilterState, pod: PodInfo, other: PodInfo, node: NodeInfo, by: number): void {
  for (const t of other.requiredAntiAffinity) {
    if (termMatchesPod(t, pod)) s.existingAnti.bump(t.topologyKey, node.labels[t.topologyKey], by);
  }
  if (allTermsMatch(pod.requiredAffinity, other)) {
    for (const t of pod.requiredAffinity) s.affinity.bump(t.topologyKey, node.labels[t.topologyKey], by);
  }
  for (const t of pod.requiredAntiAffinity) {
    if (termMatchesPod(t, other)) s.anti.bump(t.topologyKey, node.labels[t.topologyKey], by);
  }
}

function satisfiesAffinity(s: FilterState, pod: PodInfo, node: NodeInfo): boolean {
  let podsExist = true;
  for (const t of pod.requiredAffinity) {
    const v = node.labels[t.topologyKey];
    if (v === undefined) return false;
    if (s.affinity.at(t.topologyKey, v) <= 0) podsExist = false;
  }
  // The first pod of a group with affinity to itself has nothing to be near yet.
  return podsExist || (s.affinity.size === 0 && allTermsMatch(pod.requiredAffinity, pod));
}

function satisfiesAntiAffinity(s: FilterState, pod: PodInfo, node: NodeInfo): boolean {
  if (s.anti.size === 0) return true;
  for (const t of pod.requiredAntiAffinity) {
    const v = node.labels[t.topologyKey];
    if (v !== undefined && s.anti.at(t.topologyKey, v) > 0) return false;
  }
  return true;
}

function satisfiesExistingAntiAffinity(s: FilterState, node: NodeInfo): boolean {
  if (s.existingAnti.size === 0) return true;
  for (const [key, values] of s.existingAnti.byKey) {
    const v = node.labels[key];
    if (v !== undefined && (values.get(v) ?? 0) > 0) return false;
  }
  return true;
}

/** Topology key → value → summed preference weight. */
class ScoreState implements StateData {
  readonly byKey = new Map<string, Map<string, number>>();
  add(key: string, value: string | undefined, w: number): void {
    if (value === undefined || w === 0) return;
    let m = this.byKey.get(key);
    if (!m) this.byKey.set(key, (m = new Map()));
    m.set(value, (m.get(value) ?? 0) + w);
  }
  clone(): ScoreState {
    return this; // read-only once PreScore is done
  }
}

function scoreTerms(s: ScoreState, terms: readonly (AffinityTerm & { weight?: number })[], target: PodInfo, node: NodeInfo, sign: number, weight?: number): void {
  for (const t of terms) {
    if (termMatchesPod(t, target)) s.add(t.topologyKey, node.labels[t.topologyKey], sign * (weight ?? t.weight ?? 0));
  }
}

export const interPodAffinity: PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin = {
  name: NAME,
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete'],

  preFilter(state, pod, snapshot) {
    const hasOwn = pod.requiredAffinity.length + pod.requiredAntiAffinity.length > 0;
    if (!hasOwn && snapshot.havePodsWithRequiredAntiAffinity.length === 0) return SKIP;
    const s = new FilterState();
    for (const node of snapshot.havePodsWithRequiredAntiAffinity) {
      for (const other of node.pods.values()) {
        for (const t of other.requiredAntiAffinity) {
          if (termMatchesPod(t, pod)) s.existingAnti.bump(t.topologyKey, node.labels[t.topologyKey], 1);
        }
      }
    }
    if (hasOwn) {
      for (const node of snapshot.nodes) {
        for (const other of node.pods.values()) {
          if (allTermsMatch(pod.requiredAffinity, other)) {
            for (const t of pod.requiredAffinity) s.affinity.bump(t.topologyKey, node.labels[t.topologyKey], 1);
          }
          for (const t of pod.requiredAntiAffinity) {
            if (termMatchesPod(t, other)) s.anti.bump(t.topologyKey, node.labels[t.topologyKey], 1);
          }
        }
      }
    }
    state.write(FILTER_KEY, s);
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

  filter(state, pod, node) {
    const s = state.read<FilterState>(FILTER_KEY);
    if (!s) return SUCCESS;
    if (!satisfiesAffinity(s, pod, node)) return unresolvable(ERR_AFFINITY);
    if (!satisfiesAntiAffinity(s, pod, node)) return unschedulable(ERR_ANTI_AFFINITY);
    if (!satisfiesExistingAntiAffinity(s, node)) return unschedulable(ERR_EXISTING_ANTI_AFFINITY);
    return SUCCESS;
  },

  preScore(state, pod, _nodes, snapshot) {
    const hasPreferred = pod.preferredAffinity.length + pod.preferredAntiAffinity.length > 0;
    // Without preferences of its own, only pods whose terms might name this one matter.
    const nodes = hasPreferred ? snapshot.nodes : snapshot.havePodsWithAffinity;
    if (nodes.length === 0) return SKIP;
    const s = new ScoreState();
    for (const node of nodes) {
      for (const other of node.pods.values()) {
        scoreTerms(s, pod.preferredAffinity, other, node, 1);
        scoreTerms(s, pod.preferredAntiAffinity, other, node, -1);
        scoreTerms(s, other.requiredAffinity, pod, node, 1, HARD_POD_AFFINITY_WEIGHT);
        scoreTerms(s, other.preferredAffinity, pod, node, 1);
        scoreTerms(s, other.preferredAntiAffinity, pod, node, -1);
      }
    }
    if (s.byKey.size === 0) return SKIP;
    state.write(SCORE_KEY, s);
    return SUCCESS;
  },

  score(state, _pod, node) {
    const s = state.read<ScoreState>(SCORE_KEY);
    let sum = 0;
    if (s) for (const [key, values] of s.byKey) sum += values.get(node.labels[key] ?? '\u0000') ?? 0;
    return sum;
  },

  normalizeScore(_state, _pod, scores) {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      min = Math.min(min, s.score);
      max = Math.max(max, s.score);
    }
    const diff = max - min;
    for (const s of scores) s.score = diff > 0 ? Math.floor((MAX_NODE_SCORE * (s.score - min)) / diff) : 0;
  },
};
