// Audit policy (audit.k8s.io/v1 Policy, the file kube-apiserver's --audit-policy-file
// takes): rules checked in order, the first that matches a request gives its level.
// No rule matching means no event, as in Kubernetes.
import YAML from 'yaml';

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type Stage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

export interface RequestAttributes {
  user: string;
  groups: readonly string[];
  verb: string;
  /** Resource requests only. */
  resource?: { group: string; resource: string; subresource?: string; namespace?: string; name?: string };
  /** Everything else (/healthz, /version, /apis...). */
  path: string;
}

interface GroupResources { group?: string; resources?: string[]; resourceNames?: string[] }
interface Rule {
  level: AuditLevel;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: Stage[];
}

const LEVELS: AuditLevel[] = ['None', 'Metadata', 'Request', 'RequestResponse'];
const STAGES: Stage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'];

export class AuditPolicy {
  readonly #rules: Rule[];
  readonly #omit: Stage[];

  constructor(rules: Rule[], omitStages: Stage[] = []) {
    this.#rules = rules;
    this.#omit = omitStages;
  }

  static parse(text: string, source = 'audit policy'): AuditPolicy {
    let doc: any;
    try {
      doc = YAML.parse(text);
    } catch (err) {
      throw new Error(`${source}: ${(err as Error).message}`);
    }
    if (doc?.kind !== 'Policy' || !/^audit\.k8s\.io\//.test(String(doc.apiVersion ?? ''))) throw new Error(`${source}: expected apiVersion audit.k8s.io/v1, kind Policy`);
    const stages = (list: unknown, where: string): Stage[] => {
      const out = (list ?? []) as Stage[];
      for (const s of out) if (!STAGES.includes(s)) throw new Error(`${source}: ${where}: unknown stage ${JSON.stringify(s)}`);
      return out;
    };
    const rules: Rule[] = (doc.rules ?? []).map((r: any, i: number) => {
      if (!LEVELS.includes(r?.level)) throw new Error(`${source}: rules[${i}].level must be one of ${LEVELS.join(', ')}`);
      if ((r.resources || r.namespaces) && r.nonResourceURLs) throw new Error(`${source}: rules[${i}]: resources/namespaces and nonResourceURLs cannot be mixed`);
      return { ...r, omitStages: stages(r.omitStages, `rules[${i}].omitStages`) };
    });
    return new AuditPolicy(rules, stages(doc.omitStages, 'omitStages'));
  }

  /** The level and the stages not to write for a request. */
  evaluate(a: RequestAttributes): { level: AuditLevel; omitStages: Stage[] } {
    for (const rule of this.#rules) {
      if (matches(rule, a)) return { level: rule.level, omitStages: [...this.#omit, ...(rule.omitStages ?? [])] };
    }
    return { level: 'None', omitStages: this.#omit };
  }
}

function matches(rule: Rule, a: RequestAttributes): boolean {
  if (rule.users?.length && !rule.users.includes(a.user)) return false;
  if (rule.userGroups?.length && !rule.userGroups.some((g) => a.groups.includes(g))) return false;
  if (rule.verbs?.length && !rule.verbs.includes(a.verb)) return false;
  if (a.resource) {
    if (rule.nonResourceURLs?.length) return false;
    if (rule.namespaces?.length && !rule.namespaces.includes(a.resource.namespace ?? '')) return false;
    if (rule.resources?.length && !rule.resources.some((gr) => matchesResource(gr, a.resource!))) return false;
    return true;
  }
  if (rule.resources?.length || rule.namespaces?.length) return false;
  if (rule.nonResourceURLs?.length) {
    return rule.nonResourceURLs.some((u) => (u.endsWith('*') ? a.path.startsWith(u.slice(0, -1)) : a.path === u));
  }
  return true;
}

function matchesResource(gr: GroupResources, r: NonNullable<RequestAttributes['resource']>): boolean {
  if ((gr.group ?? '') !== r.group) return false;
  if (gr.resources?.length) {
    // As Kubernetes: "*", "pods", "pods/log", "*/status", and "pods/*" (pods and all its subresources).
    const full = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
    const ok = gr.resources.some((x) => x === '*' || x === full || (!!r.subresource && x === `*/${r.subresource}`) || x === `${r.resource}/*`);
    if (!ok) return false;
  }
  if (gr.resourceNames?.length && !(r.name && gr.resourceNames.includes(r.name))) return false;
  return true;
}
