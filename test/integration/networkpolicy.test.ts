// NetworkPolicy end to end: a real server and agent, pods from the busybox image, policies
// applied with kubectl, and real TCP connections from pod to pod and through a Service
// (`kubectl exec … wget`) telling what the node's nft table lets through.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { agentUnavailable, startServer, type TestServer } from '../helpers/cluster.ts';
import { isReady, podWaiter, TEST_IMAGE } from '../helpers/pods.ts';
import { agentNames } from '../../src/agent/containerd/names.ts';
import { cleanupNetworkPolicy } from '../../src/netpol/index.ts';

const skip = agentUnavailable();
let s: TestServer;
const A = 'np-a';
const B = 'np-b';

before(async () => {
  if (skip) return;
  s = await startServer({ agent: true });
});
after(async () => {
  if (!s) return;
  await s.stop();
  // killall removes the table once the lead wires cleanupNetworkPolicy in; until then, and
  // in case it did not, do it here.
  await cleanupNetworkPolicy(agentNames(path.join(s.dataDir, 'agent'))).catch(() => {});
});

const apply = (yaml: string) => s.kubectlOk(['apply', '-f', '-'], { input: yaml });

function podYaml(ns: string, name: string, labels: Record<string, string>, command: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: ${JSON.stringify(labels)}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${TEST_IMAGE}
    command: [sh, -c, ${JSON.stringify(command)}]
    ports: [{name: web, containerPort: 8080}, {name: alt, containerPort: 9090}]
`;
}

const CLIENTS = [
  { ns: A, name: 'client', labels: { role: 'client' } },
  { ns: A, name: 'other', labels: { role: 'other' } },
  { ns: B, name: 'far', labels: { role: 'client' } },
] as const;
type Matrix = Record<(typeof CLIENTS)[number]['name'], boolean>;
let serverIP = '';

/** One TCP connection + HTTP GET from a client pod to the server pod; 2 s to connect. */
async function reaches(c: (typeof CLIENTS)[number], port: number, host = serverIP): Promise<boolean> {
  // `timeout 2` bounds it: busybox 1.35's own `wget -T` crashes.
  const r = await s.kubectl(['exec', '-n', c.ns, c.name, '--', 'timeout', '2', 'wget', '-q', '-O', '-', `http://${host}:${port}/`]);
  return r.code === 0 && r.stdout === 'hello\n';
}

async function matrix(port: number, host?: string): Promise<Matrix> {
  const res = await Promise.all(CLIENTS.map((c) => reaches(c, port, host)));
  return Object.fromEntries(CLIENTS.map((c, i) => [c.name, res[i]])) as Matrix;
}

/** Polls until the connectivity matrix is the expected one (policies take effect within ms, exec takes longer). */
async function expectMatrix(port: number, want: Matrix, what: string, host?: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let got: Matrix;
  do {
    got = await matrix(port, host);
    if (JSON.stringify(got) === JSON.stringify(want)) return;
  } while (Date.now() < deadline);
  assert.deepEqual(got, want, what);
}

function policy(name: string, spec: string): string {
  return `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: ${A}}
spec:
${spec}`;
}

function hostGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(`http://${serverIP}:${port}/`, (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(b)); });
    req.on('error', reject);
    req.setTimeout(3_000, () => req.destroy(new Error('no answer in 3 s')));
  });
}

test('ingress policies: deny-all, allow by pod label, by namespace, by port, and back to open', { skip, timeout: 120_000 }, async () => {
  await s.kubectlOk(['create', 'namespace', A]);
  await s.kubectlOk(['create', 'namespace', B]);
  await apply([
    podYaml(A, 'server', { app: 'server' }, 'mkdir -p /www && echo hello > /www/index.html && httpd -p 9090 -h /www && exec httpd -f -p 8080 -h /www'),
    ...CLIENTS.map((c) => podYaml(c.ns, c.name, c.labels, 'trap exit TERM; while true; do sleep 1; done')),
  ].join('---\n'));
  const server = await podWaiter(() => s, A).waitPod('server', isReady, 'ready', 60_000);
  serverIP = server.status.podIP;
  for (const c of CLIENTS) await podWaiter(() => s, c.ns).waitPod(c.name, isReady, 'ready', 60_000);

  await expectMatrix(8080, { client: true, other: true, far: true }, 'no policy: everyone connects');
  await s.kubectlOk(['create', 'service', 'clusterip', 'web', '-n', A, '--tcp=80:9090', '--tcp=81:8080']);
  await s.kubectlOk(['set', 'selector', '-n', A, 'service/web', 'app=server']);
  const svcIP = (await s.kubectlOk(['get', 'svc', '-n', A, 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  await expectMatrix(80, { client: true, other: true, far: true }, 'no policy: everyone reaches the Service', svcIP);

  await apply(policy('deny-all', '  podSelector: {}\n  policyTypes: [Ingress]\n'));
  await expectMatrix(8080, { client: false, other: false, far: false }, 'deny-all');
  assert.equal(await hostGet(8080), 'hello\n', 'the node itself (kubelet probes) still gets in');

  await apply(policy('allow-client', `  podSelector: {matchLabels: {app: server}}
  ingress:
  - from:
    - podSelector: {matchLabels: {role: client}}
`));
  await expectMatrix(8080, { client: true, other: false, far: false }, 'role=client of the same namespace only');

  await apply(policy('allow-b', `  podSelector: {matchLabels: {app: server}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${B}}}
`));
  await expectMatrix(8080, { client: true, other: false, far: true }, 'namespaceSelector lets np-b in');
  await s.kubectlOk(['delete', 'networkpolicy', '-n', A, 'allow-b']);

  await apply(policy('allow-client', `  podSelector: {matchLabels: {app: server}}
  ingress:
  - from:
    - podSelector: {matchLabels: {role: client}}
    ports:
    - port: alt
`));
  await expectMatrix(9090, { client: true, other: false, far: false }, 'port 9090 (named alt) for role=client');
  await expectMatrix(8080, { client: false, other: false, far: false }, 'port 8080 closed');
  // The check runs after the service proxy's DNAT: the pod port decides, not the Service port.
  await expectMatrix(80, { client: true, other: false, far: false }, 'Service port 80 → pod 9090', svcIP);
  await expectMatrix(81, { client: false, other: false, far: false }, 'Service port 81 → pod 8080', svcIP);

  await s.kubectlOk(['delete', 'networkpolicy', '-n', A, '--all']);
  await expectMatrix(8080, { client: true, other: true, far: true }, 'policies gone: open again');
});
