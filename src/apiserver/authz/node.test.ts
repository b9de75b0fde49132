// The Node authorizer on a real registry (no HTTP): the pod graph (volumes, projected
// sources, env, envFrom, pull secrets, service account), leases, and no opinion for others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testBed } from '../../controllers/testing.ts';
import { createAuthorization, ensureBootstrapPolicy, requestAttributes } from './index.ts';
import { podReferences } from './node-graph.ts';
import type { UserInfo } from '../authn/types.ts';
import type { KObject } from '../../api/object.ts';

const node = (n: string): UserInfo => ({ name: `system:node:${n}`, groups: ['system:nodes', 'system:authenticated'] });
const decide = async (a: ReturnType<typeof createAuthorization>, user: UserInfo, method: string, path: string, query = '') =>
  a.authz.authorize(requestAttributes(user, method, path, new URLSearchParams(query)));

const pod = (name: string, nodeName: string, spec: Record<string, unknown> = {}): KObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { nodeName, containers: [{ name: 'c', image: 'x' }], ...spec },
});

test('podReferences: every place a pod names a secret, config map, claim or service account', () => {
  const refs = podReferences(pod('p', 'a', {
    serviceAccountName: 'robot',
    imagePullSecrets: [{ name: 'pull' }],
    volumes: [
      { name: 'v1', secret: { secretName: 'vol-secret' } },
      { name: 'v2', configMap: { name: 'vol-cm' } },
      { name: 'v3', persistentVolumeClaim: { claimName: 'data' } },
      { name: 'v4', projected: { sources: [{ secret: { name: 'proj-secret' } }, { configMap: { name: 'kube-root-ca.crt' } }, { serviceAccountToken: { path: 't' } }] } },
    ],
    initContainers: [{ name: 'i', image: 'x', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }] }],
    containers: [{ name: 'c', image: 'x', env: [{ name: 'B', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'k' } } }], envFrom: [{ secretRef: { name: 'from-secret' } }, { configMapRef: { name: 'from-cm' } }] }],
  })).sort();
  assert.deepEqual(refs, [
    'configmap/default/env-cm', 'configmap/default/from-cm', 'configmap/default/kube-root-ca.crt', 'configmap/default/vol-cm',
    'persistentvolumeclaim/default/data', 'pod/default/p',
    'secret/default/env-secret', 'secret/default/from-secret', 'secret/default/proj-secret', 'secret/default/pull', 'secret/default/vol-secret',
    'serviceaccount/default/robot',
  ]);
});

test('nodes reach their own pods and what those use; others get no relationship; non-nodes are RBAC\'s', async (t) => {
  const bed = await testBed();
  const authz = createAuthorization(bed.registry);
  t.after(async () => { authz.stop(); await bed.close(); });
  await ensureBootstrapPolicy(bed.client);
  const pods = bed.client.resource('', 'v1', 'pods');
  await pods.create(pod('pa', 'a', { volumes: [{ name: 's', secret: { secretName: 'sa' } }] }));
  const a = node('a');
  const b = node('b');

  assert.equal((await decide(authz, a, 'GET', '/api/v1/namespaces/default/secrets/sa')).allowed, true);
  const denied = await decide(authz, b, 'GET', '/api/v1/namespaces/default/secrets/sa');
  assert.deepEqual(denied, { allowed: false, reason: "no relationship found between node 'b' and this object" });
  assert.equal((await decide(authz, a, 'GET', '/api/v1/namespaces/default/secrets', 'fieldSelector=metadata.name%3Dsa&watch=1')).allowed, true, 'a watch pinned to the name');
  assert.equal((await decide(authz, a, 'GET', '/api/v1/namespaces/default/secrets')).allowed, false);
  assert.equal((await decide(authz, a, 'PUT', '/api/v1/namespaces/default/secrets/sa')).allowed, false);
  assert.equal((await decide(authz, a, 'PUT', '/api/v1/namespaces/default/pods/pa/status')).allowed, true);
  assert.equal((await decide(authz, b, 'PUT', '/api/v1/namespaces/default/pods/pa/status')).allowed, false);
  assert.equal((await decide(authz, b, 'GET', '/api/v1/pods')).allowed, true, 'list pods for networking');
  assert.equal((await decide(authz, a, 'POST', '/api/v1/namespaces/default/serviceaccounts/default/token')).allowed, true, 'admission gave the pod the default account');
  assert.equal((await decide(authz, b, 'POST', '/api/v1/namespaces/default/serviceaccounts/default/token')).allowed, false);

  // Moving a pod moves its edges; deleting it removes them.
  await pods.delete('default', 'pa', { gracePeriodSeconds: 0 });
  assert.equal((await decide(authz, a, 'GET', '/api/v1/namespaces/default/secrets/sa')).allowed, false);

  // Leases: own name in kube-node-lease.
  assert.equal((await decide(authz, a, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/a')).allowed, true);
  assert.equal((await decide(authz, a, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/b')).reason, 'can only access node lease with the same name as the requesting node');
  assert.equal((await decide(authz, a, 'GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/a')).reason, 'can only access leases in the kube-node-lease namespace');
  // Discovery and self reviews still come from RBAC.
  assert.equal((await decide(authz, a, 'GET', '/apis')).allowed, true);
  assert.equal((await decide(authz, a, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')).allowed, true);
  assert.equal((await decide(authz, a, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests')).allowed, true);
  // A user named like a node but not in system:nodes is not a node.
  assert.equal((await decide(authz, { name: 'system:node:a', groups: ['system:authenticated'] }, 'GET', '/api/v1/pods')).allowed, false);
});
