// Does a pod fall under an affinity term or a spread constraint's selector?
import { selectorMatches } from '../../../api/validation/label-selector.ts';
import type { AffinityTerm, PodInfo } from '../../framework/pod-info.ts';

export function termMatchesPod(term: AffinityTerm, pod: PodInfo): boolean {
  if (!term.selector) return false;
  if (term.namespaces !== 'all' && !term.namespaces.has(pod.namespace)) return false;
  return selectorMatches(term.selector, pod.labels);
}

export const allTermsMatch = (terms: readonly AffinityTerm[], pod: PodInfo): boolean =>
  terms.length > 0 && terms.every((t) => termMatchesPod(t, pod));
