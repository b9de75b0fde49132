// Taints and tolerations as the node lifecycle controller needs them: which condition
// taints a node should carry for its Ready status, whether a toleration matches a taint,
// and when a pod must leave a node with NoExecute taints.
type Json = Record<string, unknown>;

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
const CONDITION_TAINTS = [TAINT_NOT_READY, TAINT_UNREACHABLE];

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | string;
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal' | string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export const taintsOf = (node: { readonly [key: string]: unknown }): Taint[] =>
  (Array.isArray((node.spec as Json | undefined)?.taints) ? (node.spec as Json).taints as Taint[] : []);

export const tolerationsOf = (pod: { readonly [key: string]: unknown }): Toleration[] =>
  (Array.isArray((pod.spec as Json | undefined)?.tolerations) ? (pod.spec as Json).tolerations as Toleration[] : []);

/** Kubernetes' ToleratesTaint: effect (empty matches all), key (empty with Exists matches all), value. */
export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  if (!tol.key && tol.operator !== 'Exists') return false;
  if (tol.operator === 'Exists') return true;
  return (tol.value ?? '') === (taint.value ?? '');
}

/**
 * The node's taints with the condition taints set for its Ready status: not-ready for
 * False, unreachable for Unknown, neither for True (undefined status: left as they are).
 * NoExecute taints carry timeAdded; an existing taint keeps its own.
 */
export function withConditionTaints(taints: readonly Taint[], readyStatus: string | undefined, timeAdded: string): Taint[] {
  if (readyStatus === undefined) return [...taints];
  const want = readyStatus === 'False' ? TAINT_NOT_READY : readyStatus === 'Unknown' ? TAINT_UNREACHABLE : undefined;
  const next = taints.filter((t) => !CONDITION_TAINTS.includes(t.key) || (t.key === want && (t.effect === 'NoSchedule' || t.effect === 'NoExecute')));
  if (want) {
    if (!next.some((t) => t.key === want && t.effect === 'NoSchedule')) next.push({ key: want, effect: 'NoSchedule' });
    if (!next.some((t) => t.key === want && t.effect === 'NoExecute')) next.push({ key: want, effect: 'NoExecute', timeAdded });
  }
  return next;
}

/**
 * When a pod must be evicted because of the node's NoExecute taints: -Infinity for at once
 * (a taint it does not tolerate), otherwise the earliest taint.timeAdded + the smallest
 * tolerationSeconds among the tolerations matching that taint; undefined when it tolerates
 * every taint for ever. `addedAt` gives a taint's start time in ms.
 */
export function evictionDeadline(tolerations: readonly Toleration[], taints: readonly Taint[], addedAt: (t: Taint) => number): number | undefined {
  let deadline = Infinity;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const matching = tolerations.filter((tol) => toleratesTaint(tol, taint));
    if (matching.length === 0) return -Infinity;
    let seconds = Infinity;
    for (const tol of matching) {
      if (typeof tol.tolerationSeconds !== 'number') continue;
      seconds = Math.min(seconds, Math.max(0, tol.tolerationSeconds));
    }
    if (seconds === Infinity) continue;
    deadline = Math.min(deadline, addedAt(taint) + seconds * 1000);
  }
  return deadline === Infinity ? undefined : deadline;
}
