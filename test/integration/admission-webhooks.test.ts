// Dynamic admission webhooks through kubectl, with real HTTPS webhook servers in this
// process (their own CA, given to the API server as caBundle): a validating webhook that
// denies pods by label, a mutating one that adds a label by JSONPatch, namespace and object
// selectors, failurePolicy Fail/Ignore for a webhook that is down or too slow, reinvocation,
// an untrusted certificate, a webhook reached through a Service, and invalid configurations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startServer, type TestServer } from '../helpers/cluster.ts';
import { createCertificateAuthority, issueServingCertificate } from '../../src/apiserver/pki/issue-certificates.ts';

let s: TestServer;
let hookServer: https.Server;
let hookPort = 0;
let caBundle = '';
let otherCaBundle = '';
let closedPort = 0;
/** Every AdmissionReview request the webhook server received, by path. */
const received: Record<string, any[]> = {};
const pending = new Set<NodeJS.Timeout>();

type Review = { request: any };
const allow = (req: any, extra: object = {}) => ({ uid: req.uid, allowed: true, ...extra });
const jsonPatch = (ops: object[]) => ({ patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') });
const addLabel = (obj: any, key: string, value: string) => (obj.metadata.labels
  ? { op: 'add', path: `/metadata/labels/${key}`, value }
  : { op: 'add', path: '/metadata/labels', value: { [key]: value } });

/** What each webhook path answers. */
const HANDLERS: Record<string, (r: Review) => object | Promise<object>> = {
  '/deny-label': ({ request }) => (request.object?.metadata?.labels?.deny === 'true'
    ? { uid: request.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: 'pods labelled deny=true are not welcome' } }
    : allow(request, { warnings: ['checked by deny-label'] })),
  '/add-label': ({ request }) => allow(request, jsonPatch([addLabel(request.object, 'mutated', 'yes')])),
  // Reinvocation: records what it saw of label b, which the next configuration's webhook adds.
  '/see-b': ({ request }) => {
    const seen = request.object.metadata.labels?.b ?? 'none';
    const ann = request.object.metadata.annotations;
    return allow(request, jsonPatch([ann ? { op: 'add', path: '/metadata/annotations/seen-b', value: seen } : { op: 'add', path: '/metadata/annotations', value: { 'seen-b': seen } }]));
  },
  '/add-b': ({ request }) => allow(request, request.object.metadata.labels?.b ? {} : jsonPatch([addLabel(request.object, 'b', '1')])),
  '/slow': ({ request }) => new Promise((resolve) => {
    const t = setTimeout(() => { pending.delete(t); resolve(allow(request)); }, 2500);
    pending.add(t);
  }),
  '/wrong-uid': () => ({ uid: 'not-the-request', allowed: true }),
  '/guard-connect': ({ request }) => (request.object?.command?.includes('rm')
    ? { uid: request.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: 'no rm in this namespace' } }
    : allow(request)),
  '/cap-scale': ({ request }) => (request.object?.spec?.replicas > 5
    ? { uid: request.uid, allowed: false, status: { code: 422, reason: 'Invalid', message: `at most 5 replicas, not ${request.object.spec.replicas}` } }
    : allow(request)),
  '/see-deployments': ({ request }) => allow(request),
  '/protect': ({ request }) => (request.oldObject?.metadata?.labels?.protected === 'true'
    ? { uid: request.uid, allowed: false, status: { message: `${request.name} is protected` } }
    : allow(request)),
};

function serve(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Review;
    const servername = (req.socket as import('node:tls').TLSSocket).servername;
    (received[path] ??= []).push({ ...review, query: new URL(req.url ?? '/', 'https://x').search, servername });
    const handler = HANDLERS[path];
    if (!handler) { res.writeHead(404).end(); return; }
    const response = await handler(review);
    if (res.destroyed) return;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
  });
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

before(async () => {
  const now = new Date();
  const ca = await createCertificateAuthority(now);
  const serving = await issueServingCertificate(ca, { dns: ['hooks.webhook-system.svc'], ips: ['127.0.0.1'] }, now);
  caBundle = Buffer.from(ca.certPem).toString('base64');
  otherCaBundle = Buffer.from((await createCertificateAuthority(now)).certPem).toString('base64');
  hookServer = https.createServer({ key: serving.keyPem, cert: serving.certPem }, serve);
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  hookPort = (hookServer.address() as net.AddressInfo).port;
  closedPort = await freePort();
  s = await startServer();
});

after(async () => {
  for (const t of pending) clearTimeout(t);
  hookServer?.closeAllConnections();
  await new Promise<void>((r) => (hookServer ? hookServer.close(() => r()) : r()));
  await s?.stop();
});

interface HookOpts {
  path?: string;
  url?: string;
  service?: object;
  ca?: string;
  ns: string;
  objectSelector?: object;
  failurePolicy?: string;
  timeoutSeconds?: number;
  reinvocationPolicy?: string;
  operations?: string[];
}

function webhook(name: string, o: HookOpts, mutating: boolean): object {
  return {
    name,
    clientConfig: { ...(o.service ? { service: o.service } : { url: o.url ?? `https://127.0.0.1:${hookPort}${o.path}` }), caBundle: o.ca ?? caBundle },
    rules: [{ operations: o.operations ?? ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
    namespaceSelector: { matchLabels: { 'webhook-test': o.ns } },
    ...(o.objectSelector ? { objectSelector: o.objectSelector } : {}),
    ...(o.failurePolicy ? { failurePolicy: o.failurePolicy } : {}),
    ...(o.timeoutSeconds ? { timeoutSeconds: o.timeoutSeconds } : {}),
    ...(mutating && o.reinvocationPolicy ? { reinvocationPolicy: o.reinvocationPolicy } : {}),
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
  };
}

async function configure(kind: 'Mutating' | 'Validating', name: string, hooks: [string, HookOpts][]): Promise<void> {
  const cfg = {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: `${kind}WebhookConfiguration`, metadata: { name },
    webhooks: hooks.map(([n, o]) => webhook(n, o, kind === 'Mutating')),
  };
  await s.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(cfg) });
}

async function namespace(name: string): Promise<void> {
  await s.kubectlOk(['create', 'namespace', name]);
  await s.kubectlOk(['label', 'namespace', name, `webhook-test=${name}`]);
}

/** The configuration reaches the API server's cache within moments: retry the first check. */
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const run = (name: string, ns: string, labels?: string) =>
  s.kubectl(['run', name, '-n', ns, '--image=busybox', '--restart=Never', ...(labels ? [`--labels=${labels}`] : [])]);

test('the configuration kinds are served: discovery, create, get with a WEBHOOKS column', async () => {
  const resources = await s.kubectlOk(['api-resources', '--api-group=admissionregistration.k8s.io', '-o', 'name']);
  assert.match(resources, /^mutatingwebhookconfigurations\.admissionregistration\.k8s\.io$/m);
  assert.match(resources, /^validatingwebhookconfigurations\.admissionregistration\.k8s\.io$/m);
  await configure('Validating', 'listed', [['one.skiff.test', { path: '/deny-label', ns: 'nowhere' }], ['two.skiff.test', { path: '/deny-label', ns: 'nowhere' }]]);
  const table = await s.kubectlOk(['get', 'validatingwebhookconfigurations', 'listed']);
  assert.match(table, /^NAME\s+WEBHOOKS\s+AGE$/m);
  assert.match(table, /^listed\s+2\s+\d+s$/m);
  const got = JSON.parse(await s.kubectlOk(['get', 'validatingwebhookconfiguration', 'listed', '-o', 'json']));
  // Defaults, as kube-apiserver fills them in.
  assert.equal(got.webhooks[0].failurePolicy, 'Fail');
  assert.equal(got.webhooks[0].matchPolicy, 'Equivalent');
  assert.equal(got.webhooks[0].timeoutSeconds, 10);
  assert.deepEqual(got.webhooks[0].objectSelector, {});
  await s.kubectlOk(['delete', 'validatingwebhookconfiguration', 'listed']);
});

test('a validating webhook denies pods with a label, allows others, and sees who asked', async () => {
  await namespace('vdeny');
  await s.kubectlOk(['create', 'namespace', 'vopen']);
  await configure('Validating', 'deny-label', [['deny.skiff.test', { path: '/deny-label', ns: 'vdeny' }]]);
  const denied = await eventually(() => run('bad', 'vdeny', 'deny=true'), (r) => r.code !== 0);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /Error from server \(Forbidden\): admission webhook "deny\.skiff\.test" denied the request: pods labelled deny=true are not welcome/);
  assert.equal((await s.kubectl(['get', 'pod', 'bad', '-n', 'vdeny'])).code, 1);

  const good = await run('good', 'vdeny', 'app=ok');
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stderr, /Warning: checked by deny-label/);

  // What the webhook was sent.
  const review = received['/deny-label'].find((r) => r.request.name === 'good');
  assert.equal(review.apiVersion, 'admission.k8s.io/v1');
  assert.equal(review.query, '?timeout=10s');
  assert.equal(review.request.operation, 'CREATE');
  assert.deepEqual(review.request.kind, { group: '', version: 'v1', kind: 'Pod' });
  assert.deepEqual(review.request.resource, { group: '', version: 'v1', resource: 'pods' });
  assert.equal(review.request.namespace, 'vdeny');
  assert.equal(review.request.userInfo.username, 'system:admin');
  assert.ok(review.request.userInfo.groups.includes('system:masters'));
  assert.equal(review.request.object.metadata.labels.app, 'ok');
  assert.equal(review.request.oldObject, null);
  assert.equal(review.request.dryRun, false);
  assert.equal(review.request.options.kind, 'CreateOptions');

  // Updates are checked too, with the old object alongside.
  const relabel = await s.kubectl(['label', 'pod', 'good', '-n', 'vdeny', 'deny=true']);
  assert.notEqual(relabel.code, 0);
  assert.match(relabel.stderr, /admission webhook "deny\.skiff\.test" denied the request/);
  const update = received['/deny-label'].at(-1);
  assert.equal(update.request.operation, 'UPDATE');
  assert.equal(update.request.oldObject.metadata.labels.deny, undefined);

  // Server-side dry run goes to the webhook (sideEffects None) with dryRun set.
  const dry = await s.kubectl(['run', 'dry', '-n', 'vdeny', '--image=busybox', '--labels=deny=true', '--dry-run=server']);
  assert.notEqual(dry.code, 0);
  assert.equal(received['/deny-label'].at(-1).request.dryRun, true);

  // The namespaceSelector scopes it: the same pod elsewhere is fine.
  const elsewhere = await run('bad', 'vopen', 'deny=true');
  assert.equal(elsewhere.code, 0, elsewhere.stderr);
  await s.kubectlOk(['delete', 'validatingwebhookconfiguration', 'deny-label']);
});

test('a mutating webhook adds a label by JSONPatch, scoped by its objectSelector', async () => {
  await namespace('mutate');
  await configure('Mutating', 'add-label', [['add.skiff.test', {
    path: '/add-label', ns: 'mutate', objectSelector: { matchExpressions: [{ key: 'skip-mutation', operator: 'DoesNotExist' }] },
  }]]);
  const labelsOf = async (name: string) => JSON.parse(await s.kubectlOk(['get', 'pod', name, '-n', 'mutate', '-o', 'json'])).metadata.labels;
  let i = 0;
  const created = await eventually(async () => {
    const name = `plain-${i++}`;
    await s.kubectlOk(['run', name, '-n', 'mutate', '--image=busybox', '--restart=Never']);
    return labelsOf(name);
  }, (l) => l?.mutated === 'yes');
  assert.equal(created.mutated, 'yes');
  assert.equal(created.run, `plain-${i - 1}`);
  const skipped = await run('skipped', 'mutate', 'skip-mutation=true');
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.deepEqual(await labelsOf('skipped'), { 'skip-mutation': 'true' });
  await s.kubectlOk(['delete', 'mutatingwebhookconfiguration', 'add-label']);
});

test('reinvocation: an IfNeeded webhook runs again when a later webhook changed the object', async () => {
  await namespace('reinvoke');
  await configure('Mutating', 'a-see-b', [['see.skiff.test', { path: '/see-b', ns: 'reinvoke', reinvocationPolicy: 'IfNeeded' }]]);
  await configure('Mutating', 'b-add-b', [['add-b.skiff.test', { path: '/add-b', ns: 'reinvoke' }]]);
  const before = received['/see-b']?.length ?? 0;
  const annotationOf = async (name: string) => JSON.parse(await s.kubectlOk(['get', 'pod', name, '-n', 'reinvoke', '-o', 'json'])).metadata;
  let i = 0;
  const meta = await eventually(async () => {
    const name = `p-${i++}`;
    await s.kubectlOk(['run', name, '-n', 'reinvoke', '--image=busybox', '--restart=Never']);
    return annotationOf(name);
  }, (m) => m.labels?.b === '1' && m.annotations?.['seen-b'] !== undefined);
  assert.equal(meta.labels.b, '1');
  // The first call saw no b; the second (reinvoked) call saw b=1 and recorded it.
  assert.equal(meta.annotations['seen-b'], '1');
  const calls = received['/see-b'].slice(before).filter((r) => r.request.name === `p-${i - 1}`);
  assert.equal(calls.length, 2);

  // With reinvocationPolicy Never, the first answer stands.
  await configure('Mutating', 'a-see-b', [['see.skiff.test', { path: '/see-b', ns: 'reinvoke', reinvocationPolicy: 'Never' }]]);
  const never = await eventually(async () => {
    const name = `q-${i++}`;
    await s.kubectlOk(['run', name, '-n', 'reinvoke', '--image=busybox', '--restart=Never']);
    return annotationOf(name);
  }, (m) => m.annotations?.['seen-b'] === 'none');
  assert.equal(never.annotations['seen-b'], 'none');
  assert.equal(never.labels.b, '1');
  await s.kubectlOk(['delete', 'mutatingwebhookconfiguration', 'a-see-b', 'b-add-b']);
});

test('failurePolicy: a webhook that is down or too slow fails the request, unless Ignore', async () => {
  await namespace('failing');
  await configure('Validating', 'down', [['down.skiff.test', { url: `https://127.0.0.1:${closedPort}/`, ns: 'failing' }]]);
  const down = await eventually(() => run('p1', 'failing'), (r) => r.code !== 0);
  assert.notEqual(down.code, 0);
  assert.match(down.stderr, new RegExp(`Error from server \\(InternalError\\): Internal error occurred: failed calling webhook "down\\.skiff\\.test": failed to call webhook: Post "https://127\\.0\\.0\\.1:${closedPort}/\\?timeout=10s": dial tcp 127\\.0\\.0\\.1:${closedPort}: connect: connection refused`));

  await configure('Validating', 'down', [['down.skiff.test', { url: `https://127.0.0.1:${closedPort}/`, ns: 'failing', failurePolicy: 'Ignore' }]]);
  const ignored = await eventually(() => run('p2', 'failing'), (r) => r.code === 0);
  assert.equal(ignored.code, 0, ignored.stderr);

  await configure('Validating', 'down', [['slow.skiff.test', { path: '/slow', ns: 'failing', timeoutSeconds: 1 }]]);
  let started = Date.now();
  const slow = await eventually(() => { started = Date.now(); return run('p3', 'failing'); }, (r) => /slow\.skiff\.test/.test(r.stderr));
  assert.notEqual(slow.code, 0);
  assert.match(slow.stderr, /failed calling webhook "slow\.skiff\.test": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/slow\?timeout=1s": context deadline exceeded/);
  assert.ok(Date.now() - started < 2400, 'the call gave up after about timeoutSeconds');

  await configure('Validating', 'down', [['slow.skiff.test', { path: '/slow', ns: 'failing', timeoutSeconds: 1, failurePolicy: 'Ignore' }]]);
  const slowIgnored = await eventually(() => run('p4', 'failing'), (r) => r.code === 0);
  assert.equal(slowIgnored.code, 0, slowIgnored.stderr);

  // A response for another request is a failed call too.
  await configure('Validating', 'down', [['wrong.skiff.test', { path: '/wrong-uid', ns: 'failing' }]]);
  const wrong = await eventually(() => run('p5', 'failing'), (r) => r.code !== 0);
  assert.match(wrong.stderr, /failed calling webhook "wrong\.skiff\.test": received invalid webhook response: expected response\.uid=/);
  await s.kubectlOk(['delete', 'validatingwebhookconfiguration', 'down']);
});

test('DELETE goes to webhooks with the old object; a denial without a code is a 400', async () => {
  await namespace('deletes');
  await configure('Validating', 'protect', [['protect.skiff.test', { path: '/protect', ns: 'deletes', operations: ['DELETE'] }]]);
  assert.equal((await run('keep', 'deletes', 'protected=true')).code, 0);
  assert.equal((await run('drop', 'deletes')).code, 0);
  const refused = await eventually(() => s.kubectl(['delete', 'pod', 'keep', '-n', 'deletes', '--wait=false']), (r) => r.code !== 0);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Error from server: admission webhook "protect\.skiff\.test" denied the request: keep is protected/);
  const res = await s.request('DELETE', '/api/v1/namespaces/deletes/pods/keep');
  assert.equal(res.status, 400);
  assert.equal((await s.kubectl(['get', 'pod', 'keep', '-n', 'deletes'])).code, 0);
  const call = received['/protect'].at(-1).request;
  assert.equal(call.operation, 'DELETE');
  assert.equal(call.object, null);
  assert.equal(call.options.kind, 'DeleteOptions');
  const dropped = await s.kubectl(['delete', 'pod', 'drop', '-n', 'deletes', '--wait=false']);
  assert.equal(dropped.code, 0, dropped.stderr);
  await s.kubectlOk(['delete', 'validatingwebhookconfiguration', 'protect']);
});

test('a certificate the caBundle does not trust fails the call', async () => {
  await namespace('badca');
  await configure('Validating', 'bad-ca', [['badca.skiff.test', { path: '/deny-label', ns: 'badca', ca: otherCaBundle }]]);
  const r = await eventually(() => run('p', 'badca'), (x) => x.code !== 0);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /failed calling webhook "badca\.skiff\.test": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/deny-label\?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority/);
  await s.kubectlOk(['delete', 'validatingwebhookconfiguration', 'bad-ca']);
});

test('a webhook behind a Service is reached at its endpoints with the service name for TLS', async () => {
  await s.kubectlOk(['create', 'namespace', 'webhook-system']);
  await namespace('viasvc');
  // A Service without a selector and an EndpointSlice written by hand: the webhook runs "outside" on 127.0.0.1.
  await s.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'hooks', namespace: 'webhook-system' }, spec: { ports: [{ port: 443, targetPort: hookPort }] } },
  ) });
  await s.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'hooks-manual', namespace: 'webhook-system', labels: { 'kubernetes.io/service-name': 'hooks' } },
    addressType: 'IPv4', ports: [{ name: '', port: hookPort, protocol: 'TCP' }], endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
  }) });
  await configure('Validating', 'via-service', [['svc.skiff.test', { service: { namespace: 'webhook-system', name: 'hooks', path: '/deny-label' }, ns: 'viasvc' }]]);
  const denied = await eventually(() => run('bad', 'viasvc', 'deny=true'), (r) => r.code !== 0);
  assert.match(denied.stderr, /admission webhook "svc\.skiff\.test" denied the request: pods labelled deny=true are not welcome/);
  const good = await run('good', 'viasvc');
  assert.equal(good.code, 0, good.stderr);
  const call = received['/deny-label'].find((r) => r.request.namespace === 'viasvc' && r.request.name === 'good');
  assert.equal(call.servername, 'hooks.webhook-system.svc');
  assert.equal(call.query, '?timeout=10s');
  const cfg = JSON.parse(await s.kubectlOk(['get', 'validatingwebhookconfiguration', 'via-service', '-o', 'json']));
  assert.equal(cfg.webhooks[0].clientConfig.service.port, 443);
  await s.kubectlOk(['delete', 'validatingwebhookconfiguration', 'via-service']);
});

test('an invalid configuration is refused with 422 and field causes', async () => {
  const bad = {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'broken' },
    webhooks: [
      { name: 'dup.skiff.test', clientConfig: { url: 'http://127.0.0.1/' }, rules: [{ operations: ['CREATE', 'PATCH'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }], admissionReviewVersions: ['v1'], timeoutSeconds: 31 },
      { name: 'dup.skiff.test', clientConfig: {}, sideEffects: 'Some', admissionReviewVersions: ['v2'], failurePolicy: 'Maybe' },
      { name: 'short', clientConfig: { url: 'https://example.com/', service: { namespace: 'x', name: 'y' } }, sideEffects: 'None', admissionReviewVersions: ['v1'] },
    ],
  };
  const r = await s.kubectl(['apply', '-f', '-'], { input: JSON.stringify(bad) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The ValidatingWebhookConfiguration "broken" is invalid/);
  assert.match(r.stderr, /\* webhooks\[0\]\.sideEffects: Required value: must specify one of None, NoneOnDryRun/);
  const res = await s.request('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', { body: bad });
  assert.equal(res.status, 422);
  assert.equal(res.json.reason, 'Invalid');
  const causes = Object.fromEntries(res.json.details.causes.map((c: any) => [c.field, c.message]));
  assert.match(causes['webhooks[0].clientConfig.url'], /'https' is the only allowed URL scheme/);
  assert.match(causes['webhooks[0].rules[0].operations[1]'], /Unsupported value: "PATCH"/);
  assert.match(causes['webhooks[0].sideEffects'], /Required value/);
  assert.match(causes['webhooks[0].timeoutSeconds'], /Invalid value: 31: the timeout value must be between 1 and 30 seconds/);
  assert.match(causes['webhooks[1].name'], /Duplicate value: "dup\.skiff\.test"/);
  assert.match(causes['webhooks[1].clientConfig'], /exactly one of url or service is required/);
  assert.match(causes['webhooks[1].sideEffects'], /Unsupported value: "Some": supported values: "None", "NoneOnDryRun"/);
  assert.match(causes['webhooks[1].admissionReviewVersions'], /must include at least one of v1, v1beta1/);
  assert.match(causes['webhooks[1].failurePolicy'], /Unsupported value: "Maybe"/);
  assert.match(causes['webhooks[2].name'], /at least three segments/);
  assert.match(causes['webhooks[2].clientConfig'], /exactly one of url or service is required/);
  assert.equal((await s.kubectl(['get', 'validatingwebhookconfiguration', 'broken'])).code, 1);
});

test('CONNECT: exec and attach reach webhooks with their options object; a denial stops the stream', async () => {
  await namespace('connect');
  await s.kubectlOk(['run', 'shell', '-n', 'connect', '--image=skiff.local/busybox:1', '--', 'sleep', '3600']);
  await s.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'connect-guard' },
    webhooks: [{
      name: 'connect.guard.test', clientConfig: { url: `https://127.0.0.1:${hookPort}/guard-connect`, caBundle },
      rules: [{ operations: ['CONNECT'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/exec', 'pods/attach'], scope: 'Namespaced' }],
      namespaceSelector: { matchLabels: { 'webhook-test': 'connect' } }, sideEffects: 'None', admissionReviewVersions: ['v1'],
    }],
  }) });
  const denied = await eventually(() => s.kubectl(['exec', '-n', 'connect', 'shell', '--', 'rm', '-rf', '/tmp/x']), (r) => /denied the request/.test(r.stderr));
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /admission webhook "connect.guard.test" denied the request: no rm in this namespace/);
  const review = received['/guard-connect']!.at(-1).request;
  assert.equal(review.operation, 'CONNECT');
  assert.deepEqual(review.kind, { group: '', version: 'v1', kind: 'PodExecOptions' });
  assert.deepEqual(review.resource, { group: '', version: 'v1', resource: 'pods' });
  assert.equal(review.subResource, 'exec');
  assert.equal(review.name, 'shell');
  assert.equal(review.namespace, 'connect');
  assert.equal(review.object.kind, 'PodExecOptions');
  assert.deepEqual(review.object.command, ['rm', '-rf', '/tmp/x']);
  assert.equal(review.object.container, 'shell');
  assert.equal(review.object.stdout, true);
  assert.equal(review.userInfo.username, 'system:admin');
  assert.equal(review.options, null);
  // Allowed by the webhook: the request goes on (and fails later only because no node runs the pod).
  const before = received['/guard-connect']!.length;
  const allowed = await s.kubectl(['exec', '-n', 'connect', 'shell', '--', 'ls']);
  assert.doesNotMatch(allowed.stderr, /denied the request/);
  assert.deepEqual(received['/guard-connect']!.at(-1).request.object.command, ['ls']);
  assert.ok(received['/guard-connect']!.length > before);
  // attach: PodAttachOptions; port-forward is not in the rules, so the webhook is not asked.
  await s.kubectl(['attach', '-n', 'connect', 'shell']);
  assert.equal(received['/guard-connect']!.at(-1).request.kind.kind, 'PodAttachOptions');
  const calls = received['/guard-connect']!.length;
  await s.kubectl(['port-forward', '-n', 'connect', 'pod/shell', '18080:80'], { timeoutMs: 5_000 });
  assert.equal(received['/guard-connect']!.length, calls);
  await s.kubectlOk(['delete', 'validatingwebhookconfiguration', 'connect-guard']);
});

test('/scale writes reach webhooks as UPDATE of deployments/scale with autoscaling/v1 Scale objects', async () => {
  await namespace('scaling');
  await s.kubectlOk(['create', 'deployment', 'web', '-n', 'scaling', '--image=skiff.local/busybox:1']);
  const hook = (name: string, path: string, resources: string[]) => ({
    name, clientConfig: { url: `https://127.0.0.1:${hookPort}${path}`, caBundle },
    rules: [{ operations: ['UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources, scope: 'Namespaced' }],
    namespaceSelector: { matchLabels: { 'webhook-test': 'scaling' } }, sideEffects: 'None', admissionReviewVersions: ['v1'],
  });
  await s.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'scale-cap' },
    webhooks: [hook('cap.scale.test', '/cap-scale', ['deployments/scale']), hook('main.deployments.test', '/see-deployments', ['deployments'])],
  }) });
  const denied = await eventually(() => s.kubectl(['scale', 'deployment', 'web', '-n', 'scaling', '--replicas=10']), (r) => /denied the request/.test(r.stderr));
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /admission webhook "cap.scale.test" denied the request: at most 5 replicas, not 10/);
  const review = received['/cap-scale']!.at(-1).request;
  assert.equal(review.operation, 'UPDATE');
  assert.deepEqual(review.kind, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  assert.deepEqual(review.resource, { group: 'apps', version: 'v1', resource: 'deployments' });
  assert.equal(review.subResource, 'scale');
  assert.equal(review.object.kind, 'Scale');
  assert.equal(review.object.spec.replicas, 10);
  assert.equal(review.oldObject.spec.replicas, 1);
  assert.equal(review.userInfo.username, 'system:admin');
  assert.equal(JSON.parse(await s.kubectlOk(['get', 'deployment', 'web', '-n', 'scaling', '-o', 'json'])).spec.replicas, 1);
  // Within the cap it goes through; the webhook on the main resource is not asked about /scale writes.
  const mainCalls = (received['/see-deployments'] ?? []).filter((r) => r.request.namespace === 'scaling' && r.request.name === 'web').length;
  await s.kubectlOk(['scale', 'deployment', 'web', '-n', 'scaling', '--replicas=3']);
  assert.equal(JSON.parse(await s.kubectlOk(['get', 'deployment', 'web', '-n', 'scaling', '-o', 'json'])).spec.replicas, 3);
  assert.equal(received['/cap-scale']!.at(-1).request.object.spec.replicas, 3);
  assert.equal((received['/see-deployments'] ?? []).filter((r) => r.request.namespace === 'scaling' && r.request.name === 'web' && r.request.userInfo.username === 'system:admin').length, mainCalls);
  await s.kubectlOk(['delete', 'validatingwebhookconfiguration', 'scale-cap']);
});
