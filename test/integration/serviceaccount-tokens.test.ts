// In-cluster credentials end to end, through kubectl 1.32: `kubectl create token`, the API
// called with that token (and refused with a tampered one), `kubectl auth whoami`, the
// kube-root-ca.crt ConfigMap and the ServiceAccount admission; with an agent, the token
// projected into a pod, read back with `kubectl exec` and used from outside until the pod
// is deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { agentUnavailable, eventually, startServer, type TestServer } from '../helpers/cluster.ts';

const IMAGE = 'skiff.local/busybox:1';

/** A kubeconfig with the cluster's CA and a bearer token only (no client certificate). */
function tokenKubeconfig(s: TestServer, token: string, file: string): string {
  const kc = YAML.parse(readFileSync(s.kubeconfig, 'utf8'));
  const out = {
    apiVersion: 'v1', kind: 'Config', 'current-context': 'sa',
    clusters: [{ name: 'skiff', cluster: kc.clusters[0].cluster }],
    users: [{ name: 'sa', user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: 'skiff', user: 'sa', namespace: 'default' } }],
  };
  const p = path.join(s.dataDir, file);
  writeFileSync(p, YAML.stringify(out), { mode: 0o600 });
  return p;
}

/** Lets the namespace's service accounts read it (the aggregated `view` role, once filled). */
async function grantView(s: TestServer): Promise<void> {
  await s.kubectlOk(['create', 'rolebinding', 'sa-view', '--clusterrole=view', '--group=system:serviceaccounts:default']);
  await eventually(async () => JSON.stringify((await s.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/view')).json.rules ?? []).includes('"pods"'), 10_000, 'view aggregated');
}

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
const withToken = (s: TestServer, token: string, method: string, p: string) =>
  s.request(method, p, { anonymous: true, headers: { Authorization: `Bearer ${token}` } });

test('kubectl create token, the API with it, whoami, a tampered token, TokenRequest validation', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());

  const core = await s.request('GET', '/api/v1');
  const tokenSub = core.json.resources.find((r: any) => r.name === 'serviceaccounts/token');
  assert.deepEqual(tokenSub, { name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });

  await eventually(async () => (await s.request('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200, 10_000, 'default SA');
  const token = (await s.kubectlOk(['create', 'token', 'default'])).trim();
  const claims = claimsOf(token);
  assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
  assert.equal(claims.sub, 'system:serviceaccount:default:default');
  assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
  assert.equal(claims.exp - claims.iat, 3600);

  const kc = tokenKubeconfig(s, token, 'sa.kubeconfig');
  // A service account holds no permissions until bound (RBAC, as in Kubernetes).
  const denied = await s.kubectl(['get', 'pods'], { env: { KUBECONFIG: kc } });
  assert.match(denied.stderr, /User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"/);
  await grantView(s);
  const pods = await s.kubectl(['get', 'pods'], { env: { KUBECONFIG: kc } });
  assert.equal(pods.code, 0, pods.stderr);
  assert.match(pods.stderr + pods.stdout, /No resources found in default namespace/);
  const whoami = await s.kubectl(['auth', 'whoami', '-o', 'json'], { env: { KUBECONFIG: kc } });
  assert.equal(whoami.code, 0, whoami.stderr);
  const review = JSON.parse(whoami.stdout);
  assert.equal(review.kind, 'SelfSubjectReview');
  assert.equal(review.status.userInfo.username, 'system:serviceaccount:default:default');
  assert.deepEqual(review.status.userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
  // The admin, by certificate.
  assert.match(await s.kubectlOk(['auth', 'whoami']), /system:admin/);

  // A tampered token (another account in the payload, the old signature): 401 Status.
  const [h, p, sig] = token.split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:default' })).toString('base64url')}.${sig}`;
  const refused = await withToken(s, forged, 'GET', '/api/v1/namespaces/default/pods');
  assert.equal(refused.status, 401);
  assert.deepEqual(refused.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  const viaKubectl = await s.kubectl(['get', 'pods'], { env: { KUBECONFIG: tokenKubeconfig(s, forged, 'forged.kubeconfig') } });
  assert.notEqual(viaKubectl.code, 0);
  assert.match(viaKubectl.stderr, /Unauthorized|must be logged in/);
  assert.equal((await withToken(s, token, 'GET', '/api/v1/namespaces/default/pods')).status, 200);

  // Another audience is not for this API server.
  const vault = (await s.kubectlOk(['create', 'token', 'default', '--audience', 'vault', '--duration', '20m'])).trim();
  assert.deepEqual(claimsOf(vault).aud, ['vault']);
  assert.equal(claimsOf(vault).exp - claimsOf(vault).iat, 1200);
  assert.equal((await withToken(s, vault, 'GET', '/api/v1/namespaces/default/pods')).status, 401);

  // Deleting the service account revokes its tokens.
  await s.kubectlOk(['create', 'serviceaccount', 'temp']);
  const temp = (await s.kubectlOk(['create', 'token', 'temp'])).trim();
  assert.equal((await withToken(s, temp, 'GET', '/api/v1/namespaces/default/pods')).status, 200);
  await s.kubectlOk(['delete', 'serviceaccount', 'temp']);
  assert.equal((await withToken(s, temp, 'GET', '/api/v1/namespaces/default/pods')).status, 401);

  // Validation, as kube-apiserver answers.
  const short = await s.kubectl(['create', 'token', 'default', '--duration', '5m']);
  assert.notEqual(short.code, 0);
  assert.match(short.stderr, /spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes/);
  const missing = await s.kubectl(['create', 'token', 'nobody']);
  assert.match(missing.stderr, /serviceaccounts "nobody" not found/);
  const noPod = await s.kubectl(['create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'ghost']);
  assert.match(noPod.stderr, /pods "ghost" not found/);
  const bad = await s.request('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', { body: { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', spec: { expirationSeconds: 60 } } });
  assert.equal(bad.status, 422);
  assert.equal(bad.json.reason, 'Invalid');
  const get = await s.request('GET', '/api/v1/namespaces/default/serviceaccounts/default/token');
  assert.equal(get.status, 405);
});

test('kube-root-ca.crt in every namespace, and the ServiceAccount admission on pods', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const ca = YAML.parse(readFileSync(s.kubeconfig, 'utf8')).clusters[0].cluster['certificate-authority-data'];

  // A pod created right after its namespace: `default` appears meanwhile (admission waits for it).
  await s.kubectlOk(['create', 'namespace', 'fresh']);
  await s.kubectlOk(['run', 'p', '-n', 'fresh', '--image', IMAGE, '--restart', 'Never']);
  const pod = (await s.request('GET', '/api/v1/namespaces/fresh/pods/p')).json;
  assert.equal(pod.spec.serviceAccountName, 'default');
  assert.equal(pod.spec.serviceAccount, 'default');
  const vol = pod.spec.volumes.find((v: any) => v.name.startsWith('kube-api-access-'));
  assert.match(vol.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.deepEqual(vol.projected, {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  });
  assert.deepEqual(pod.spec.containers[0].volumeMounts, [{ name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);

  const cm = await eventually(async () => {
    const r = await s.request('GET', '/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt');
    return r.status === 200 && r.json;
  }, 10_000, 'kube-root-ca.crt in fresh');
  assert.equal(cm.data['ca.crt'], Buffer.from(ca, 'base64').toString('utf8'));
  await s.kubectlOk(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'fresh']);
  await eventually(async () => (await s.request('GET', '/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt')).status === 200, 10_000, 'kube-root-ca.crt recreated');

  // Opting out, and an account that does not exist.
  await s.kubectlOk(['run', 'quiet', '--image', IMAGE, '--restart', 'Never', '--overrides', '{"spec":{"automountServiceAccountToken":false}}']);
  const quiet = (await s.request('GET', '/api/v1/namespaces/default/pods/quiet')).json;
  assert.equal(quiet.spec.volumes, undefined);
  const denied = await s.kubectl(['run', 'x', '--image', IMAGE, '--overrides', '{"spec":{"serviceAccountName":"nobody"}}']);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /pods "x" is forbidden: error looking up service account default\/nobody: serviceaccount "nobody" not found/);
});

test('a pod reads its projected token and the API accepts it until the pod is deleted', { skip: agentUnavailable() }, async (t) => {
  const s = await startServer({ agent: true });
  t.after(() => s.stop());
  await eventually(async () => (await s.request('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200, 10_000, 'default SA');
  await s.kubectlOk(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: ${IMAGE}, command: [sh, -c, 'sleep 3600']}
`,
  });
  await eventually(async () => {
    const p = (await s.request('GET', '/api/v1/namespaces/default/pods/client')).json;
    return p.status?.phase === 'Running';
  }, 60_000, 'client running');

  const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
  const ls = await s.kubectlOk(['exec', 'client', '--', 'ls', dir]);
  assert.deepEqual(ls.trim().split(/\s+/).sort(), ['ca.crt', 'namespace', 'token']);
  assert.equal(await s.kubectlOk(['exec', 'client', '--', 'cat', `${dir}/namespace`]), 'default');
  const ca = YAML.parse(readFileSync(s.kubeconfig, 'utf8')).clusters[0].cluster['certificate-authority-data'];
  assert.equal(await s.kubectlOk(['exec', 'client', '--', 'cat', `${dir}/ca.crt`]), Buffer.from(ca, 'base64').toString('utf8'));
  const token = (await s.kubectlOk(['exec', 'client', '--', 'cat', `${dir}/token`])).trim();
  const pod = (await s.request('GET', '/api/v1/namespaces/default/pods/client')).json;
  const claims = claimsOf(token);
  assert.deepEqual(claims['kubernetes.io'].pod, { name: 'client', uid: pod.metadata.uid });
  assert.equal(claims['kubernetes.io'].node.name, s.nodeName);

  await grantView(s);
  const ok = await withToken(s, token, 'GET', '/api/v1/namespaces/default/pods/client');
  assert.equal(ok.status, 200);
  const who = await withToken(s, token, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews');
  assert.equal(who.status, 201);
  assert.equal(who.json.status.userInfo.username, 'system:serviceaccount:default:default');
  assert.deepEqual(who.json.status.userInfo.extra['authentication.kubernetes.io/pod-name'], ['client']);

  await s.kubectlOk(['delete', 'pod', 'client', '--grace-period=0', '--force']);
  await eventually(async () => (await s.request('GET', '/api/v1/namespaces/default/pods/client')).status === 404, 30_000, 'client gone');
  const revoked = await withToken(s, token, 'GET', '/api/v1/namespaces/default/pods');
  assert.equal(revoked.status, 401);
});
