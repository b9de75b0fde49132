// The dispatcher against a real HTTPS webhook server on loopback and a source held in memory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { lookupResource } from '../../../api/scheme.ts';
import type { KObject } from '../../../api/object.ts';
import { ApiError } from '../../errors.ts';
import { createCertificateAuthority, issueServingCertificate } from '../../pki/issue-certificates.ts';
import { WebhookAdmission } from './dispatcher.ts';
import type { AdmissionAttributes, Webhook, WebhookSource } from './types.ts';

const PODS = lookupResource('', 'v1', 'pods')!;
let server: https.Server;
let base = '';
let ca = '';
const calls: { path: string; request: any }[] = [];
/** path → answer for a request (the response part). */
const answers: Record<string, (req: any) => object> = {};

before(async () => {
  const now = new Date();
  const authority = await createCertificateAuthority(now);
  const cert = await issueServingCertificate(authority, { dns: [], ips: ['127.0.0.1'] }, now);
  ca = Buffer.from(authority.certPem).toString('base64');
  server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url!, 'https://x').pathname;
      const review = JSON.parse(Buffer.concat(chunks).toString());
      calls.push({ path, request: review.request });
      const response = answers[path]?.(review.request) ?? { uid: review.request.uid, allowed: true };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ apiVersion: review.apiVersion, kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => { server.closeAllConnections(); server.close(); });

const hook = (name: string, path: string, extra: Partial<Webhook> = {}): Webhook => ({
  name, clientConfig: { url: base + path, caBundle: ca }, sideEffects: 'None', admissionReviewVersions: ['v1'], timeoutSeconds: 5,
  rules: [{ operations: ['*'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }], ...extra,
});

function admission(mutating: [string, Webhook[]][], validating: [string, Webhook[]][] = []): WebhookAdmission {
  const cfgs = (list: [string, Webhook[]][]): KObject[] => list.map(([name, webhooks]) => ({ apiVersion: 'x', kind: 'x', metadata: { name }, webhooks }));
  const source: WebhookSource = {
    configurations: async (kind) => cfgs(kind === 'mutating' ? mutating : validating),
    namespace: async () => undefined,
    resolveService: async () => { throw new Error('no services here'); },
  };
  return new WebhookAdmission(source);
}

const pod = (): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u-1' }, spec: { containers: [] } });
const attrs = (extra: Partial<AdmissionAttributes> = {}): AdmissionAttributes => ({ operation: 'CREATE', resource: PODS, namespace: 'ns', name: 'p', object: pod(), warnings: [], ...extra });
const patch = (req: any, ops: object[]) => ({ uid: req.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') });

test('mutating webhooks run in configuration order; an IfNeeded one is reinvoked once after a later change', async () => {
  calls.length = 0;
  answers['/first'] = (req) => patch(req, [{ op: 'add', path: '/metadata/annotations', value: { saw: String(req.object.metadata.labels?.later ?? 'none') } }]);
  answers['/second'] = (req) => (req.object.metadata.labels ? { uid: req.uid, allowed: true } : patch(req, [{ op: 'add', path: '/metadata/labels', value: { later: 'x' } }]));
  const a = attrs();
  let defaulted = 0;
  a.prepare = () => { defaulted++; };
  await admission([['z-second', [hook('second.x.y', '/second')]], ['a-first', [hook('first.x.y', '/first', { reinvocationPolicy: 'IfNeeded' })]]]).mutate(a);
  assert.deepEqual(calls.map((c) => c.path), ['/first', '/second', '/first']);
  assert.deepEqual(a.object!.metadata.annotations, { saw: 'x' });
  assert.deepEqual(a.object!.metadata.labels, { later: 'x' });
  assert.equal(defaulted, 2, 'defaulted before the first call and after the changes');

  calls.length = 0;
  await admission([['z-second', [hook('second.x.y', '/second')]], ['a-first', [hook('first.x.y', '/first', { reinvocationPolicy: 'Never' })]]]).mutate(attrs());
  assert.deepEqual(calls.map((c) => c.path), ['/first', '/second']);
});

test('webhooks cannot change the server-owned metadata', async () => {
  answers['/uid'] = (req) => patch(req, [{ op: 'replace', path: '/metadata/uid', value: 'stolen' }, { op: 'add', path: '/metadata/labels', value: { ok: '1' } }]);
  const a = attrs();
  await admission([['c', [hook('uid.x.y', '/uid')]]]).mutate(a);
  assert.equal(a.object!.metadata.uid, 'u-1');
  assert.deepEqual(a.object!.metadata.labels, { ok: '1' });
});

test('a denial carries the webhook status, at least 400, worded as kube-apiserver does', async () => {
  answers['/no'] = (req) => ({ uid: req.uid, allowed: false });
  answers['/teapot'] = (req) => ({ uid: req.uid, allowed: false, status: { code: 418, reason: 'Teapot', message: 'short and stout' } });
  const plain = await admission([], [['v', [hook('no.x.y', '/no')]]]).validate(attrs()).catch((e) => e);
  assert.ok(plain instanceof ApiError);
  assert.equal(plain.code, 400);
  assert.equal(plain.message, 'admission webhook "no.x.y" denied the request without explanation');
  const teapot = await admission([], [['v', [hook('tea.x.y', '/teapot')]]]).validate(attrs()).catch((e) => e);
  assert.equal(teapot.code, 418);
  assert.equal(teapot.message, 'admission webhook "tea.x.y" denied the request: short and stout');
});

test('validating webhooks all run; warnings are collected; the first failure in order wins', async () => {
  calls.length = 0;
  answers['/warn'] = (req) => ({ uid: req.uid, allowed: true, warnings: ['careful'] });
  const a = attrs();
  const err = await admission([], [['v', [hook('warn.x.y', '/warn'), hook('no.x.y', '/no'), hook('tea.x.y', '/teapot')]]]).validate(a).catch((e) => e);
  assert.equal(err.message, 'admission webhook "no.x.y" denied the request without explanation');
  assert.equal(calls.length, 3);
  assert.deepEqual(a.warnings, ['careful']);
});

test('DELETE sends the old object and no object; dryRun and the user are passed on', async () => {
  calls.length = 0;
  await admission([], [['v', [hook('d.x.y', '/del')]]]).validate(attrs({ operation: 'DELETE', object: undefined, oldObject: pod(), dryRun: true, user: { name: 'jane', groups: ['devs'] } }));
  const req = calls[0].request;
  assert.equal(req.operation, 'DELETE');
  assert.equal(req.object, null);
  assert.equal(req.oldObject.metadata.name, 'p');
  assert.equal(req.dryRun, true);
  assert.deepEqual(req.options, { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', dryRun: ['All'] });
  assert.deepEqual(req.userInfo, { username: 'jane', groups: ['devs'] });
});

test('bad answers are failed calls: 500 with Fail, ignored with Ignore; bad patches are always errors', async () => {
  answers['/bad-version'] = (req) => ({ uid: req.uid, allowed: true, patchType: 'JSONPatch' });
  answers['/merge'] = (req) => ({ uid: req.uid, allowed: true, patchType: 'Merge', patch: Buffer.from('{}').toString('base64') });
  const wrongUid = await admission([], [['v', [hook('u.x.y', '/uid-wrong')]]]);
  answers['/uid-wrong'] = () => ({ uid: 'other', allowed: true });
  const err = await wrongUid.validate(attrs()).catch((e) => e);
  assert.equal(err.code, 500);
  assert.match(err.message, /^Internal error occurred: failed calling webhook "u\.x\.y": received invalid webhook response: expected response\.uid="[^"]+", got "other"$/);
  await admission([], [['v', [hook('u.x.y', '/uid-wrong', { failurePolicy: 'Ignore' })]]]).validate(attrs());
  const merge = await admission([['m', [hook('m.x.y', '/merge', { failurePolicy: 'Ignore' })]]]).mutate(attrs()).catch((e) => e);
  assert.equal(merge.code, 500);
  assert.match(merge.message, /unsupported patch type: "Merge"/);
  const noVersion = await admission([], [['v', [hook('v.x.y', '/x', { admissionReviewVersions: ['v2'] })]]]).validate(attrs()).catch((e) => e);
  assert.match(noVersion.message, /does not accept known AdmissionReview versions/);
});

test('requests that no rule matches call nothing', async () => {
  calls.length = 0;
  const a = attrs({ operation: 'UPDATE', subresource: 'status' });
  await admission([['m', [hook('m.x.y', '/first')]]], [['v', [hook('no.x.y', '/no')]]]).validate(a);
  assert.equal(calls.length, 0);
});
