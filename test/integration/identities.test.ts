// Built-in components under their own least-privilege identities, and impersonation, through
// the doors users use: `kubectl auth can-i --as`, `kubectl --as/--as-group`, raw requests
// with Impersonate-* headers, the audit log. Controllers still do their work; a controller
// refused something logs it and keeps running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, startServer } from '../helpers/cluster.ts';
import { certificateUser, type TestUser } from '../helpers/users.ts';

const DEPLOY = 'system:serviceaccount:kube-system:deployment-controller';

test('controllers and the scheduler run under their own identities, audited as them', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-identities-'));
  const logFile = path.join(dir, 'audit.log');
  const policyFile = path.join(dir, 'policy.yaml');
  writeFileSync(policyFile, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n    resources: [{ group: "apps", resources: ["replicasets"] }]\n  - level: None\n');
  const s = await startServer({ args: ['--audit-policy-file', policyFile, '--audit-log-path', logFile] });
  let stderr = '';
  s.process.stderr!.on('data', (d) => { stderr += d; });
  t.after(async () => { await s.stop(); rmSync(dir, { recursive: true, force: true }); });
  let said = '';
  const canI = async (args: string[]) => {
    const r = await s.kubectl(['auth', 'can-i', ...args]);
    said = `${args.join(' ')}: ${r.stdout}${r.stderr}`;
    assert.ok(['yes', 'no'].includes(r.stdout.trim()), `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout.trim() === 'yes';
  };

  // The identities, their roles and bindings, made with the default policy.
  assert.equal(await canI(['get', 'secrets', `--as=${DEPLOY}`]), false);
  assert.equal(await canI(['get', 'secrets', '-n', 'kube-system', `--as=${DEPLOY}`]), false);
  assert.equal(await canI(['create', 'replicasets.apps', `--as=${DEPLOY}`]), true);
  assert.equal(await canI(['update', 'deployments.apps', '--subresource=status', `--as=${DEPLOY}`]), true, said);
  assert.equal(await canI(['delete', 'pods', `--as=${DEPLOY}`]), false);
  assert.equal(await canI(['create', 'pods', '--as=system:serviceaccount:kube-system:replicaset-controller']), true);
  assert.equal(await canI(['create', 'pods', '--subresource=binding', '--as=system:kube-scheduler']), true, said);
  assert.equal(await canI(['get', 'secrets', '--as=system:kube-scheduler']), false);
  assert.equal(await canI(['create', 'deployments.apps', '--as=system:kube-scheduler']), false);
  assert.equal(await canI(['list', 'secrets', '--all-namespaces', '--as=system:kube-controller-manager']), true, 'shared informers');
  assert.equal(await canI(['get', 'secrets', '--as=system:kube-controller-manager']), false);
  assert.equal(await canI(['delete', 'secrets', '-n', 'kube-system', '--as=system:serviceaccount:kube-system:token-cleaner']), true);
  assert.equal(await canI(['delete', 'secrets', '-n', 'default', '--as=system:serviceaccount:kube-system:token-cleaner']), false);
  const crb = JSON.parse(await s.kubectlOk(['get', 'clusterrolebinding', 'system:controller:deployment-controller', '-o', 'json']));
  assert.deepEqual(crb.subjects.map((x: Record<string, string>) => [x.kind, x.namespace, x.name]), [['ServiceAccount', 'kube-system', 'deployment-controller']]);
  assert.equal(crb.metadata.labels['kubernetes.io/bootstrapping'], 'rbac-defaults');
  await s.kubectlOk(['get', 'serviceaccount', 'deployment-controller', '-n', 'kube-system']);
  await s.kubectlOk(['get', 'clusterrole', 'system:kube-scheduler']);

  // They still do their work: deployment → replica set → pods.
  await s.kubectlOk(['create', 'deployment', 'web', '--image=skiff.local/busybox:1', '--replicas=2']);
  await eventually(async () => (await s.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'name'])).stdout.trim().split('\n').filter(Boolean).length === 2, 30_000, 'two pods');
  // The audit log shows who made the replica set: the deployment controller.
  const audited = () => readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  await eventually(async () => audited().some((e) => e.verb === 'create' && e.stage === 'ResponseComplete'), 10_000, 'audit event');
  const created = audited().find((e) => e.verb === 'create' && e.stage === 'ResponseComplete')!;
  assert.equal(created.user.username, DEPLOY);
  assert.deepEqual(created.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated']);
  assert.equal(created.responseStatus.code, 201);
  assert.equal(created.objectRef.resource, 'replicasets');
  assert.equal(created.objectRef.namespace, 'default');
  assert.match(created.requestURI, /^\/apis\/apps\/v1\/namespaces\/default\/replicasets\/web-/);

  // Take away what the deployment controller needs: it logs a clear error and keeps running.
  const role = JSON.parse(await s.kubectlOk(['get', 'clusterrole', 'system:controller:deployment-controller', '-o', 'json']));
  const stripped = {
    ...role, metadata: { ...role.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } },
    rules: role.rules.map((r: { resources: string[]; verbs: string[] }) => r.resources.includes('replicasets') ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') } : r),
  };
  await s.kubectlOk(['replace', '-f', '-'], { input: JSON.stringify(stripped) });
  await s.kubectlOk(['create', 'deployment', 'api', '--image=skiff.local/busybox:1']);
  await eventually(async () => stderr.includes('denied by authorization'), 30_000, 'the denial in the log');
  const line = stderr.split('\n').find((l) => l.includes('denied by authorization'))!;
  const entry = JSON.parse(line);
  assert.equal(entry.level, 'error');
  assert.equal(entry.user, DEPLOY);
  assert.equal(entry.resource, 'create apps/replicasets');
  assert.match(entry.error, /replicasets.apps "api-[a-z0-9]+" is forbidden: User "system:serviceaccount:kube-system:deployment-controller" cannot create resource "replicasets" in API group "apps" in the namespace "default"/);
  assert.equal((await s.kubectl(['get', 'replicasets', '-l', 'app=api', '-o', 'name'])).stdout.trim(), '');
  // Given back, the controller (still running) catches up.
  await s.kubectlOk(['replace', '-f', '-'], { input: JSON.stringify({ ...role, metadata: { ...role.metadata, resourceVersion: undefined } }) });
  await eventually(async () => (await s.kubectl(['get', 'replicasets', '-l', 'app=api', '-o', 'name'])).stdout.trim() !== '', 60_000, 'the replica set after the role is back');
  assert.equal((await s.request('GET', '/readyz')).status, 200);
});

test('impersonation: kubectl --as, Impersonate-* headers, who may impersonate whom, audit', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-impersonation-'));
  const logFile = path.join(dir, 'audit.log');
  const policyFile = path.join(dir, 'policy.yaml');
  writeFileSync(policyFile, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n    resources: [{ group: "", resources: ["configmaps"] }]\n  - level: None\n');
  const s = await startServer({ args: ['--audit-policy-file', policyFile, '--audit-log-path', logFile] });
  const users: TestUser[] = [];
  t.after(async () => { for (const u of users) u.close(); await s.stop(); rmSync(dir, { recursive: true, force: true }); });

  // The admin may impersonate anyone: jane has no rights, so she is refused, as herself.
  const list = await s.kubectl(['auth', 'can-i', '--list', '--as=jane']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
  assert.doesNotMatch(list.stdout, /^pods\s/m);
  const asJane = await s.kubectl(['get', 'pods', '--as=jane']);
  assert.notEqual(asJane.code, 0);
  assert.match(asJane.stderr, /Error from server \(Forbidden\): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"/);
  assert.match((await s.kubectlOk(['auth', 'whoami', '--as=jane', '--as-group=devs', '-o', 'json'])), /"username": "jane"/);
  // Groups given are the groups (plus system:authenticated); a group binding applies.
  await s.kubectlOk(['create', 'rolebinding', 'devs-view', '--clusterrole=view', '--group=devs']);
  assert.equal((await s.kubectl(['get', 'pods', '--as=jane', '--as-group=devs'])).code, 0);
  const who = JSON.parse(await s.kubectlOk(['auth', 'whoami', '--as=jane', '--as-group=devs', '-o', 'json']));
  assert.deepEqual(who.status.userInfo.groups, ['devs', 'system:authenticated']);
  // A service account gets its groups.
  const sa = JSON.parse(await s.kubectlOk(['auth', 'whoami', '--as=system:serviceaccount:default:robot', '-o', 'json']));
  assert.deepEqual(sa.status.userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
  // Anonymous is not system:authenticated (so not even a self review, as in Kubernetes).
  const anon = await s.kubectl(['get', 'pods', '--as=system:anonymous']);
  assert.match(anon.stderr, /User "system:anonymous" cannot list resource "pods"/);
  assert.notEqual((await s.kubectl(['auth', 'whoami', '--as=system:anonymous'])).code, 0);

  // bob may impersonate jane (and only jane) and the group devs; not bob2, not other groups.
  await s.kubectlOk(['create', 'clusterrole', 'impersonate-jane', '--verb=impersonate', '--resource=users', '--resource-name=jane']);
  await s.kubectlOk(['create', 'clusterrole', 'impersonate-devs', '--verb=impersonate', '--resource=groups', '--resource-name=devs']);
  await s.kubectlOk(['create', 'clusterrolebinding', 'bob-jane', '--clusterrole=impersonate-jane', '--user=bob']);
  await s.kubectlOk(['create', 'clusterrolebinding', 'bob-devs', '--clusterrole=impersonate-devs', '--user=bob']);
  const bob = await certificateUser(s, 'bob');
  users.push(bob);
  const bobAsJane = await bob.kubectl(['get', 'pods', '--as=jane']);
  assert.match(bobAsJane.stderr, /pods is forbidden: User "jane" cannot list resource "pods"/, 'impersonation itself was allowed');
  assert.equal((await bob.kubectl(['get', 'pods', '--as=jane', '--as-group=devs'])).code, 0);
  const bobAsOther = await bob.kubectl(['get', 'pods', '--as=alice']);
  assert.notEqual(bobAsOther.code, 0);
  assert.match(bobAsOther.stderr, /users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope/);
  const raw = await bob.request('GET', '/api/v1/namespaces/default/pods');
  assert.equal(raw.status, 403, 'bob himself may not list pods');

  // Raw headers: exact Status; a group bob may not be; service accounts by namespace; uid and extra.
  const hdr = async (u: TestUser | undefined, headers: Record<string, string | string[]>, p = '/api/v1/namespaces/default/configmaps') => {
    const https = await import('node:https');
    const kc = readFileSync(u ? u.kubeconfig : s.kubeconfig, 'utf8');
    const grab = (k: string) => Buffer.from(new RegExp(`${k}: (\\S+)`).exec(kc)![1]!, 'base64');
    return new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = https.request(s.url + p, { ca: grab('certificate-authority-data'), cert: grab('client-certificate-data'), key: grab('client-key-data'), headers }, (res) => {
        let out = '';
        res.on('data', (d) => { out += d; });
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(out) }));
      });
      req.on('error', reject);
      req.end();
    });
  };
  const otherGroup = await hdr(bob, { 'Impersonate-User': 'jane', 'Impersonate-Group': ['devs', 'admins'] });
  assert.equal(otherGroup.status, 403);
  assert.deepEqual(otherGroup.json, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
    message: 'groups "admins" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope',
    details: { name: 'admins', kind: 'groups' },
  });
  const saDenied = await hdr(bob, { 'Impersonate-User': 'system:serviceaccount:team-a:robot' });
  assert.equal(saDenied.json.message, 'serviceaccounts "robot" is forbidden: User "bob" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team-a"');
  const noUser = await hdr(undefined, { 'Impersonate-Group': 'devs' });
  assert.equal(noUser.status, 500);
  assert.match(noUser.json.message, /without impersonating a user/);
  const uidDenied = await hdr(bob, { 'Impersonate-User': 'jane', 'Impersonate-Uid': 'u-1' });
  assert.equal(uidDenied.json.message, 'uids.authentication.k8s.io "u-1" is forbidden: User "bob" cannot impersonate resource "uids" in API group "authentication.k8s.io" at the cluster scope');
  const extraDenied = await hdr(bob, { 'Impersonate-User': 'jane', 'Impersonate-Extra-Scopes': 'view' });
  assert.equal(extraDenied.json.message, 'userextras.authentication.k8s.io "view" is forbidden: User "bob" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope');
  // The admin may: the uid comes through to the impersonated user.
  const withUid = JSON.parse(await s.kubectlOk(['auth', 'whoami', '--as=jane', '--as-uid=u-1', '-o', 'json']));
  assert.equal(withUid.status.userInfo.uid, 'u-1');
  assert.equal(withUid.status.userInfo.username, 'jane');

  // The audit event: the requester is the user, the impersonated one impersonatedUser.
  await s.kubectlOk(['get', 'configmaps', '--as=jane', '--as-group=devs']);
  const events = () => readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  await eventually(async () => events().some((e) => e.impersonatedUser && e.stage === 'ResponseComplete'), 10_000, 'an impersonated audit event');
  const ev = events().find((e) => e.impersonatedUser && e.stage === 'ResponseComplete' && e.responseStatus.code === 200)!;
  assert.equal(ev.user.username, 'system:admin');
  assert.deepEqual(ev.impersonatedUser, { username: 'jane', groups: ['devs', 'system:authenticated'] });
  const denied = events().find((e) => e.stage === 'ResponseComplete' && e.responseStatus.code === 403 && e.user.username === 'bob');
  assert.ok(denied, 'a refused impersonation is audited as the requester');
});
