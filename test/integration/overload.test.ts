// Overload protection through the front door: with the write bound reached, a further
// write gets 429 + Retry-After at once, reads and the nodes' own requests still go
// through, watches take no slot, and the held request completes normally afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { startServer, type TestServer } from '../helpers/cluster.ts';
import { HttpClient } from '../../src/client/http.ts';

let s: TestServer;
let agent: https.Agent;
let ca: Buffer;
before(async () => {
  s = await startServer({ args: ['--max-mutating-requests-inflight', '1', '--max-requests-inflight', '2'] });
  const kc = YAML.parse(readFileSync(s.kubeconfig, 'utf8'));
  ca = Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64');
  agent = new https.Agent({
    ca, keepAlive: false,
    cert: Buffer.from(kc.users[0].user['client-certificate-data'], 'base64'),
    key: Buffer.from(kc.users[0].user['client-key-data'], 'base64'),
  });
});
after(async () => { await s?.stop(); });

const cm = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' } });

/** A create whose body is held back: the server has taken its slot once the headers arrived. */
function heldCreate(name: string): { finish(): Promise<{ status: number; body: any }> } {
  const body = cm(name);
  let result!: Promise<{ status: number; body: any }>;
  const req = https.request(`${s.url}/api/v1/namespaces/default/configmaps`, {
    method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
  });
  result = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  return { finish: () => { req.end(body); return result; } };
}

test('writes over the bound get 429 with Retry-After; reads, node requests and watches still pass', async () => {
  const held = heldCreate('held');
  await new Promise((r) => setTimeout(r, 300)); // the headers reach the server and take the slot

  const refused = await s.request('POST', '/api/v1/namespaces/default/configmaps', { rawBody: cm('second'), contentType: 'application/json' });
  assert.equal(refused.status, 429);
  assert.equal(refused.headers['retry-after'], '1');
  assert.equal(refused.json.reason, 'TooManyRequests');
  assert.equal(refused.json.message, 'Too many requests, please try again later.');
  assert.equal(refused.json.details.retryAfterSeconds, 1);

  // kubectl retries a 429 after Retry-After, then reports it; the held slot is still taken.
  const viaKubectl = await s.kubectl(['create', 'configmap', 'third'], { timeoutMs: 30_000 });
  assert.notEqual(viaKubectl.code, 0);
  assert.match(viaKubectl.stderr, /Too many requests|TooManyRequests|try again later/i);

  // Reads have a pool of their own.
  assert.equal((await s.request('GET', '/api/v1/namespaces/default/configmaps')).status, 200);

  // A node (the join token) writes its Lease from its own pool while the writers' pool is full.
  const token = readFileSync(path.join(s.dataDir, 'token'), 'utf8').trim();
  const lease = await new Promise<number>((resolve, reject) => {
    const body = JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'overload-node', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'overload-node', leaseDurationSeconds: 40 } });
    const req = https.request(`${s.url}/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases`, {
      method: 'POST', ca, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(lease, 201);

  // Watches are long-running and take no slot: two open watches leave both read slots free.
  const events = await Promise.all([
    s.watchEvents('/api/v1/namespaces/default/configmaps?watch=1', (e) => e.some((x) => x.object?.metadata?.name === 'held'), 15_000),
    s.watchEvents('/api/v1/namespaces/default/configmaps?watch=1', (e) => e.some((x) => x.object?.metadata?.name === 'held'), 15_000),
    (async () => {
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await s.request('GET', '/api/v1/namespaces/default/configmaps')).status, 200);
      const done = await held.finish();
      assert.equal(done.status, 201, JSON.stringify(done.body));
      return [];
    })(),
  ]);
  assert.ok(events[0].length > 0 && events[1].length > 0);

  // With the slot back, writes go through again.
  assert.equal((await s.request('POST', '/api/v1/namespaces/default/configmaps', { rawBody: cm('after'), contentType: 'application/json' })).status, 201);
});

test('our own client waits out Retry-After and succeeds once the slot is free', async () => {
  const client = HttpClient.fromKubeconfig(s.kubeconfig);
  try {
    const held = heldCreate('held-2');
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const pending = client.resource('', 'v1', 'configmaps').create({ ...JSON.parse(cm('patient')), metadata: { name: 'patient', namespace: 'default' } });
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal((await held.finish()).status, 201);
    const created = await pending;
    assert.equal(created.metadata.name, 'patient');
    assert.ok(Date.now() - started >= 1_000, 'it waited for at least one Retry-After');
  } finally {
    client.close();
  }
});
