// User impersonation (kubectl --as / --as-group / --as-uid, the Impersonate-* headers), as
// kube-apiserver's impersonation filter does it: after authentication, each thing asked
// for is authorized as the verb `impersonate` on users, groups, serviceaccounts (in their
// namespace), uids or userextras/<key> (authentication.k8s.io), named by resourceNames;
// any refusal is a 403 about the requester. The request then runs as the impersonated user.
import type { IncomingMessage } from 'node:http';
import type { Authorizer } from '../authz/authorizer.ts';
import { forbiddenError } from '../authz/authorizer.ts';
import type { Attributes } from '../authz/types.ts';
import { ANONYMOUS_USER, UNAUTHENTICATED_GROUP } from '../authz/types.ts';
import { internalError } from '../errors.ts';
import { AUTHENTICATED_GROUP, type UserInfo } from './types.ts';

const USER = 'impersonate-user';
const GROUP = 'impersonate-group';
const UID = 'impersonate-uid';
const EXTRA = 'impersonate-extra-';
const SA_PREFIX = 'system:serviceaccount:';

interface Wanted {
  kind: 'User' | 'ServiceAccount' | 'Group' | 'UserExtra' | 'UID';
  name: string;
  namespace?: string;
  /** The extra key (UserExtra). */
  key?: string;
}

function unescapeKey(key: string): string {
  try { return decodeURIComponent(key); } catch { return key; }
}

/** What the headers ask for, in Kubernetes' order; [] when there is no impersonation. */
export function impersonationRequests(req: Pick<IncomingMessage, 'headersDistinct' | 'rawHeaders'>): Wanted[] {
  // Nearly no request impersonates: a look at the raw names spares building headersDistinct.
  if (!req.rawHeaders.some((v, i) => i % 2 === 0 && v.length > 12 && v.slice(0, 12).toLowerCase() === 'impersonate-')) return [];
  const h = req.headersDistinct;
  const out: Wanted[] = [];
  const user = h[USER]?.[0] ?? '';
  if (user) {
    const parts = user.startsWith(SA_PREFIX) ? user.slice(SA_PREFIX.length).split(':') : [];
    if (parts.length === 2 && parts[0] && parts[1]) out.push({ kind: 'ServiceAccount', namespace: parts[0], name: parts[1] });
    else out.push({ kind: 'User', name: user });
  }
  for (const g of h[GROUP] ?? []) out.push({ kind: 'Group', name: g });
  for (const [header, values] of Object.entries(h)) {
    if (!header.startsWith(EXTRA) || !values) continue;
    const key = unescapeKey(header.slice(EXTRA.length).toLowerCase());
    for (const v of values) out.push({ kind: 'UserExtra', name: v, key });
  }
  const uid = h[UID]?.[0] ?? '';
  if (uid) out.push({ kind: 'UID', name: uid });
  if (out.length && !user) {
    const asked = out.map((w) => `${w.kind} ${w.key ? `${w.key}=` : ''}${w.name}`).join(', ');
    throw internalError(`requested [${asked}] without impersonating a user`);
  }
  return out;
}

function attributesFor(requester: UserInfo, w: Wanted): Attributes {
  const base = { user: requester, verb: 'impersonate', resourceRequest: true, path: '', subresource: '', namespace: '', name: w.name };
  switch (w.kind) {
    case 'ServiceAccount': return { ...base, apiGroup: '', apiVersion: 'v1', resource: 'serviceaccounts', namespace: w.namespace ?? '' };
    case 'User': return { ...base, apiGroup: '', apiVersion: 'v1', resource: 'users' };
    case 'Group': return { ...base, apiGroup: '', apiVersion: 'v1', resource: 'groups' };
    case 'UserExtra': return { ...base, apiGroup: 'authentication.k8s.io', apiVersion: 'v1', resource: 'userextras', subresource: w.key ?? '' };
    case 'UID': return { ...base, apiGroup: 'authentication.k8s.io', apiVersion: 'v1', resource: 'uids' };
  }
}

/**
 * The user a request acts as: `requester` itself without Impersonate-* headers, else the
 * impersonated user once every part of it is authorized (403 Forbidden otherwise; without
 * an authorizer every authenticated user may impersonate, as it may do everything).
 */
export async function impersonatedUser(req: Pick<IncomingMessage, 'headersDistinct' | 'rawHeaders'>, requester: UserInfo, authz: Authorizer | undefined): Promise<UserInfo | undefined> {
  const wanted = impersonationRequests(req);
  if (!wanted.length) return undefined;
  // Groups given are the whole list; a service account without them gets its fixed ones.
  const groupsGiven = wanted.some((w) => w.kind === 'Group');
  let name = '';
  let uid: string | undefined;
  const groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const w of wanted) {
    if (authz) {
      const a = attributesFor(requester, w);
      const d = await authz.authorize(a);
      if (!d.allowed) throw forbiddenError(a, d.reason);
    }
    if (w.kind === 'ServiceAccount') {
      name = `${SA_PREFIX}${w.namespace}:${w.name}`;
      if (!groupsGiven) groups.push('system:serviceaccounts', `system:serviceaccounts:${w.namespace}`);
    } else if (w.kind === 'User') name = w.name;
    else if (w.kind === 'Group') groups.push(w.name);
    else if (w.kind === 'UserExtra') (extra[w.key ?? ''] ??= []).push(w.name);
    else uid = w.name;
  }
  if (name !== ANONYMOUS_USER) {
    if (!groups.includes(AUTHENTICATED_GROUP) && !groups.includes(UNAUTHENTICATED_GROUP)) groups.push(AUTHENTICATED_GROUP);
  } else if (!groups.includes(UNAUTHENTICATED_GROUP)) {
    groups.push(UNAUTHENTICATED_GROUP);
  }
  return { name, groups, ...(uid ? { uid } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
}
