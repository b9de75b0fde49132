// Whether tolerations cover a taint, by Kubernetes' rules: an empty effect tolerates every
// effect, an empty key with Exists tolerates every key, Equal (the default) compares values.
import type { Taint, Toleration } from '../../framework/pod-info.ts';

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  if (!t.key) return false; // an empty key is only valid with Exists
  return (t.value ?? '') === (taint.value ?? '');
}

export const toleratedBy = (tolerations: readonly Toleration[], taint: Taint): boolean =>
  tolerations.some((t) => tolerates(t, taint));

/** The first taint with one of the effects that no toleration covers. */
export function firstUntolerated(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !toleratedBy(tolerations, taint));
}
