// authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`): the caller's own user
// info, as the authenticator saw it. Not stored; served by server.ts, listed by discovery.
import type { ResourceInfo } from '../../api/scheme.ts';
import type { UserInfo } from '../authn/types.ts';

export const AUTHENTICATION_GROUP = 'authentication.k8s.io';

/** For discovery only (like metrics.k8s.io): not in the scheme, so nothing stores it. */
export const AUTHENTICATION_RESOURCES: ResourceInfo[] = [
  { group: AUTHENTICATION_GROUP, version: 'v1', resource: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'], subresources: [] },
];

export const SELF_SUBJECT_REVIEW_PATH = `/apis/${AUTHENTICATION_GROUP}/v1/selfsubjectreviews`;

export function selfSubjectReview(user: UserInfo, now = new Date()): Record<string, unknown> {
  const userInfo: Record<string, unknown> = { username: user.name };
  if (user.uid) userInfo.uid = user.uid;
  userInfo.groups = user.groups;
  if (user.extra && Object.keys(user.extra).length) userInfo.extra = user.extra;
  return {
    kind: 'SelfSubjectReview', apiVersion: `${AUTHENTICATION_GROUP}/v1`,
    metadata: { creationTimestamp: now.toISOString().replace(/\.\d+Z$/, 'Z') },
    status: { userInfo },
  };
}
