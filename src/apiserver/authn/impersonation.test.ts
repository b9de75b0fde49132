// Impersonation headers → the user a request acts as, with a fake authorizer recording what
// was asked; Kubernetes' group rules and 403/500 wording.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Authorizer } from '../authz/authorizer.ts';
import type { Attributes } from '../authz/types.ts';
import { ApiError } from '../errors.ts';
import { impersonatedUser } from './impersonation.ts';

const admin = { name: 'bob', groups: ['system:authenticated'] };
const req = (h: Record<string, string[]>) => ({ headersDistinct: h, rawHeaders: Object.entries(h).flatMap(([k, vs]) => vs.flatMap((v) => [k.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase()), v])) });

function recorder(allow: (a: Attributes) => boolean = () => true): { authz: Authorizer; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    authz: { authorize: (a) => { asked.push(`${a.verb} ${a.apiGroup}/${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.namespace}/${a.name}`); return { allowed: allow(a), reason: '' }; } },
  };
}

test('no headers: no impersonation', async () => {
  const r = recorder();
  assert.equal(await impersonatedUser(req({}), admin, r.authz), undefined);
  assert.deepEqual(r.asked, []);
});

test('user, groups, uid and extra are each authorized, then make up the user', async () => {
  const r = recorder();
  const u = await impersonatedUser(req({
    'impersonate-user': ['jane'], 'impersonate-group': ['devs', 'ops'], 'impersonate-uid': ['u-1'],
    'impersonate-extra-acme.com%2fproject': ['a', 'b'],
  }), admin, r.authz);
  assert.deepEqual(u, { name: 'jane', groups: ['devs', 'ops', 'system:authenticated'], uid: 'u-1', extra: { 'acme.com/project': ['a', 'b'] } });
  assert.deepEqual(r.asked, [
    'impersonate /users /jane', 'impersonate /groups /devs', 'impersonate /groups /ops',
    'impersonate authentication.k8s.io/userextras/acme.com/project /a', 'impersonate authentication.k8s.io/userextras/acme.com/project /b',
    'impersonate authentication.k8s.io/uids /u-1',
  ]);
});

test('service accounts: checked in their namespace, their groups unless groups are given', async () => {
  const r = recorder();
  const sa = await impersonatedUser(req({ 'impersonate-user': ['system:serviceaccount:team-a:robot'] }), admin, r.authz);
  assert.deepEqual(sa, { name: 'system:serviceaccount:team-a:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'] });
  assert.deepEqual(r.asked, ['impersonate /serviceaccounts team-a/robot']);
  const given = await impersonatedUser(req({ 'impersonate-user': ['system:serviceaccount:team-a:robot'], 'impersonate-group': ['x'] }), admin, r.authz);
  assert.deepEqual(given?.groups, ['x', 'system:authenticated']);
  // Not two parts after the prefix: an ordinary user name.
  const odd = await impersonatedUser(req({ 'impersonate-user': ['system:serviceaccount:only-ns'] }), admin, r.authz);
  assert.deepEqual(odd?.groups, ['system:authenticated']);
});

test('anonymous and explicit authenticated/unauthenticated groups', async () => {
  const r = recorder();
  assert.deepEqual((await impersonatedUser(req({ 'impersonate-user': ['system:anonymous'] }), admin, r.authz))?.groups, ['system:unauthenticated']);
  assert.deepEqual((await impersonatedUser(req({ 'impersonate-user': ['x'], 'impersonate-group': ['system:unauthenticated'] }), admin, r.authz))?.groups, ['system:unauthenticated']);
  assert.deepEqual((await impersonatedUser(req({ 'impersonate-user': ['x'], 'impersonate-group': ['system:authenticated'] }), admin, r.authz))?.groups, ['system:authenticated']);
});

test('refusals: 403 about the requester; no user is a 500', async () => {
  const r = recorder((a) => a.resource !== 'groups' || a.name !== 'admins');
  await assert.rejects(impersonatedUser(req({ 'impersonate-user': ['jane'], 'impersonate-group': ['devs', 'admins'] }), admin, r.authz), (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 403);
    assert.equal(err.message, 'groups "admins" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope');
    return true;
  });
  await assert.rejects(impersonatedUser(req({ 'impersonate-group': ['devs'] }), admin, r.authz), (err: unknown) =>
    err instanceof ApiError && err.code === 500 && /requested \[Group devs\] without impersonating a user/.test(err.message));
  // Without an authorizer (authorization off) anyone authenticated may.
  assert.equal((await impersonatedUser(req({ 'impersonate-user': ['jane'] }), admin, undefined))?.name, 'jane');
});
