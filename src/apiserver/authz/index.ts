// Authorization for the API server: build one with createAuthorization(registry) and pass
// it to startApiServer; see README.md.
import type { IncomingMessage } from 'node:http';
import type { UserInfo } from '../authn/types.ts';
import type { Registry } from '../registry/registry.ts';
import { requestAttributes } from './attributes.ts';
import { authorizeOrThrow, createAuthorizer, type Authorizer } from './authorizer.ts';
import { guardedRegistry } from './escalation.ts';
import { RbacAuthorizer } from './rbac.ts';
import { NodeAuthorizer, nodeNameOf } from './node.ts';
import { nodeRestrictedRegistry } from '../admission/noderestriction.ts';
import { MASTERS_GROUP } from './types.ts';

export { requestAttributes, forbiddenMessage } from './attributes.ts';
export { createAuthorizer, forbiddenError, type Authorizer } from './authorizer.ts';
export { RbacAuthorizer } from './rbac.ts';
export { NodeAuthorizer, nodeNameOf } from './node.ts';
export { ensureBootstrapPolicy } from './bootstrap.ts';
export { AUTHORIZATION_RESOURCES, answerReview, reviewOf } from './reviews.ts';
export type { Attributes, Decision, PolicyRule } from './types.ts';

export interface Authorization {
  authz: Authorizer;
  rbac: RbacAuthorizer;
  stop(): void;
}

export function createAuthorization(registry: Registry): Authorization {
  const rbac = new RbacAuthorizer(registry);
  const node = new NodeAuthorizer(registry);
  return { authz: createAuthorizer(rbac, node), rbac, stop: () => { rbac.stop(); node.stop(); } };
}

/** Authorizes one HTTP request (403 Forbidden if denied). */
export function authorizeRequest(a: Authorization, user: UserInfo, req: IncomingMessage, path: string, query: URLSearchParams): Promise<void> {
  return authorizeOrThrow(a.authz, requestAttributes(user, req.method ?? 'GET', path, query));
}

/** The registry a request writes through: RBAC objects are checked for escalation. */
export function registryFor(a: Authorization | undefined, registry: Registry, user: UserInfo): Registry {
  if (!a || user.groups.includes(MASTERS_GROUP)) return registry;
  const guarded = guardedRegistry(registry, { user, authz: a.authz, rbac: a.rbac });
  // NodeRestriction admission: a node writes only its own Node, Lease and mirror pods.
  const node = nodeNameOf(user);
  return node === undefined ? guarded : nodeRestrictedRegistry(guarded, node);
}
