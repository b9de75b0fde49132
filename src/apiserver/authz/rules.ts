// RBAC rule matching: does one PolicyRule allow a request, and does a set of rules cover
// another (escalation prevention). Pure functions, no I/O: this runs on every request.
import type { Attributes, PolicyRule } from './types.ts';

const has = (list: readonly string[] | undefined, value: string): boolean =>
  !!list && (list.includes('*') || list.includes(value));

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return has(rule.verbs, verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return has(rule.apiGroups, group);
}

/** "pods", "pods/log" (the subresource form), "*" and "*\/scale" as Kubernetes reads them. */
export function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  if (!rule.resourceNames?.length) return true;
  return rule.resourceNames.includes(name);
}

/** "*", an exact path, or a prefix ending in "*". */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!verbMatches(rule, a.verb)) return false;
  if (a.resourceRequest) {
    return apiGroupMatches(rule, a.apiGroup) && resourceMatches(rule, a.resource, a.subresource) && resourceNameMatches(rule, a.name);
  }
  return nonResourceURLMatches(rule, a.path);
}

/** A rule broken into single-verb, single-resource pieces (what "covers" compares). */
function atoms(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const verb of rule.verbs ?? []) {
    for (const url of rule.nonResourceURLs ?? []) out.push({ verbs: [verb], nonResourceURLs: [url] });
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        if (rule.resourceNames?.length) {
          for (const name of rule.resourceNames) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
        } else {
          out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        }
      }
    }
  }
  return out;
}

/** Whether `owner` allows at least everything one atom allows ("*" only covered by "*"). */
function ownerCovers(owner: PolicyRule, atom: PolicyRule): boolean {
  const verb = atom.verbs[0];
  if (!(owner.verbs ?? []).some((v) => v === '*' || v === verb)) return false;
  if (atom.nonResourceURLs) {
    const url = atom.nonResourceURLs[0];
    return (owner.nonResourceURLs ?? []).some((u) => u === '*' || u === url || (u.endsWith('*') && url.startsWith(u.slice(0, -1))));
  }
  const group = atom.apiGroups![0];
  if (!(owner.apiGroups ?? []).some((g) => g === '*' || g === group)) return false;
  const resource = atom.resources![0];
  const sub = resource.includes('/') ? resource.slice(resource.indexOf('/') + 1) : '';
  const resOk = (owner.resources ?? []).some((r) => r === '*' || r === resource || (sub && r === `*/${sub}` && !resource.startsWith('*')));
  if (!resOk) return false;
  if (!owner.resourceNames?.length) return true;
  return !!atom.resourceNames?.length && owner.resourceNames.includes(atom.resourceNames[0]);
}

/** The parts of `wanted` that no rule in `held` covers (empty: fully covered). */
export function uncoveredRules(held: readonly PolicyRule[], wanted: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of wanted) {
    for (const atom of atoms(rule)) if (!held.some((h) => ownerCovers(h, atom))) missing.push(atom);
  }
  return missing;
}

/** A rule as Kubernetes prints it in escalation errors: {APIGroups:[""], Resources:["pods"], Verbs:["get"]}. */
export function formatRule(r: PolicyRule): string {
  const q = (l: readonly string[]) => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** Reads the rules of a stored Role or ClusterRole, dropping malformed entries. */
export function rulesOf(obj: object): PolicyRule[] {
  const rules = (obj as { rules?: unknown }).rules;
  if (!Array.isArray(rules)) return [];
  const strs = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
  return rules.filter((r): r is Record<string, unknown> => !!r && typeof r === 'object').map((r) => ({
    verbs: strs(r.verbs) ?? [],
    apiGroups: strs(r.apiGroups), resources: strs(r.resources), resourceNames: strs(r.resourceNames), nonResourceURLs: strs(r.nonResourceURLs),
  }));
}
