// Node identity through the doors users and agents use: an agent trades the join token for
// a `system:node:<name>` certificate (CSR auto-approved and signed, visible in `kubectl get
// csr`); `kubectl certificate approve|deny` for other requests; and a node's credentials
// reach only its own objects (Node authorizer + NodeRestriction), in Kubernetes' words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { agentUnavailable, eventually, startServer, type TestServer } from '../helpers/cluster.ts';
import { asUser, certificateUser, type TestUser } from '../helpers/users.ts';
import { ensureNodeCredentials } from '../../src/agent/credentials.ts';
import { createKeyAndRequest } from '../../src/apiserver/certificates/x509.ts';
import { createCertificateAuthority, issueClientCertificate } from '../../src/apiserver/pki/issue-certificates.ts';
import { ensureAgentServingCert } from '../../src/agent/server/serving-cert.ts';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

const CERTS = 'certificates.k8s.io/v1';
const b64 = (s: string) => Buffer.from(s).toString('base64');

function caPem(s: TestServer): string {
  return readFileSync(path.join(s.dataDir, 'tls', 'ca.crt'), 'utf8');
}

async function csrRow(s: TestServer, name: string): Promise<string> {
  const out = await s.kubectlOk(['get', 'csr', name, '--no-headers']);
  return out.trim();
}

test('an agent trades the join token for a system:node certificate; kubectl certificate approve/deny', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const token = readFileSync(path.join(s.dataDir, 'token'), 'utf8').trim();
  const agentDir = path.join(s.dataDir, 'fake-agent');

  const creds = await ensureNodeCredentials({ server: s.url, caPem: caPem(s), token, agentDir, nodeName: 'n1', timeoutMs: 60_000 });
  assert.equal(creds.renewed, true);
  const cert = new X509Certificate(creds.certPem);
  assert.deepEqual(cert.subject.split('\n').sort(), ['CN=system:node:n1', 'O=system:nodes']);
  assert.ok(cert.checkIssued(new X509Certificate(caPem(s))));
  assert.equal(statSync(creds.keyPath).mode & 0o777, 0o600);
  assert.equal(statSync(creds.certPath).mode & 0o777, 0o600);
  // kubectl get csr: approved and issued, requested by the join token's user for the kubelet client signer.
  const list = await s.kubectlOk(['get', 'csr', '--no-headers']);
  const row = list.split('\n').find((l) => l.includes('kube-apiserver-client-kubelet'));
  const bySigner = JSON.parse(await s.kubectlOk(['get', 'csr', '--field-selector', 'spec.signerName=kubernetes.io/kube-apiserver-client-kubelet', '-o', 'json']));
  assert.equal(bySigner.items.length, 1);
  assert.ok(row, list);
  assert.match(row!, /system:skiff:join/);
  assert.match(row!, /Approved,Issued/);
  // A second start reuses the stored certificate.
  const again = await ensureNodeCredentials({ server: s.url, caPem: caPem(s), token, agentDir, nodeName: 'n1' });
  assert.equal(again.renewed, false);
  assert.equal(again.certPem, creds.certPem);
  // The certificate works: the API knows the caller as the node.
  const node = asUser(s, 'n1', { 'client-certificate-data': b64(creds.certPem), 'client-key-data': b64(creds.keyPem) });
  t.after(() => node.close());
  const who = await node.kubectl(['auth', 'whoami', '-o', 'json']);
  assert.equal(who.code, 0, who.stderr);
  assert.equal(JSON.parse(who.stdout).status.userInfo.username, 'system:node:n1');

  // A request nobody auto-approves: pending until `kubectl certificate approve`.
  const jane = await createKeyAndRequest({ commonName: 'jane', organizations: ['devs'] });
  const doc = (name: string) => JSON.stringify({
    apiVersion: CERTS, kind: 'CertificateSigningRequest', metadata: { name },
    spec: { request: b64(jane.requestPem), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['digital signature', 'client auth'], expirationSeconds: 3600 },
  });
  await s.kubectlOk(['create', '-f', '-'], { input: doc('jane') });
  assert.match(await csrRow(s, 'jane'), /kubernetes\.io\/kube-apiserver-client\s+system:admin\s+60m\s+Pending$/);
  assert.match(await s.kubectlOk(['certificate', 'approve', 'jane']), /certificatesigningrequest.certificates.k8s.io\/jane approved/);
  const issued = await eventually(async () => {
    const got = JSON.parse(await s.kubectlOk(['get', 'csr', 'jane', '-o', 'json']));
    return got.status.certificate as string | undefined;
  }, 30_000, 'jane certificate');
  assert.match(await csrRow(s, 'jane'), /Approved,Issued$/);
  const janeCert = new X509Certificate(Buffer.from(issued, 'base64'));
  assert.ok(Date.parse(janeCert.validTo) - Date.now() <= 3600_000);
  const janeUser = asUser(s, 'jane', { 'client-certificate-data': issued, 'client-key-data': b64(jane.keyPem) });
  t.after(() => janeUser.close());
  const pods = await janeUser.kubectl(['get', 'pods']);
  assert.match(pods.stderr, /User "jane" cannot list resource "pods" in API group "" in the namespace "default"/);

  await s.kubectlOk(['create', '-f', '-'], { input: doc('jane2') });
  assert.match(await s.kubectlOk(['certificate', 'deny', 'jane2']), /jane2 denied/);
  assert.match(await csrRow(s, 'jane2'), /Denied$/);
  const approveDenied = await s.kubectl(['certificate', 'approve', 'jane2']);
  assert.notEqual(approveDenied.code, 0);

  // Validation: 422 with a cause per field.
  const bad = await s.request('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', {
    body: { apiVersion: CERTS, kind: 'CertificateSigningRequest', metadata: { name: 'bad' }, spec: { request: b64('not pem'), signerName: 'nodomain', usages: ['client auth', 'flying'] } },
  });
  assert.equal(bad.status, 422, bad.text);
  const fields = bad.json.details.causes.map((c: { field: string }) => c.field).sort();
  assert.deepEqual(fields, ['spec.request', 'spec.signerName', 'spec.usages[1]']);
  assert.match(bad.json.message, /PEM block type must be CERTIFICATE REQUEST/);

  // The join token may not approve its own requests.
  const joiner = asUser(s, 'joiner', { token });
  t.after(() => joiner.close());
  await s.kubectlOk(['create', '-f', '-'], { input: doc('jane3') });
  const self = await joiner.kubectl(['certificate', 'approve', 'jane3']);
  assert.match(self.stderr, /certificatesigningrequests.certificates.k8s.io "jane3" is forbidden: User "system:skiff:join" cannot update resource "certificatesigningrequests\/approval"/);
  assert.match(await csrRow(s, 'jane3'), /Pending$/);
});

test('a node reaches only its own objects (Node authorizer + NodeRestriction); forged certificates get 401', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const a = await certificateUser(s, 'system:node:a', ['system:nodes']);
  const b = await certificateUser(s, 'system:node:b', ['system:nodes']);
  t.after(() => { a.close(); b.close(); });

  const pod = (name: string, node: string, secret: string, cm: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'x' },
    spec: {
      nodeName: node,
      containers: [{ name: 'c', image: 'skiff.local/busybox:1', envFrom: [{ configMapRef: { name: cm } }] }],
      volumes: [{ name: 's', secret: { secretName: secret } }],
    },
  });
  const docs = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'a' } },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'b' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sa', namespace: 'x' }, stringData: { k: 'a' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sb', namespace: 'x' }, stringData: { k: 'b' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca', namespace: 'x' }, data: { k: 'a' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cb', namespace: 'x' }, data: { k: 'b' } },
  ];
  await s.kubectlOk(['apply', '-f', '-'], { input: docs.map((d) => JSON.stringify(d)).join('\n') });
  await s.kubectlOk(['apply', '-f', '-'], { input: [pod('pa', 'a', 'sa', 'ca'), pod('pb', 'b', 'sb', 'cb')].map((d) => JSON.stringify(d)).join('\n') });

  // Secrets and ConfigMaps: only those a pod bound to the node uses.
  assert.equal((await a.request('GET', '/api/v1/namespaces/x/secrets/sa')).status, 200);
  assert.equal((await a.request('GET', '/api/v1/namespaces/x/configmaps/ca')).status, 200);
  const other = await a.request('GET', '/api/v1/namespaces/x/secrets/sb');
  assert.equal(other.status, 403);
  assert.equal(other.json.message, 'secrets "sb" is forbidden: User "system:node:a" cannot get resource "secrets" in API group "" in the namespace "x": no relationship found between node \'a\' and this object');
  assert.equal((await b.request('GET', '/api/v1/namespaces/x/secrets/sb')).status, 200);
  assert.equal((await a.request('GET', '/api/v1/namespaces/x/configmaps/cb')).status, 403);
  const list = await a.request('GET', '/api/v1/namespaces/x/secrets');
  assert.equal(list.status, 403);
  assert.match(list.json.message, /cannot list resource "secrets" .*: No Object name found$/);
  assert.equal((await a.request('GET', '/api/v1/secrets')).status, 403);
  // A pod bound a moment ago brings its secret with it.
  await s.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(pod('pa2', 'a', 'sb', 'cb')) });
  assert.equal((await a.request('GET', '/api/v1/namespaces/x/secrets/sb')).status, 200);
  await s.kubectlOk(['delete', 'pod', '-n', 'x', 'pa2', '--grace-period=0', '--force', '--wait=false']);
  await eventually(async () => (await a.request('GET', '/api/v1/namespaces/x/secrets/sb')).status === 403, 15_000, 'access gone with the pod');

  // Pods: list and watch for everyone's networking; get and status only for its own.
  assert.equal((await a.request('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Da')).status, 200);
  assert.equal((await a.request('GET', '/api/v1/namespaces/x/pods/pa')).status, 200);
  assert.equal((await a.request('GET', '/api/v1/namespaces/x/pods/pb')).status, 403);
  const pa = (await a.request('GET', '/api/v1/namespaces/x/pods/pa')).json;
  assert.equal((await a.request('PUT', '/api/v1/namespaces/x/pods/pa/status', { ...pa, status: { ...pa.status, phase: 'Running' } })).status, 200);
  const pb = (await b.request('GET', '/api/v1/namespaces/x/pods/pb')).json;
  const st = await a.request('PUT', '/api/v1/namespaces/x/pods/pb/status', { ...pb, status: { ...pb.status, phase: 'Failed' } });
  assert.equal(st.status, 403);
  assert.match(st.json.message, /User "system:node:a" cannot update resource "pods\/status" .*no relationship found between node 'a' and this object/);
  assert.equal((await a.request('DELETE', '/api/v1/namespaces/x/pods/pb')).status, 403);
  const mk = await a.request('POST', '/api/v1/namespaces/x/pods', pod('sneaky', 'a', 'sb', 'cb'));
  assert.equal(mk.status, 403);
  assert.match(mk.json.message, /node "a" can only create mirror pods/);

  // Nodes: its own only, and not the node-restriction.kubernetes.io/ labels.
  assert.match((await a.kubectl(['get', 'nodes'])).stdout, /\ba\b[\s\S]*\bb\b/);
  await a.kubectl(['label', 'node', 'a', 'mine=yes']).then((r) => assert.equal(r.code, 0, r.stderr));
  const patchB = await a.kubectl(['label', 'node', 'b', 'mine=yes']);
  assert.match(patchB.stderr, /nodes "b" is forbidden: node "a" is not allowed to modify node "b"/);
  const restricted = await a.kubectl(['label', 'node', 'a', 'node-restriction.kubernetes.io/pool=gold']);
  assert.match(restricted.stderr, /nodes "a" is forbidden: node "a" is not allowed to modify labels: node-restriction.kubernetes.io\/pool/);
  const statusB = await a.kubectl(['patch', 'node', 'b', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"}}']);
  assert.match(statusB.stderr, /not allowed to modify node "b"/);
  const createC = await a.request('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'c' } });
  assert.equal(createC.status, 403);
  assert.equal((await a.request('DELETE', '/api/v1/nodes/b')).status, 403);

  // Leases: its own in kube-node-lease.
  const lease = (name: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40 } });
  assert.equal((await a.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('a'))).status, 201);
  assert.equal((await b.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('b'))).status, 201);
  const leaseB = await a.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/b');
  assert.equal(leaseB.status, 403);
  assert.match(leaseB.json.message, /can only access node lease with the same name as the requesting node/);
  assert.equal((await a.request('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/b', lease('b'))).status, 403);
  const stealB = await a.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('b2'));
  assert.equal(stealB.status, 403);

  // Serving certificates: a node gets one for its own name and free addresses only.
  await s.kubectlOk(['patch', 'node', 'b', '--subresource=status', '--type=merge', '-p', '{"status":{"addresses":[{"type":"InternalIP","address":"10.9.9.9"}]}}']);
  const serving = async (name: string, cn: string, ip: string) => {
    const { requestPem } = await createKeyAndRequest({ commonName: cn, organizations: ['system:nodes'], dnsNames: [cn.slice('system:node:'.length)], ipAddresses: [ip] });
    const r = await a.request('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', {
      apiVersion: CERTS, kind: 'CertificateSigningRequest', metadata: { name },
      spec: { request: b64(requestPem), signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'] },
    });
    assert.equal(r.status, 201, r.text);
  };
  await serving('a-own', 'system:node:a', '10.9.9.8');
  await serving('a-takes-b-ip', 'system:node:a', '10.9.9.9');
  await serving('a-as-b', 'system:node:b', '10.9.9.7');
  await eventually(async () => /Approved,Issued$/.test(await csrRow(s, 'a-own')), 30_000, 'own serving certificate issued');
  assert.match(await csrRow(s, 'a-own'), /kubernetes\.io\/kubelet-serving\s+system:node:a\s+<none>\s+Approved,Issued$/);
  assert.match(await csrRow(s, 'a-takes-b-ip'), /Pending$/);
  assert.match(await csrRow(s, 'a-as-b'), /Pending$/);

  // Everything else: RBAC, which grants nodes nothing.
  assert.equal((await a.request('GET', '/apis/apps/v1/deployments')).status, 403);
  assert.equal((await a.request('POST', '/api/v1/namespaces/x/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n' } })).status, 403);

  // A certificate from another CA is nobody.
  const otherCa = await createCertificateAuthority(new Date());
  const forged = await issueClientCertificate(otherCa, 'system:node:a', ['system:nodes'], new Date());
  const f: TestUser = asUser(s, 'forged', { 'client-certificate-data': b64(forged.certPem), 'client-key-data': b64(forged.keyPem) });
  t.after(() => f.close());
  const r = await f.request('GET', '/api/v1/namespaces/x/secrets/sa');
  assert.equal(r.status, 401);
});

test('a real agent works as system:node:<name> with the certificate it was issued at join', { skip: agentUnavailable() }, async (t) => {
  const s = await startServer({ agent: true });
  t.after(() => s.stop());
  const nodeName = await eventually(async () => {
    const out = (await s.kubectl(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
    return out || undefined;
  }, 120_000, 'the node registers');
  const crt = path.join(s.dataDir, 'agent', 'tls', 'client-kubelet.crt');
  const key = path.join(s.dataDir, 'agent', 'tls', 'client-kubelet.key');
  const cert = new X509Certificate(readFileSync(crt));
  assert.deepEqual(cert.subject.split('\n').sort(), [`CN=system:node:${nodeName}`, 'O=system:nodes']);
  assert.equal(statSync(key).mode & 0o777, 0o600);
  const csrs = await s.kubectlOk(['get', 'csr', '--no-headers']);
  assert.match(csrs, /kubernetes\.io\/kube-apiserver-client-kubelet\s+system:skiff:join\s+<none>\s+Approved,Issued/);
  // Its serving certificate too: asked for as the node, signed by the cluster CA for its name.
  assert.match(csrs, new RegExp(`kubernetes\\.io/kubelet-serving\\s+system:node:${nodeName}\\s+<none>\\s+Approved,Issued`));
  const serving = new X509Certificate(readFileSync(path.join(s.dataDir, 'agent', 'tls', 'kubelet-serving.crt')));
  assert.ok(serving.checkIssued(new X509Certificate(caPem(s))));
  assert.match(serving.subjectAltName ?? '', new RegExp(`DNS:${nodeName}`));
  // The node's own credentials: its pods' secrets yes, others no.
  const node = asUser(s, 'agent-node', { 'client-certificate-data': b64(readFileSync(crt, 'utf8')), 'client-key-data': b64(readFileSync(key, 'utf8')) });
  t.after(() => node.close());
  await s.kubectlOk(['create', 'secret', 'generic', 'unused', '--from-literal=k=v']);
  const r = await node.request('GET', '/api/v1/namespaces/default/secrets/unused');
  assert.equal(r.status, 403);
  assert.match(r.json.message, new RegExp(`User "system:node:${nodeName}" cannot get resource "secrets".*no relationship found`));
  // The agent itself keeps the node Ready with those credentials, and the API server reaches
  // it (verifying its certificate) for metrics.
  await eventually(async () => /True/.test((await s.kubectl(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout), 120_000, 'node Ready');
  await eventually(async () => (await s.kubectl(['top', 'node', nodeName])).code === 0, 120_000, 'kubectl top node (the API server scrapes the agent over verified TLS)');
});

test('the API server verifies the agent it calls: an impostor with a self-signed certificate gets nothing', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const tls = await ensureAgentServingCert(path.join(s.dataDir, 'impostor'), 'impostor', ['127.0.0.1']);
  let calls = 0;
  const impostor = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => { calls++; res.end('stolen'); });
  await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { impostor.closeAllConnections(); impostor.close(() => r()); }));
  const port = (impostor.address() as AddressInfo).port;
  await s.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'impostor' } }) });
  await s.kubectlOk(['patch', 'node', 'impostor', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } })]);
  await s.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'victim', namespace: 'default' },
    spec: { nodeName: 'impostor', containers: [{ name: 'c', image: 'skiff.local/busybox:1' }] },
  }) });
  await s.kubectlOk(['patch', 'pod', 'victim', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'skiff.local/busybox:1', imageID: '', state: { running: { startedAt: new Date().toISOString() } } }] } })]);
  const logs = await s.kubectl(['logs', 'victim']);
  assert.notEqual(logs.code, 0);
  assert.match(logs.stderr, /certificate/i);
  assert.equal(calls, 0, 'no request reached the impostor');
});
