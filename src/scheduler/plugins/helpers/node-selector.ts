// Node selector terms (required node affinity, preferred preferences): terms are ORed,
// requirements inside a term ANDed, and a term with no requirements matches nothing.
import type { NodeInfo } from '../../framework/node-info.ts';
import type { NodeSelectorRequirement, NodeSelectorTerm } from '../../framework/pod-info.ts';

// Gt/Lt compare integers; a value that is not one never matches.
function asInt(s: string | undefined): number | undefined {
  return s !== undefined && /^-?\d+$/.test(s) ? Number(s) : undefined;
}

export function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return value !== undefined && values.includes(value);
    case 'NotIn': return value === undefined || !values.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt':
    case 'Lt': {
      const have = asInt(value);
      const want = asInt(values[0]);
      if (have === undefined || want === undefined || values.length !== 1) return false;
      return r.operator === 'Gt' ? have > want : have < want;
    }
    default: return false;
  }
}

export function termMatches(term: NodeSelectorTerm, node: NodeInfo): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) {
    const v = Object.prototype.hasOwnProperty.call(node.labels, r.key) ? node.labels[r.key] : undefined;
    if (!requirementMatches(r, v)) return false;
  }
  // metadata.name is the only field Kubernetes supports here (DaemonSet pods use it).
  for (const r of fields) {
    if (r.key !== 'metadata.name' || !requirementMatches(r, node.name)) return false;
  }
  return true;
}

export function anyTermMatches(terms: readonly NodeSelectorTerm[], node: NodeInfo): boolean {
  return terms.some((t) => termMatches(t, node));
}
