// RBAC through the doors users use: kubectl (as other users, by client certificate or
// service-account token) and raw HTTP. `kubectl auth can-i` and the real request must agree;
// 403s carry Kubernetes' exact wording; Roles scope to their namespace; aggregated `view`
// follows new labelled ClusterRoles; escalation is refused; anonymous gets only health.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startServer, type TestServer } from '../helpers/cluster.ts';
import { asUser, certificateUser, type TestUser } from '../helpers/users.ts';

const RBAC = 'rbac.authorization.k8s.io/v1';

async function canI(u: TestUser, args: string[]): Promise<boolean> {
  const r = await u.kubectl(['auth', 'can-i', ...args]);
  assert.ok(r.stdout.trim() === 'yes' || r.stdout.trim() === 'no', `can-i ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  assert.equal(r.code, r.stdout.trim() === 'yes' ? 0 : 1);
  return r.stdout.trim() === 'yes';
}

/** The real request for a can-i question: anything but 403 means allowed. */
async function realRequest(u: TestUser, verb: string, resource: string, ns: string): Promise<boolean> {
  const [plural, group] = resource.includes('.') ? [resource.slice(0, resource.indexOf('.')), resource.slice(resource.indexOf('.') + 1)] : [resource, ''];
  const base = `${group ? `/apis/${group}/v1` : '/api/v1'}${ns ? `/namespaces/${ns}` : ''}/${plural}`;
  let r;
  switch (verb) {
    case 'list': r = await u.request('GET', base); break;
    case 'get': r = await u.request('GET', `${base}/does-not-exist`); break;
    case 'watch': r = await u.request('GET', `${base}?watch=1&timeoutSeconds=1`); break;
    case 'create': r = await u.request('POST', `${base}?dryRun=All`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe' } }); break;
    case 'delete': r = await u.request('DELETE', `${base}/does-not-exist`); break;
    default: throw new Error(verb);
  }
  assert.ok([200, 201, 404, 403, 400, 422].includes(r.status), `${verb} ${base}: ${r.status} ${r.text}`);
  return r.status !== 403;
}

async function apply(s: TestServer, doc: object): Promise<void> {
  await s.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(doc) });
}

test('RBAC: users, groups and service accounts; can-i agrees with real requests; 403 wording', async (t) => {
  const s = await startServer();
  const users: TestUser[] = [];
  t.after(async () => { for (const u of users) u.close(); await s.stop(); });
  const user = async (name: string, groups: string[] = []) => { const u = await certificateUser(s, name, groups); users.push(u); return u; };

  // The bootstrap policy, labelled and annotated as kube-apiserver makes it.
  const admin = (await s.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin')).json;
  assert.equal(admin.metadata.labels['kubernetes.io/bootstrapping'], 'rbac-defaults');
  assert.equal(admin.metadata.annotations['rbac.authorization.kubernetes.io/autoupdate'], 'true');
  const crb = (await s.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/cluster-admin')).json;
  assert.deepEqual(crb.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]);
  for (const name of ['admin', 'edit', 'view', 'system:basic-user', 'system:discovery', 'system:public-info-viewer', 'system:skiff:node']) {
    assert.equal((await s.request('GET', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${encodeURIComponent(name)}`)).status, 200, name);
  }
  // Discovery lists the review resources, so kubectl finds them.
  const discovered = await s.kubectlOk(['api-resources', '--api-group=authorization.k8s.io', '-o', 'name']);
  assert.deepEqual(discovered.trim().split('\n').sort(), ['localsubjectaccessreviews.authorization.k8s.io', 'selfsubjectaccessreviews.authorization.k8s.io', 'selfsubjectrulesreviews.authorization.k8s.io', 'subjectaccessreviews.authorization.k8s.io']);

  await s.kubectlOk(['create', 'namespace', 'team-a']);
  await s.kubectlOk(['create', 'namespace', 'team-b']);
  // alice: nobody. bob: a Role listing pods in team-a. viewers (group): ClusterRole view everywhere.
  await apply(s, { apiVersion: RBAC, kind: 'Role', metadata: { name: 'pod-lister', namespace: 'team-a' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] });
  await s.kubectlOk(['create', 'rolebinding', 'bob-lists', '-n', 'team-a', '--role=pod-lister', '--user=bob']);
  await s.kubectlOk(['create', 'clusterrolebinding', 'viewers', '--clusterrole=view', '--group=viewers']);
  await s.kubectlOk(['create', 'serviceaccount', 'robot', '-n', 'team-b']);
  await s.kubectlOk(['create', 'rolebinding', 'robot-edit', '-n', 'team-b', '--clusterrole=edit', '--serviceaccount=team-b:robot']);
  // The aggregation controller fills view and edit from their labelled parts.
  await eventually(async () => JSON.stringify((await s.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/edit')).json.rules ?? []).includes('"configmaps"'), 10_000, 'edit aggregated');

  const alice = await user('alice');
  const bob = await user('bob', ['devs']);
  const carol = await user('carol', ['viewers']);
  const token = (await s.kubectlOk(['create', 'token', 'robot', '-n', 'team-b'])).trim();
  const robot = asUser(s, 'robot', { token });
  users.push(robot);

  const matrix: [TestUser, string, string, string, string, boolean][] = [
    // who, label, verb, resource, namespace, expected
    [alice, 'alice', 'list', 'pods', 'default', false],
    [alice, 'alice', 'get', 'nodes', '', false],
    [alice, 'alice', 'create', 'configmaps', 'default', false],
    [bob, 'bob', 'list', 'pods', 'team-a', true],
    [bob, 'bob', 'list', 'pods', 'team-b', false],
    [bob, 'bob', 'get', 'pods', 'team-a', false],
    [bob, 'bob', 'delete', 'pods', 'team-a', false],
    [bob, 'bob', 'watch', 'pods', 'team-a', false],
    [carol, 'carol', 'list', 'pods', 'team-b', true],
    [carol, 'carol', 'watch', 'deployments.apps', 'team-a', true],
    [carol, 'carol', 'get', 'configmaps', 'default', true],
    [carol, 'carol', 'list', 'secrets', 'default', false],
    [carol, 'carol', 'create', 'configmaps', 'default', false],
    [carol, 'carol', 'list', 'nodes', '', false],
    [robot, 'robot', 'create', 'configmaps', 'team-b', true],
    [robot, 'robot', 'list', 'secrets', 'team-b', true],
    [robot, 'robot', 'delete', 'pods', 'team-b', true],
    [robot, 'robot', 'list', 'pods', 'team-a', false],
    [robot, 'robot', 'list', 'rolebindings.rbac.authorization.k8s.io', 'team-b', false],
  ];
  for (const [u, who, verb, resource, ns, expected] of matrix) {
    const args = [verb, resource, ...(ns ? ['-n', ns] : [])];
    assert.equal(await canI(u, args), expected, `can-i ${who} ${args.join(' ')}`);
    assert.equal(await realRequest(u, verb, resource, ns), expected, `real ${who} ${args.join(' ')}`);
  }
  // The same matrix through impersonation: the admin acting as each (kubectl --as/--as-group, Impersonate-* headers).
  const identities: Record<string, { user: string; group?: string }> = {
    alice: { user: 'alice' }, bob: { user: 'bob', group: 'devs' }, carol: { user: 'carol', group: 'viewers' },
    robot: { user: 'system:serviceaccount:team-b:robot' },
  };
  for (const [, who, verb, resource, ns, expected] of matrix) {
    const id = identities[who]!;
    const flags = [`--as=${id.user}`, ...(id.group ? [`--as-group=${id.group}`] : [])];
    const headers = { 'Impersonate-User': id.user, ...(id.group ? { 'Impersonate-Group': id.group } : {}) };
    const as = {
      kubectl: (a: string[]) => s.kubectl([...a, ...flags]),
      request: (method: string, p: string, body?: unknown) => s.request(method, p, { body, headers }),
    } as TestUser;
    const args = [verb, resource, ...(ns ? ['-n', ns] : [])];
    assert.equal(await canI(as, args), expected, `can-i --as ${who} ${args.join(' ')}`);
    assert.equal(await realRequest(as, verb, resource, ns), expected, `real --as ${who} ${args.join(' ')}`);
  }
  // The admin (system:masters) may do anything, every user may ask about itself.
  assert.equal(await canI({ kubectl: (a: string[]) => s.kubectl(a) } as TestUser, ['delete', 'nodes']), true);
  assert.equal(await canI({ kubectl: (a: string[]) => s.kubectl(a) } as TestUser, ['*', '*']), true);
  assert.equal(await canI(alice, ['create', 'selfsubjectaccessreviews.authorization.k8s.io']), true);
  assert.match((await alice.kubectl(['auth', 'whoami'])).stdout, /alice/);

  // 403 in Kubernetes' exact shape.
  const list = await alice.request('GET', '/api/v1/namespaces/team-a/pods');
  assert.equal(list.status, 403);
  assert.deepEqual(list.json, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
    message: 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team-a"',
    details: { kind: 'pods' },
  });
  const named = await alice.request('GET', '/apis/apps/v1/namespaces/team-a/deployments/web');
  assert.equal(named.json.message, 'deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments" in API group "apps" in the namespace "team-a"');
  assert.deepEqual(named.json.details, { name: 'web', group: 'apps', kind: 'deployments' });
  assert.equal((await alice.request('GET', '/api/v1/nodes')).json.message, 'nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope');
  assert.equal((await alice.request('GET', '/api/v1/namespaces/team-a/pods/p1/log')).json.message, 'pods "p1" is forbidden: User "alice" cannot get resource "pods/log" in API group "" in the namespace "team-a"');
  const path = await alice.request('GET', '/metrics');
  assert.equal(path.status, 403);
  assert.equal(path.json.message, 'forbidden: User "alice" cannot get path "/metrics"');
  const viaKubectl = await alice.kubectl(['get', 'pods', '-n', 'team-a']);
  assert.notEqual(viaKubectl.code, 0);
  assert.match(viaKubectl.stderr, /Error from server \(Forbidden\): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team-a"/);
  // Discovery works for every authenticated user (system:discovery), and api-resources through it.
  assert.equal((await alice.request('GET', '/apis')).status, 200);
  assert.equal((await alice.request('GET', '/api/v1')).status, 200);

  // can-i --list: the rules bob holds in team-a.
  const rules = await bob.kubectl(['auth', 'can-i', '--list', '-n', 'team-a']);
  assert.equal(rules.code, 0, rules.stderr);
  assert.match(rules.stdout, /^pods\s+\[\]\s+\[\]\s+\[list\]$/m);
  assert.match(rules.stdout, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
  assert.doesNotMatch((await bob.kubectl(['auth', 'can-i', '--list', '-n', 'team-b'])).stdout, /^pods\s/m);

  // SubjectAccessReview (admin asks about others) and LocalSubjectAccessReview.
  const sar = await s.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'bob', groups: ['devs'], resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'team-a' } } },
  });
  assert.equal(sar.status, 201);
  assert.equal(sar.json.status.allowed, true);
  assert.match(sar.json.status.reason, /RoleBinding "bob-lists\/team-a" of Role "pod-lister" to User "bob"/);
  const sarNo = await s.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    body: { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { user: 'bob', resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'team-b' } } },
  });
  assert.equal(sarNo.json.status.allowed, false);
  const lsar = await s.request('POST', '/apis/authorization.k8s.io/v1/namespaces/team-a/localsubjectaccessreviews', {
    body: { kind: 'LocalSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { user: 'bob', resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'team-a' } } },
  });
  assert.equal(lsar.status, 201);
  assert.equal(lsar.json.status.allowed, true);
  // Asking about others needs permission of its own.
  assert.equal((await alice.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { user: 'bob', resourceAttributes: { verb: 'list', resource: 'pods' } } })).status, 403);
  const noSpec = await s.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { body: { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { user: 'bob' } } });
  assert.equal(noSpec.status, 422);
  assert.equal(noSpec.json.reason, 'Invalid');

  // A deleted binding stops granting at once.
  await s.kubectlOk(['delete', 'rolebinding', 'bob-lists', '-n', 'team-a']);
  assert.equal(await canI(bob, ['list', 'pods', '-n', 'team-a']), false);
  assert.equal((await bob.request('GET', '/api/v1/namespaces/team-a/pods')).status, 403);
});

test('aggregated view picks up a new labelled ClusterRole; escalation refused; anonymous only health', async (t) => {
  const s = await startServer();
  const users: TestUser[] = [];
  t.after(async () => { for (const u of users) u.close(); await s.stop(); });
  await s.kubectlOk(['create', 'clusterrolebinding', 'viewers', '--clusterrole=view', '--group=viewers']);
  const carol = await certificateUser(s, 'carol', ['viewers']);
  users.push(carol);
  await eventually(async () => (await carol.request('GET', '/api/v1/namespaces/default/configmaps')).status === 200, 10_000, 'view aggregated');
  assert.equal(await canI(carol, ['list', 'secrets']), false);
  assert.equal((await carol.request('GET', '/api/v1/namespaces/default/secrets')).status, 403);
  await apply(s, { apiVersion: RBAC, kind: 'ClusterRole', metadata: { name: 'secret-peek', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }] });
  await eventually(async () => canI(carol, ['list', 'secrets']), 10_000, 'view picks up secret-peek');
  assert.equal((await carol.request('GET', '/api/v1/namespaces/default/secrets')).status, 200);
  assert.match(await s.kubectlOk(['get', 'clusterrole', 'view', '-o', 'yaml']), /secrets/);
  await s.kubectlOk(['delete', 'clusterrole', 'secret-peek']);
  await eventually(async () => !(await canI(carol, ['list', 'secrets'])), 10_000, 'view drops secret-peek');

  // dan manages roles in `default` and can read pods there, nothing more.
  await apply(s, { apiVersion: RBAC, kind: 'Role', metadata: { name: 'role-manager', namespace: 'default' }, rules: [
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['create', 'update', 'patch', 'get', 'list'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
  ] });
  await s.kubectlOk(['create', 'rolebinding', 'dan-manager', '--role=role-manager', '--user=dan']);
  const dan = await certificateUser(s, 'dan', ['devs']);
  users.push(dan);
  // Granting what he holds is fine; more is refused, in kube-apiserver's words.
  const ok = await dan.kubectl(['create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods']);
  assert.equal(ok.code, 0, ok.stderr);
  const more = await dan.kubectl(['create', 'role', 'pod-killer', '--verb=delete', '--resource=pods']);
  assert.notEqual(more.code, 0);
  assert.match(more.stderr, /roles\.rbac\.authorization\.k8s\.io "pod-killer" is forbidden: user "dan" \(groups=\["devs" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["pods"\], Verbs:\["delete"\]\}/);
  // Widening an existing role by patch is refused the same way.
  const patched = await dan.kubectl(['patch', 'role', 'pod-reader', '--type=json', '-p', '[{"op":"add","path":"/rules/0/verbs/-","value":"delete"}]']);
  assert.notEqual(patched.code, 0);
  assert.match(patched.stderr, /attempting to grant RBAC permissions not currently held/);
  // Bindings: to a role he holds, yes; to cluster-admin, no.
  const bindOk = await dan.kubectl(['create', 'rolebinding', 'eve-reads', '--role=pod-reader', '--user=eve']);
  assert.equal(bindOk.code, 0, bindOk.stderr);
  const bindAdmin = await dan.kubectl(['create', 'rolebinding', 'eve-admin', '--clusterrole=cluster-admin', '--user=eve']);
  assert.notEqual(bindAdmin.code, 0);
  assert.match(bindAdmin.stderr, /rolebindings\.rbac\.authorization\.k8s\.io "eve-admin" is forbidden: user "dan" .* is attempting to grant RBAC permissions not currently held/);
  // `escalate` on roles lifts the check (as in Kubernetes).
  await apply(s, { apiVersion: RBAC, kind: 'Role', metadata: { name: 'escalator', namespace: 'default' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate'] }] });
  await s.kubectlOk(['create', 'rolebinding', 'dan-escalates', '--role=escalator', '--user=dan']);
  const escalated = await dan.kubectl(['create', 'role', 'pod-killer', '--verb=delete', '--resource=pods']);
  assert.equal(escalated.code, 0, escalated.stderr);

  // Anonymous (no credentials at all): system:anonymous may read health, version and discovery only.
  for (const p of ['/healthz', '/livez', '/readyz', '/version', '/api', '/apis', '/api/v1', '/apis/apps/v1']) assert.equal((await s.request('GET', p, { anonymous: true })).status, 200, p);
  for (const p of ['/api/v1/namespaces/default/pods', '/metrics']) {
    const r = await s.request('GET', p, { anonymous: true });
    assert.equal(r.status, 403, p);
    assert.equal(r.json.reason, 'Forbidden');
    assert.match(r.json.message, /User "system:anonymous" cannot/);
  }
  const write = await s.request('POST', '/api/v1/namespaces/default/configmaps', { anonymous: true, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'anon' } } });
  assert.equal(write.status, 403, write.text);
  // Offered but wrong credentials are never anonymous: 401.
  assert.equal((await s.request('GET', '/api', { anonymous: true, headers: { Authorization: 'Bearer nope' } })).status, 401);
});
