// The authorization chain kube-apiserver runs with --authorization-mode=Node,RBAC:
// system:masters is always allowed (the admin kubeconfig's O=system:masters
// certificate), nodes go to the Node authorizer (node.ts) first, then RBAC decides. A denial becomes Kubernetes' 403 Forbidden Status.
import { forbidden, type ApiError } from '../errors.ts';
import { forbiddenMessage } from './attributes.ts';
import type { RbacAuthorizer } from './rbac.ts';
import { nodeNameOf, type NodeAuthorizer } from './node.ts';
import { MASTERS_GROUP, type Attributes, type Decision } from './types.ts';

export interface Authorizer {
  authorize(a: Attributes): Decision | Promise<Decision>;
}

export function createAuthorizer(rbac: Pick<RbacAuthorizer, 'authorize'>, node?: Pick<NodeAuthorizer, 'authorize'>): Authorizer {
  return {
    authorize(a) {
      if (a.user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: '' };
      if (node && nodeNameOf(a.user) !== undefined) return nodeThenRbac(node, rbac, a);
      return rbac.authorize(a);
    },
  };
}

/** Node, then RBAC (--authorization-mode=Node,RBAC); a denial keeps the Node authorizer's reason. */
async function nodeThenRbac(node: Pick<NodeAuthorizer, 'authorize'>, rbac: Pick<RbacAuthorizer, 'authorize'>, a: Attributes): Promise<Decision> {
  const n = await node.authorize(a);
  if (n?.allowed) return n;
  const r = await rbac.authorize(a);
  return r.allowed || !n ? r : { allowed: false, reason: n.reason };
}

/** Kubernetes' Forbidden for a denied request: `pods "x" is forbidden: User ...`. */
export function forbiddenError(a: Attributes, reason = ''): ApiError {
  const message = forbiddenMessage(a) + (reason ? `: ${reason}` : '');
  if (!a.resourceRequest) return forbidden(`forbidden: ${message}`, {});
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const subject = a.name ? `${qualified} ${JSON.stringify(a.name)}` : qualified;
  const details: { name?: string; group?: string; kind: string } = { kind: a.resource };
  if (a.name) details.name = a.name;
  if (a.apiGroup) details.group = a.apiGroup;
  return forbidden(`${subject} is forbidden: ${message}`, details);
}

/** Throws the 403 unless the authorizer allows the request. */
export async function authorizeOrThrow(authz: Authorizer, a: Attributes): Promise<void> {
  const d = await authz.authorize(a);
  if (!d.allowed) throw forbiddenError(a, d.reason);
}
