// Escalation prevention (Kubernetes' rbac/validation): a user may write a Role or
// ClusterRole only with rules they already hold (or with `escalate` on it), and a binding
// only to a role whose rules they hold (or with `bind` on it). Applied by wrapping the
// registry for one request, so create, update, patch and apply all pass through it.
import type { KObject } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import type { UserInfo } from '../authn/types.ts';
import { forbidden } from '../errors.ts';
import type { Registry } from '../registry/registry.ts';
import type { Authorizer } from './authorizer.ts';
import type { RbacAuthorizer } from './rbac.ts';
import { formatRule, rulesOf, uncoveredRules } from './rules.ts';
import { MASTERS_GROUP, type Attributes } from './types.ts';

const GROUP = 'rbac.authorization.k8s.io';
const ROLES = new Set(['roles', 'clusterroles']);
const BINDINGS = new Set(['rolebindings', 'clusterrolebindings']);

export function isRbacWrite(r: ResourceInfo): boolean {
  return r.group === GROUP && (ROLES.has(r.resource) || BINDINGS.has(r.resource));
}

export interface EscalationCheck {
  user: UserInfo;
  authz: Authorizer;
  rbac: Pick<RbacAuthorizer, 'rulesFor' | 'roleRules'>;
}

function attrs(user: UserInfo, verb: string, resource: string, namespace: string, name: string): Attributes {
  return { user, verb, resourceRequest: true, path: '', apiGroup: GROUP, apiVersion: 'v1', resource, subresource: '', namespace, name };
}

function refused(r: ResourceInfo, name: string, why: string) {
  return forbidden(`${r.resource}.${GROUP} ${JSON.stringify(name)} is forbidden: ${why}`, { name, group: GROUP, kind: r.resource });
}

function notHeld(user: UserInfo, missing: ReturnType<typeof uncoveredRules>): string {
  return `user ${JSON.stringify(user.name)} (groups=[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]) is attempting to grant RBAC permissions not currently held:\n${missing.map(formatRule).join('\n')}`;
}

/** Throws 403 if writing `obj` would grant the user more than they hold. */
export async function checkEscalation(c: EscalationCheck, r: ResourceInfo, ns: string | undefined, obj: KObject): Promise<void> {
  if (c.user.groups.includes(MASTERS_GROUP)) return;
  const name = obj.metadata?.name ?? '';
  const namespace = r.namespaced ? ns ?? '' : '';
  if (ROLES.has(r.resource)) {
    if ((await c.authz.authorize(attrs(c.user, 'escalate', r.resource, namespace, name))).allowed) return;
    if (r.resource === 'clusterroles' && obj.aggregationRule) {
      throw refused(r, name, 'must have cluster-admin privileges to use the aggregationRule');
    }
    const missing = uncoveredRules(await c.rbac.rulesFor(c.user, namespace, true), rulesOf(obj));
    if (missing.length) throw refused(r, name, notHeld(c.user, missing));
    return;
  }
  const ref = (obj.roleRef ?? {}) as { kind?: string; name?: string };
  const refResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
  if ((await c.authz.authorize(attrs(c.user, 'bind', refResource, namespace, ref.name ?? ''))).allowed) return;
  const rules = await c.rbac.roleRules(namespace, { kind: ref.kind ?? '', name: ref.name ?? '' });
  if (!rules) throw refused(r, name, `${refResource}.${GROUP} ${JSON.stringify(ref.name ?? '')} not found`);
  const missing = uncoveredRules(await c.rbac.rulesFor(c.user, namespace, true), rules);
  if (missing.length) throw refused(r, name, notHeld(c.user, missing));
}

/** The registry as one request sees it: RBAC writes are checked first. */
export function guardedRegistry(registry: Registry, c: EscalationCheck): Registry {
  return new Proxy(registry, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'create') {
        return async (r: ResourceInfo, ns: string | undefined, input: KObject, ...rest: unknown[]) => {
          if (isRbacWrite(r)) await checkEscalation(c, r, ns, input);
          return (target.create as (...a: unknown[]) => unknown).call(target, r, ns, input, ...rest);
        };
      }
      if (prop === 'update') {
        return async (r: ResourceInfo, ns: string | undefined, name: string, input: KObject, ...rest: unknown[]) => {
          if (isRbacWrite(r)) await checkEscalation(c, r, ns, { ...input, metadata: { ...input.metadata, name } });
          return (target.update as (...a: unknown[]) => unknown).call(target, r, ns, name, input, ...rest);
        };
      }
      if (prop === 'guaranteedUpdate') {
        return (r: ResourceInfo, ns: string | undefined, name: string, mutate: (cur: KObject) => KObject | Promise<KObject>, ...rest: unknown[]) => {
          const checked = isRbacWrite(r)
            ? async (cur: KObject) => { const next = await mutate(cur); await checkEscalation(c, r, ns, next); return next; }
            : mutate;
          return (target.guaranteedUpdate as (...a: unknown[]) => unknown).call(target, r, ns, name, checked, ...rest);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
