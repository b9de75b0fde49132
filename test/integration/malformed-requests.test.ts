// Requests that once slipped past as 500s or bare parser errors: each is a 400 Status now.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { startServer, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

test('a malformed %-escape in the path is a 400, not a 500', async () => {
  for (const p of ['/api/v1/namespaces/default/pods/%E0%A4%A', '/apis/%zz/v1', '/apis/metrics.k8s.io/v1beta1/namespaces/%zz/pods']) {
    const r = await s.request('GET', p);
    assert.equal(r.status, 400, `${p}: ${r.text}`);
    assert.equal(r.json.reason, 'BadRequest');
    assert.match(r.json.message, /malformed path segment/);
  }
});

test('bodies nested deeper than 1,000 levels are refused before anything walks them', async () => {
  const deep = (n: number) => `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep","annotations":{"a":"b"}},"data":${'{"a":'.repeat(n)}"x"${'}'.repeat(n)}}`;
  for (const [method, path, type] of [
    ['POST', '/api/v1/namespaces/default/configmaps', 'application/json'],
    ['PUT', '/api/v1/namespaces/default/configmaps/deep', 'application/json'],
    ['PATCH', '/api/v1/namespaces/default/configmaps/deep', 'application/merge-patch+json'],
    ['POST', '/api/v1/namespaces/default/configmaps', 'application/yaml'],
  ] as const) {
    const r = await s.request(method, path, { rawBody: deep(5_000), contentType: type });
    assert.equal(r.status, 400, `${method} ${type}: ${r.text.slice(0, 200)}`);
    assert.match(r.json.message, /nested more than 1000 levels deep|error converting YAML/);
  }
  // Deep YAML is refused from the text, before the parser recurses into it.
  const flow = await s.request('POST', '/api/v1/namespaces/default/configmaps', { rawBody: '['.repeat(20_000) + ']'.repeat(20_000), contentType: 'application/yaml' });
  assert.equal(flow.status, 400);
  assert.match(flow.json.message, /nested more than 1000 levels deep/);
  const arrays = await s.request('POST', '/api/v1/namespaces/default/configmaps', { rawBody: '['.repeat(50_000) + ']'.repeat(50_000) });
  assert.equal(arrays.status, 400);
  assert.equal((await s.request('GET', '/api/v1/namespaces/default/configmaps/deep')).status, 404, 'nothing half-written');
});

test('a request the HTTP parser refuses still gets a Kubernetes Status', async () => {
  const { port } = new URL(s.url);
  const raw = await new Promise<string>((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false }, () => {
      sock.write('BREW /api/v1/pods HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    let text = '';
    sock.on('data', (d) => { text += d; });
    sock.on('end', () => resolve(text));
    sock.on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.1 400 Bad Request\r\n/);
  const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
  assert.equal(body.kind, 'Status');
  assert.equal(body.reason, 'BadRequest');
  assert.match(body.message, /malformed HTTP request/);
});
