// authorization.k8s.io/v1: SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview,
// LocalSubjectAccessReview and SelfSubjectRulesReview (`kubectl auth can-i --list`). Not
// stored: each create is answered by asking the authorizer. Served by server.ts, listed by
// discovery (like selfsubjectreviews).
import type { ResourceInfo } from '../../api/scheme.ts';
import type { UserInfo } from '../authn/types.ts';
import { badRequest, invalid, methodNotAllowed } from '../errors.ts';
import type { Authorizer } from './authorizer.ts';
import type { RbacAuthorizer } from './rbac.ts';
import { MASTERS_GROUP, type Attributes } from './types.ts';
import { invalid as invalidField, required } from '../../api/field-error.ts';

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';

const review = (resource: string, kind: string, namespaced = false): ResourceInfo =>
  ({ group: AUTHORIZATION_GROUP, version: 'v1', resource, singular: resource.slice(0, -1), kind, namespaced, verbs: ['create'], subresources: [] });

export const AUTHORIZATION_RESOURCES: ResourceInfo[] = [
  review('localsubjectaccessreviews', 'LocalSubjectAccessReview', true),
  review('selfsubjectaccessreviews', 'SelfSubjectAccessReview'),
  review('selfsubjectrulesreviews', 'SelfSubjectRulesReview'),
  review('subjectaccessreviews', 'SubjectAccessReview'),
];

const PREFIX = `/apis/${AUTHORIZATION_GROUP}/v1/`;

/** Which review a path names (and the namespace of a local one), or undefined. */
export function reviewOf(path: string): { resource: ResourceInfo; namespace?: string } | undefined {
  if (!path.startsWith(PREFIX)) return undefined;
  const parts = path.slice(PREFIX.length).split('/');
  if (parts.length === 1) {
    const r = AUTHORIZATION_RESOURCES.find((x) => !x.namespaced && x.resource === parts[0]);
    return r && { resource: r };
  }
  if (parts.length === 3 && parts[0] === 'namespaces' && parts[2] === 'localsubjectaccessreviews') {
    return { resource: AUTHORIZATION_RESOURCES[0], namespace: decodeURIComponent(parts[1]) };
  }
  return undefined;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? v as Json : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function attributesOf(user: UserInfo, spec: Json, kind: string): Attributes {
  const ra = spec.resourceAttributes ? obj(spec.resourceAttributes) : undefined;
  const nra = spec.nonResourceAttributes ? obj(spec.nonResourceAttributes) : undefined;
  if (!ra && !nra) {
    throw invalid(kind, AUTHORIZATION_GROUP, '', [required('spec.resourceAttributes', 'exactly one of nonResourceAttributes or resourceAttributes must be specified')]);
  }
  if (ra) {
    return {
      user, verb: str(ra.verb), resourceRequest: true, path: '', apiGroup: str(ra.group), apiVersion: str(ra.version),
      resource: str(ra.resource), subresource: str(ra.subresource), namespace: str(ra.namespace), name: str(ra.name),
    };
  }
  return { user, verb: str(nra!.verb), resourceRequest: false, path: str(nra!.path), apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
}

export interface ReviewContext {
  user: UserInfo;
  body: unknown;
  authz: Authorizer;
  rbac: Pick<RbacAuthorizer, 'rulesFor'>;
}

/** Answers one review create: the object back with its status filled in. */
export async function answerReview(which: { resource: ResourceInfo; namespace?: string }, c: ReviewContext): Promise<Json> {
  const input = obj(c.body);
  const kind = which.resource.kind;
  if (input.kind !== undefined && input.kind !== kind) throw badRequest(`expected ${kind}, got ${str(input.kind)}`);
  const spec = obj(input.spec);
  const metadata = { ...obj(input.metadata) };
  delete metadata.managedFields;
  const out: Json = { kind, apiVersion: `${AUTHORIZATION_GROUP}/v1`, metadata, spec };
  if (kind === 'SelfSubjectRulesReview') {
    const namespace = str(spec.namespace);
    const rules = await c.rbac.rulesFor(c.user, namespace);
    const all = c.user.groups.includes(MASTERS_GROUP) && !rules.some((r) => r.verbs.includes('*') && r.resources?.includes('*'))
      ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }, ...rules] : rules;
    out.status = {
      resourceRules: all.filter((r) => r.resources?.length).map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources, ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) })),
      nonResourceRules: all.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
      incomplete: false,
    };
    return out;
  }
  let subject = c.user;
  if (kind === 'SubjectAccessReview' || kind === 'LocalSubjectAccessReview') {
    const user = str(spec.user);
    const groups = Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === 'string') : [];
    if (!user && !groups.length) throw invalid(kind, AUTHORIZATION_GROUP, '', [required('spec.user', 'at least one of user or group must be specified')]);
    subject = { name: user, groups, ...(str(spec.uid) ? { uid: str(spec.uid) } : {}) };
  }
  const a = attributesOf(subject, spec, kind);
  if (kind === 'LocalSubjectAccessReview' && (!a.resourceRequest || a.namespace !== which.namespace)) {
    throw invalid(kind, AUTHORIZATION_GROUP, '', [invalidField('spec.resourceAttributes.namespace', a.namespace, 'must match metadata.namespace')]);
  }
  if (kind === 'LocalSubjectAccessReview') metadata.namespace = which.namespace;
  const d = await c.authz.authorize(a);
  out.status = d.allowed ? { allowed: true, reason: d.reason } : { allowed: false, ...(d.reason ? { reason: d.reason } : {}) };
  return out;
}

export function requirePost(method: string): void {
  if (method !== 'POST') throw methodNotAllowed();
}
