// The RBAC authorizer: Roles, ClusterRoles and their bindings read from the registry's watch
// cache, indexed by subject so a request costs a few map lookups (node heartbeats arrive by
// the thousand). The index is rebuilt lazily after any RBAC change; a denial first waits for
// the caches to reach the store's revision, so a binding just written is honoured.
import type { KObject } from '../../api/object.ts';
import { lookupResource, storageKey, type ResourceInfo } from '../../api/scheme.ts';
import type { UserInfo } from '../authn/types.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceCache } from '../watchcache/index.ts';
import { ruleAllows, rulesOf } from './rules.ts';
import type { Attributes, Decision, PolicyRule } from './types.ts';

const GROUP = 'rbac.authorization.k8s.io';

interface RoleRef { kind: string; name: string }
interface Grant { binding: string; bindingKind: 'RoleBinding' | 'ClusterRoleBinding'; namespace: string; roleRef: RoleRef; subject: string }

/** Subject keys a user matches: its name and each group. */
function keysOf(user: UserInfo): string[] {
  return [`User:${user.name}`, ...user.groups.map((g) => `Group:${g}`)];
}

function subjectKeys(b: KObject): { key: string; text: string }[] {
  const out: { key: string; text: string }[] = [];
  const subjects = Array.isArray(b.subjects) ? b.subjects as Record<string, unknown>[] : [];
  for (const s of subjects) {
    if (!s || typeof s.name !== 'string') continue;
    if (s.kind === 'User') out.push({ key: `User:${s.name}`, text: `User "${s.name}"` });
    else if (s.kind === 'Group') out.push({ key: `Group:${s.name}`, text: `Group "${s.name}"` });
    else if (s.kind === 'ServiceAccount') {
      const ns = typeof s.namespace === 'string' && s.namespace ? s.namespace : b.metadata.namespace ?? '';
      out.push({ key: `User:system:serviceaccount:${ns}:${s.name}`, text: `ServiceAccount "${s.name}/${ns}"` });
    }
  }
  return out;
}

class Index {
  readonly roles = new Map<string, PolicyRule[]>(); // ns/name
  readonly clusterRoles = new Map<string, PolicyRule[]>();
  readonly clusterGrants = new Map<string, Grant[]>(); // subject key
  readonly namespaceGrants = new Map<string, Map<string, Grant[]>>(); // ns -> subject key

  addBinding(b: KObject, cluster: boolean): void {
    const ref = (b.roleRef ?? {}) as Record<string, unknown>;
    const roleRef = { kind: String(ref.kind ?? ''), name: String(ref.name ?? '') };
    const ns = cluster ? '' : b.metadata.namespace ?? '';
    let target = this.clusterGrants;
    if (!cluster) {
      target = this.namespaceGrants.get(ns) ?? new Map();
      this.namespaceGrants.set(ns, target);
    }
    for (const { key, text } of subjectKeys(b)) {
      const list = target.get(key) ?? [];
      list.push({ binding: b.metadata.name ?? '', bindingKind: cluster ? 'ClusterRoleBinding' : 'RoleBinding', namespace: ns, roleRef, subject: text });
      target.set(key, list);
    }
  }

  rulesOf(g: Grant): PolicyRule[] {
    if (g.roleRef.kind === 'ClusterRole') return this.clusterRoles.get(g.roleRef.name) ?? [];
    if (g.roleRef.kind === 'Role' && g.bindingKind === 'RoleBinding') return this.roles.get(`${g.namespace}/${g.roleRef.name}`) ?? [];
    return [];
  }

  /** Every grant that applies to the user in a namespace ('' = cluster-wide only). */
  *grants(user: UserInfo, namespace: string): Iterable<Grant> {
    const keys = keysOf(user);
    for (const k of keys) yield* this.clusterGrants.get(k) ?? [];
    if (!namespace) return;
    const inNs = this.namespaceGrants.get(namespace);
    if (!inNs) return;
    for (const k of keys) yield* inNs.get(k) ?? [];
  }
}

const KINDS = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'] as const;

export class RbacAuthorizer {
  readonly #registry: Registry;
  readonly #resources: ResourceInfo[];
  readonly #caches = new Map<string, ResourceCache>();
  readonly #subscriptions = new Map<string, { close(): void }>();
  #index?: Index;
  #starting?: Promise<void>;

  constructor(registry: Registry) {
    this.#registry = registry;
    this.#resources = KINDS.map((k) => lookupResource(GROUP, 'v1', k)!);
  }

  /** Subscribes to the four caches (again after one ended). */
  async #ensure(): Promise<void> {
    if (this.#subscriptions.size === KINDS.length) return;
    this.#starting ??= (async () => {
      for (const r of this.#resources) {
        if (this.#subscriptions.has(r.resource)) continue;
        const cache = await this.#registry.watchCache.for(r);
        this.#caches.set(r.resource, cache);
        const sub = cache.watch({ prefix: storageKey(r, undefined), matches: () => true }, cache.revision, {
          onEvent: () => { this.#index = undefined; },
          onEnd: () => { this.#subscriptions.delete(r.resource); this.#index = undefined; },
        });
        this.#subscriptions.set(r.resource, sub);
      }
      this.#index = undefined;
    })().finally(() => { this.#starting = undefined; });
    await this.#starting;
  }

  #build(): Index {
    const index = new Index();
    const all = (r: string) => this.#caches.get(r)?.list({ prefix: '', matches: () => true }) ?? [];
    for (const c of all('roles')) index.roles.set(`${c.obj.metadata.namespace}/${c.obj.metadata.name}`, rulesOf(c.obj));
    for (const c of all('clusterroles')) index.clusterRoles.set(c.obj.metadata.name!, rulesOf(c.obj));
    for (const c of all('rolebindings')) index.addBinding(c.obj, false);
    for (const c of all('clusterrolebindings')) index.addBinding(c.obj, true);
    return index;
  }

  async #current(): Promise<Index> {
    await this.#ensure();
    return (this.#index ??= this.#build());
  }

  /** Waits until every cache has seen the store's current revision (after a write). */
  async #catchUp(): Promise<void> {
    const rev = await this.#registry.store.currentRevision();
    await Promise.all([...this.#caches.values()].map((c) => c.waitFor(rev)));
  }

  #decide(index: Index, a: Attributes): Decision {
    for (const g of index.grants(a.user, a.resourceRequest ? a.namespace : '')) {
      if (index.rulesOf(g).some((r) => ruleAllows(r, a))) {
        const where = g.bindingKind === 'RoleBinding' ? `RoleBinding "${g.binding}/${g.namespace}"` : `ClusterRoleBinding "${g.binding}"`;
        return { allowed: true, reason: `RBAC: allowed by ${where} of ${g.roleRef.kind} "${g.roleRef.name}" to ${g.subject}` };
      }
    }
    return { allowed: false, reason: '' };
  }

  async authorize(a: Attributes): Promise<Decision> {
    const d = this.#decide(await this.#current(), a);
    if (d.allowed) return d;
    await this.#catchUp();
    return this.#decide(await this.#current(), a);
  }

  /** The rules that apply to a user in a namespace (cluster-wide ones included). */
  async rulesFor(user: UserInfo, namespace: string, fresh = false): Promise<PolicyRule[]> {
    if (fresh) { await this.#ensure(); await this.#catchUp(); }
    const index = await this.#current();
    const out: PolicyRule[] = [];
    for (const g of index.grants(user, namespace)) out.push(...index.rulesOf(g));
    return out;
  }

  /** The rules of a referenced role, or undefined when it does not exist. */
  async roleRules(namespace: string, ref: RoleRef): Promise<PolicyRule[] | undefined> {
    await this.#ensure();
    await this.#catchUp();
    const index = await this.#current();
    return ref.kind === 'ClusterRole' ? index.clusterRoles.get(ref.name) : index.roles.get(`${namespace}/${ref.name}`);
  }

  stop(): void {
    for (const s of this.#subscriptions.values()) s.close();
    this.#subscriptions.clear();
  }
}
