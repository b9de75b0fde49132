// Which webhooks a request goes to, as kube-apiserver decides it: the configurations in
// name order and their webhooks in list order; a webhook is called when one of its rules
// matches (operation, group, version, resource/subresource, scope) and its namespace and
// object selectors select the request. Pure functions over the request and the labels.
import type { KObject } from '../../../api/object.ts';
import { isEmptySelector, selectorMatches } from '../../../api/validation/label-selector.ts';
import type { AdmissionAttributes, ConfiguredWebhook, Rule, Webhook } from './types.ts';

/** Requests for these groups never go to webhooks, so a broken webhook cannot lock out its own fix. */
const EXEMPT_GROUPS = new Set(['admissionregistration.k8s.io']);

/** Every webhook of the configurations, ordered by configuration name then position. */
export function orderedWebhooks(configurations: KObject[]): ConfiguredWebhook[] {
  const sorted = [...configurations].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  const out: ConfiguredWebhook[] = [];
  for (const cfg of sorted) {
    const hooks = Array.isArray(cfg.webhooks) ? cfg.webhooks as Webhook[] : [];
    hooks.forEach((hook, i) => out.push({ configuration: cfg.metadata.name!, uid: `${cfg.metadata.name}/${i}`, hook }));
  }
  return out;
}

const listHas = (list: string[] | undefined, value: string): boolean => (list ?? []).some((x) => x === '*' || x === value);

/** "pods/status" → ["pods", "status"]; "pods" → ["pods", ""]. */
function splitResource(res: string): [string, string] {
  const i = res.indexOf('/');
  return i < 0 ? [res, ''] : [res.slice(0, i), res.slice(i + 1)];
}

export function ruleMatches(rule: Rule, a: Pick<AdmissionAttributes, 'operation' | 'resource' | 'subresource'>): boolean {
  const r = a.resource;
  if (!listHas(rule.operations, a.operation)) return false;
  if (!listHas(rule.apiGroups, r.group)) return false;
  if (!listHas(rule.apiVersions, r.version)) return false;
  const sub = a.subresource ?? '';
  const resourceOk = (rule.resources ?? []).some((res) => {
    const [name, s] = splitResource(res);
    return (name === '*' || name === r.resource) && (s === '*' || s === sub);
  });
  if (!resourceOk) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster' && r.namespaced) return false;
  if (scope === 'Namespaced' && !r.namespaced) return false;
  return true;
}

export function isExempt(a: Pick<AdmissionAttributes, 'resource'>): boolean {
  return EXEMPT_GROUPS.has(a.resource.group);
}

/** Rules only: the cheap test made before any label is looked up. */
export function rulesMatch(hook: Webhook, a: AdmissionAttributes): boolean {
  return (hook.rules ?? []).some((rule) => ruleMatches(rule, a));
}

/** The object selector matches the new or the old object's labels. */
export function objectSelected(hook: Webhook, a: Pick<AdmissionAttributes, 'object' | 'oldObject'>): boolean {
  const s = hook.objectSelector;
  if (isEmptySelector(s)) return true;
  return [a.object, a.oldObject].some((o) => o !== undefined && selectorMatches(s!, o.metadata?.labels));
}

/**
 * The namespace selector: for namespaced resources against the namespace's labels, for
 * Namespaces against the namespace itself; other cluster-scoped resources always match.
 * `namespaceLabels` is only called when the selector has requirements.
 */
export async function namespaceSelected(
  hook: Webhook, a: AdmissionAttributes,
  namespaceLabels: (name: string) => Promise<Record<string, string> | undefined>,
): Promise<boolean> {
  const s = hook.namespaceSelector;
  if (isEmptySelector(s)) return true;
  const r = a.resource;
  if (r.group === '' && r.resource === 'namespaces') {
    const o = a.object ?? a.oldObject;
    return selectorMatches(s!, o?.metadata?.labels);
  }
  if (!r.namespaced) return true;
  return selectorMatches(s!, await namespaceLabels(a.namespace ?? ''));
}
