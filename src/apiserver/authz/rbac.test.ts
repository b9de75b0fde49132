// The RBAC authorizer, bootstrap policy and escalation checks on a real registry (no HTTP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testBed } from '../../controllers/testing.ts';
import { lookupResource } from '../../api/scheme.ts';
import { createAuthorization, ensureBootstrapPolicy, requestAttributes } from './index.ts';
import { checkEscalation } from './escalation.ts';
import type { UserInfo } from '../authn/types.ts';

const RBAC = 'rbac.authorization.k8s.io';
const can = async (a: ReturnType<typeof createAuthorization>, user: UserInfo, method: string, path: string) =>
  (await a.authz.authorize(requestAttributes(user, method, path, new URLSearchParams()))).allowed;

test('subjects, role bindings by namespace, cluster bindings, service accounts', async (t) => {
  const bed = await testBed();
  const authz = createAuthorization(bed.registry);
  t.after(async () => { authz.stop(); await bed.close(); });
  await ensureBootstrapPolicy(bed.client);
  const bob: UserInfo = { name: 'bob', groups: ['system:authenticated'] };
  const team: UserInfo = { name: 'carol', groups: ['team-a', 'system:authenticated'] };
  const sa: UserInfo = { name: 'system:serviceaccount:default:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'] };
  const admin: UserInfo = { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] };

  assert.equal(await can(authz, admin, 'DELETE', '/api/v1/nodes/x'), true);
  assert.equal(await can(authz, bob, 'GET', '/api/v1/namespaces/default/pods'), false);
  assert.equal(await can(authz, bob, 'GET', '/apis'), true, 'system:discovery');
  assert.equal(await can(authz, bob, 'GET', '/version'), true);
  assert.equal(await can(authz, bob, 'GET', '/metrics'), false);
  assert.equal(await can(authz, bob, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'), true, 'system:basic-user');

  const roles = bed.client.resource(RBAC, 'v1', 'roles');
  const rbs = bed.client.resource(RBAC, 'v1', 'rolebindings');
  const crbs = bed.client.resource(RBAC, 'v1', 'clusterrolebindings');
  await roles.create({ apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: 'pod-reader', namespace: 'default' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] });
  await rbs.create({ apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'bob-reads', namespace: 'default' }, roleRef: { apiGroup: RBAC, kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'User', name: 'bob' }, { kind: 'ServiceAccount', name: 'robot' }] });
  // Just written: the authorizer catches up before it says no.
  assert.equal(await can(authz, bob, 'GET', '/api/v1/namespaces/default/pods'), true);
  assert.equal(await can(authz, sa, 'GET', '/api/v1/namespaces/default/pods'), true);
  assert.equal(await can(authz, bob, 'GET', '/api/v1/namespaces/kube-system/pods'), false, 'other namespace');
  assert.equal(await can(authz, bob, 'GET', '/api/v1/pods'), false, 'all namespaces need a cluster binding');
  assert.equal(await can(authz, bob, 'GET', '/api/v1/namespaces/default/pods/p'), false, 'list only');

  await crbs.create({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'team-a-view' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'system:aggregate-to-view' }, subjects: [{ kind: 'Group', name: 'team-a' }] });
  assert.equal(await can(authz, team, 'GET', '/apis/apps/v1/deployments'), true);
  assert.equal(await can(authz, team, 'GET', '/api/v1/namespaces/x/pods/p/log'), true);
  assert.equal(await can(authz, team, 'GET', '/api/v1/namespaces/x/secrets'), false);
  assert.equal(await can(authz, team, 'DELETE', '/api/v1/namespaces/x/pods/p'), false);

  await rbs.delete('default', 'bob-reads');
  assert.equal(await can(authz, bob, 'GET', '/api/v1/namespaces/default/pods'), false, 'a deleted binding stops granting');
});

test('escalation: roles and bindings only with permissions held, or escalate / bind', async (t) => {
  const bed = await testBed();
  const authz = createAuthorization(bed.registry);
  t.after(async () => { authz.stop(); await bed.close(); });
  await ensureBootstrapPolicy(bed.client);
  const dave: UserInfo = { name: 'dave', groups: ['system:authenticated'] };
  const c = { user: dave, authz: authz.authz, rbac: authz.rbac };
  const roles = lookupResource(RBAC, 'v1', 'roles')!;
  const rolebindings = lookupResource(RBAC, 'v1', 'rolebindings')!;
  const role = (verbs: string[]) => ({ apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: 'r', namespace: 'default' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs }] });
  await assert.rejects(checkEscalation(c, roles, 'default', role(['get'])), (err: any) => {
    assert.equal(err.code, 403);
    assert.equal(err.message, 'roles.rbac.authorization.k8s.io "r" is forbidden: user "dave" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["get"]}');
    return true;
  });
  const client = bed.client;
  await client.resource(RBAC, 'v1', 'rolebindings').create({ apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'dave-edit', namespace: 'default' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'system:aggregate-to-edit' }, subjects: [{ kind: 'User', name: 'dave' }] });
  await client.resource(RBAC, 'v1', 'rolebindings').create({ apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'dave-view', namespace: 'default' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'system:aggregate-to-view' }, subjects: [{ kind: 'User', name: 'dave' }] });
  await checkEscalation(c, roles, 'default', role(['get', 'delete']));
  await assert.rejects(checkEscalation(c, roles, 'kube-system', role(['get'])), /not currently held/);
  const binding = (kind: string, name: string) => ({ apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'b', namespace: 'default' }, roleRef: { apiGroup: RBAC, kind, name }, subjects: [{ kind: 'User', name: 'eve' }] });
  await checkEscalation(c, rolebindings, 'default', binding('ClusterRole', 'system:aggregate-to-view'));
  await assert.rejects(checkEscalation(c, rolebindings, 'default', binding('ClusterRole', 'cluster-admin')), /rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "dave".*not currently held/s);
  await assert.rejects(checkEscalation(c, rolebindings, 'default', binding('ClusterRole', 'nope')), /clusterroles.rbac.authorization.k8s.io "nope" not found/);
  // bind on that role lifts the check.
  await client.resource(RBAC, 'v1', 'clusterroles').create({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name: 'binder' }, rules: [{ apiGroups: [RBAC], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['cluster-admin'] }] });
  await client.resource(RBAC, 'v1', 'clusterrolebindings').create({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'dave-binder' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'binder' }, subjects: [{ kind: 'User', name: 'dave' }] });
  await checkEscalation(c, rolebindings, 'default', binding('ClusterRole', 'cluster-admin'));
});
