// The audit log through the front door: kubectl's requests become audit.k8s.io/v1 Events
// in JSON lines, at the level the policy gives (Metadata hides bodies, Request and
// RequestResponse carry them), with the stages a watch goes through.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, skiff, type TestServer } from '../helpers/cluster.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-audit-'));
const logFile = path.join(dir, 'audit.log');
const policyFile = path.join(dir, 'policy.yaml');
writeFileSync(policyFile, `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Metadata
    resources: [{ group: "", resources: ["secrets"] }]
  - level: RequestResponse
    resources: [{ group: "", resources: ["configmaps"] }]
  - level: Request
    verbs: ["watch"]
    resources: [{ group: "", resources: ["services"] }]
  - level: None
`);

let s: TestServer;
before(async () => { s = await startServer({ args: ['--audit-policy-file', policyFile, '--audit-log-path', logFile] }); });
after(async () => { await s?.stop(); rmSync(dir, { recursive: true, force: true }); });

// The controllers' own requests are audited too, under their identities; these tests follow kubectl's.
const events = (): any[] => readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.user.username === 'system:admin');

async function eventually<T>(fn: () => T | undefined, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('not seen in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('Metadata for secrets: who did what to which object, never the data', async () => {
  await s.kubectlOk(['create', 'secret', 'generic', 'creds', '--from-literal=password=audit-never-logged']);
  const done = await eventually(() => events().find((e) => e.objectRef?.resource === 'secrets' && e.verb === 'create' && e.stage === 'ResponseComplete'));
  assert.equal(done.kind, 'Event');
  assert.equal(done.apiVersion, 'audit.k8s.io/v1');
  assert.equal(done.level, 'Metadata');
  assert.deepEqual(done.objectRef, { resource: 'secrets', namespace: 'default', apiGroup: '', apiVersion: 'v1' });
  assert.equal(done.responseStatus.code, 201);
  assert.equal(done.user.username, 'system:admin');
  assert.ok(done.user.groups.includes('system:masters'));
  assert.match(done.userAgent, /^kubectl/);
  assert.ok(done.sourceIPs.includes('127.0.0.1'));
  assert.match(done.auditID, /^[0-9a-f-]{36}$/);
  const received = events().find((e) => e.auditID === done.auditID && e.stage === 'RequestReceived');
  assert.ok(received, 'RequestReceived comes first, same auditID');
  assert.ok(!readFileSync(logFile, 'utf8').includes(Buffer.from('audit-never-logged').toString('base64')));
});

test('RequestResponse for configmaps: both bodies; failures carry their Status', async () => {
  await s.kubectlOk(['create', 'configmap', 'settings', '--from-literal=color=blue']);
  const done = await eventually(() => events().find((e) => e.objectRef?.resource === 'configmaps' && e.verb === 'create' && e.stage === 'ResponseComplete'));
  assert.equal(done.level, 'RequestResponse');
  assert.equal(done.requestObject.data.color, 'blue');
  assert.equal(done.responseObject.metadata.name, 'settings');
  assert.ok(done.responseObject.metadata.uid);
  await s.kubectl(['get', 'configmap', 'missing']);
  const missing = await eventually(() => events().find((e) => e.objectRef?.name === 'missing' && e.stage === 'ResponseComplete'));
  assert.equal(missing.verb, 'get');
  assert.equal(missing.responseStatus.code, 404);
  assert.equal(missing.responseStatus.reason, 'NotFound');
});

test('a watch goes RequestReceived → ResponseStarted → ResponseComplete; None-level requests are not written', async () => {
  await s.watchEvents('/api/v1/namespaces/default/services?watch=1&timeoutSeconds=1', () => false, 5_000).catch(() => []);
  const stages = await eventually(() => {
    const st = events().filter((e) => e.objectRef?.resource === 'services' && e.verb === 'watch').map((e) => e.stage);
    return st.includes('ResponseComplete') ? st : undefined;
  });
  assert.deepEqual(stages, ['RequestReceived', 'ResponseStarted', 'ResponseComplete']);
  await s.kubectlOk(['get', 'pods']);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(events().filter((e) => e.objectRef?.resource === 'pods').length, 0);
});

test('a bad policy stops the server from starting, with the reason', async () => {
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Everything}]\n');
  const r = await skiff(['server', '--data-dir', path.join(dir, 'bad-data'), '--disable-agent', '--audit-policy-file', bad, '--audit-log-path', logFile]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.yaml: rules\[0\]\.level must be one of None, Metadata, Request, RequestResponse/);
});
