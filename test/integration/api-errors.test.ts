// Bad input over plain HTTPS: every class gets a Kubernetes Status with the right code,
// and nothing half-written reaches the store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const CM = '/api/v1/namespaces/default/configmaps';
const PODS = '/api/v1/namespaces/default/pods';

function assertStatus(r: { status: number; json: any }, code: number, reason: string) {
  assert.equal(r.status, code, JSON.stringify(r.json));
  assert.equal(r.json.kind, 'Status');
  assert.equal(r.json.apiVersion, 'v1');
  assert.equal(r.json.status, 'Failure');
  assert.equal(r.json.code, code);
  assert.equal(r.json.reason, reason);
  assert.equal(typeof r.json.message, 'string');
}

test('no credentials: system:anonymous gets 403, but health, version and discovery stay open; a bad token is 401', async () => {
  assertStatus(await s.request('GET', CM, { anonymous: true }), 403, 'Forbidden');
  assertStatus(await s.request('GET', CM, { anonymous: true, headers: { Authorization: 'Bearer not-a-token' } }), 401, 'Unauthorized');
  assert.equal((await s.request('GET', '/readyz', { anonymous: true })).text, 'ok');
  assert.equal((await s.request('GET', '/version', { anonymous: true })).json.major, '1');
});

test('malformed JSON and YAML: 400', async () => {
  assertStatus(await s.request('POST', CM, { rawBody: '{"metadata": ' }), 400, 'BadRequest');
  assertStatus(await s.request('POST', CM, { rawBody: 'metadata: [unclosed', contentType: 'application/yaml' }), 400, 'BadRequest');
  assertStatus(await s.request('POST', CM, { rawBody: '[1,2]' }), 400, 'BadRequest');
});

test('YAML bodies are accepted', async () => {
  const r = await s.request('POST', CM, { rawBody: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n', contentType: 'application/yaml' });
  assert.equal(r.status, 201, r.text);
});

test('unknown resources and kinds: 404; wrong apiVersion or kind in the body: 400', async () => {
  assertStatus(await s.request('GET', '/api/v1/namespaces/default/widgets'), 404, 'NotFound');
  assertStatus(await s.request('GET', '/apis/nope.example.com/v1/things'), 404, 'NotFound');
  assertStatus(await s.request('POST', CM, { body: { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } } }), 400, 'BadRequest');
  assertStatus(await s.request('POST', CM, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } } }), 400, 'BadRequest');
  assertStatus(await s.request('GET', `${CM}/does-not-exist`), 404, 'NotFound');
});

test('invalid names and missing required fields: 422 with field causes', async () => {
  const r = await s.request('POST', CM, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } } });
  assertStatus(r, 422, 'Invalid');
  assert.equal(r.json.details.causes[0].field, 'metadata.name');
  assert.equal(r.json.details.causes[0].reason, 'FieldValueInvalid');

  const pod = await s.request('POST', PODS, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } } });
  assertStatus(pod, 422, 'Invalid');
  assert.ok(pod.json.details.causes.some((c: any) => c.field === 'spec.containers[0].image' && c.reason === 'FieldValueRequired'), JSON.stringify(pod.json));

  const noName = await s.request('POST', CM, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} } });
  assertStatus(noName, 422, 'Invalid');
  assert.match(noName.json.message, /name or generateName is required/);
  // Nothing half-written: the list is unchanged.
  const list = await s.request('GET', CM);
  assert.ok(!list.json.items.some((i: any) => i.metadata.name === 'Bad_Name' || i.metadata.name === 'p'));
});

test('type mismatches: 400', async () => {
  const r = await s.request('POST', '/apis/apps/v1/namespaces/default/deployments', {
    body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'typed' }, spec: { replicas: 'three', selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } },
  });
  assertStatus(r, 400, 'BadRequest');
  assert.match(r.json.message, /replicas/);
});

test('oversized bodies: 413', async () => {
  const big = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { x: 'a'.repeat(3 * 1024 * 1024 + 10) } };
  assertStatus(await s.request('POST', CM, { body: big }), 413, 'RequestEntityTooLarge');
});

test('unsupported media types: 415; bad patches: 400/422', async () => {
  await s.request('POST', CM, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'patchme' }, data: { a: '1' } } });
  assertStatus(await s.request('POST', CM, { rawBody: 'x', contentType: 'text/plain' }), 415, 'UnsupportedMediaType');
  assertStatus(await s.request('PATCH', `${CM}/patchme`, { rawBody: '{}', contentType: 'application/x-whatever' }), 415, 'UnsupportedMediaType');
  assertStatus(await s.request('PATCH', `${CM}/patchme`, { rawBody: '{"data":', contentType: 'application/merge-patch+json' }), 400, 'BadRequest');
  assertStatus(await s.request('PATCH', `${CM}/patchme`, { rawBody: '{"op":"add"}', contentType: 'application/json-patch+json' }), 400, 'BadRequest');
  const failedTest = await s.request('PATCH', `${CM}/patchme`, { rawBody: '[{"op":"test","path":"/data/a","value":"2"}]', contentType: 'application/json-patch+json' });
  assert.ok(failedTest.status === 422 || failedTest.status === 400, failedTest.text);
});

test('stale resourceVersion: 409 Conflict; duplicate create: 409 AlreadyExists', async () => {
  const created = await s.request('POST', CM, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rv' }, data: { a: '1' } } });
  const obj = created.json;
  obj.data.a = '2';
  assert.equal((await s.request('PUT', `${CM}/rv`, { body: obj })).status, 200);
  obj.data.a = '3';
  assertStatus(await s.request('PUT', `${CM}/rv`, { body: obj }), 409, 'Conflict');
  assertStatus(await s.request('POST', CM, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rv' } } }), 409, 'AlreadyExists');
});

test('bad query parameters: 400; verbs a resource lacks: 405', async () => {
  assertStatus(await s.request('GET', `${CM}?limit=abc`), 400, 'BadRequest');
  assertStatus(await s.request('GET', `${CM}?labelSelector=a%20in%20(`), 400, 'BadRequest');
  assertStatus(await s.request('POST', `${CM}?dryRun=Maybe`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'q' } } }), 400, 'BadRequest');
  assertStatus(await s.request('POST', `${CM}?fieldValidation=Loose`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'q' } } }), 400, 'BadRequest');
  assertStatus(await s.request('DELETE', '/api/v1/namespaces'), 405, 'MethodNotAllowed');
  const unknown = await s.request('GET', `${CM}?lables=a`);
  assertStatus(unknown, 400, 'BadRequest');
  assert.match(unknown.json.message, /unknown query parameter "lables"/);
});

test('the server survives all of the above', async () => {
  assert.equal((await s.request('GET', '/readyz')).status, 200);
  assert.equal(s.process.exitCode, null);
});
