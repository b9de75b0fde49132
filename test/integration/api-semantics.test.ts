// API machinery over plain HTTPS: watch, pagination, resourceVersion, generateName,
// finalizers, dry-run, subresources, discovery and OpenAPI as clients read them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const CM = '/api/v1/namespaces/default/configmaps';
const cm = (name: string, data: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data });

const watch = (path: string, until: (events: any[]) => boolean, timeoutMs?: number) => s.watchEvents(path, until, timeoutMs);

test('watch from a resourceVersion sees every change in order, with bookmarks', async () => {
  const created = (await s.request('POST', CM, { body: cm('w1', { a: '1' }) })).json;
  const rv = created.metadata.resourceVersion;
  const events = watch(`${CM}?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true`, (e) => e.some((x) => x.type === 'DELETED'));
  await new Promise((r) => setTimeout(r, 200));
  await s.request('PATCH', `${CM}/w1`, { rawBody: '{"data":{"a":"2"}}', contentType: 'application/merge-patch+json' });
  await s.request('POST', CM, { body: cm('w2') });
  await s.request('DELETE', `${CM}/w1`);
  // Only our ConfigMaps: the root CA publisher may add kube-root-ca.crt to the namespace meanwhile.
  const got = (await events).filter((e) => e.type !== 'BOOKMARK' && /^w[12]$/.test(e.object.metadata.name));
  assert.deepEqual(got.map((e) => `${e.type} ${e.object.metadata.name}`), ['MODIFIED w1', 'ADDED w2', 'DELETED w1']);
  const rvs = got.map((e) => Number(e.object.metadata.resourceVersion));
  assert.deepEqual([...rvs].sort((a, b) => a - b), rvs, 'revisions increase');
  assert.ok(rvs[0] > Number(rv));
});

test('watch without a resourceVersion starts with the current state; selectors turn changes into ADDED/DELETED', async () => {
  await s.request('POST', CM, { body: cm('sel', {}, { labels: { team: 'a' } }) });
  const events = watch(`${CM}?watch=true&labelSelector=team%3Da`, (e) => e.length >= 2);
  await new Promise((r) => setTimeout(r, 200));
  await s.request('PATCH', `${CM}/sel`, { rawBody: '{"metadata":{"labels":{"team":"b"}}}', contentType: 'application/merge-patch+json' });
  const got = await events;
  assert.deepEqual(got.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED sel', 'DELETED sel']);
});

test('pagination with limit and continue returns every item exactly once', async () => {
  for (let i = 0; i < 12; i++) await s.request('POST', CM, { body: cm(`page-${String(i).padStart(2, '0')}`, {}, { labels: { paged: 'yes' } }) });
  const names: string[] = [];
  let cont = '';
  let pages = 0;
  do {
    const r = await s.request('GET', `${CM}?labelSelector=paged&limit=5${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    assert.equal(r.status, 200, r.text);
    names.push(...r.json.items.map((i: any) => i.metadata.name));
    cont = r.json.metadata.continue ?? '';
    pages++;
    // Writes between pages do not change what the paginated list shows.
    if (pages === 1) await s.request('POST', CM, { body: cm('page-99', {}, { labels: { paged: 'yes' } }) });
  } while (cont);
  assert.equal(pages, 3);
  assert.deepEqual(names, Array.from({ length: 12 }, (_, i) => `page-${String(i).padStart(2, '0')}`));
  const bad = await s.request('GET', `${CM}?limit=5&continue=garbage`);
  assert.equal(bad.status, 400);

  // Unfiltered: remainingItemCount, one resourceVersion for every page, the same items in
  // the same order as one unpaginated list.
  const whole = (await s.request('GET', CM)).json;
  const first = (await s.request('GET', `${CM}?limit=4`)).json;
  assert.equal(first.items.length, 4);
  assert.equal(first.metadata.remainingItemCount, whole.items.length - 4);
  await s.request('DELETE', `${CM}/page-05`); // after the first page: the rest still shows it
  const all = [...first.items];
  for (let cont = first.metadata.continue; cont;) {
    const r = (await s.request('GET', `${CM}?limit=4&continue=${encodeURIComponent(cont)}`)).json;
    assert.equal(r.metadata.resourceVersion, first.metadata.resourceVersion, 'every page is read at the first page\'s revision');
    all.push(...r.items);
    cont = r.metadata.continue;
  }
  assert.deepEqual(all.map((i: any) => i.metadata.name), whole.items.map((i: any) => i.metadata.name));
  assert.ok(all.some((i: any) => i.metadata.name === 'page-05'));
});

test('generateName, finalizers and deletionTimestamp', async () => {
  const r = await s.request('POST', CM, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-', finalizers: ['example.com/hold'] } } });
  assert.equal(r.status, 201);
  const name = r.json.metadata.name;
  assert.match(name, /^gen-[a-z0-9]{5}$/);
  const del = await s.request('DELETE', `${CM}/${name}`);
  assert.ok(del.status === 200 || del.status === 202);
  const held = (await s.request('GET', `${CM}/${name}`)).json;
  assert.ok(held.metadata.deletionTimestamp, 'still there, marked for deletion');
  held.metadata.finalizers = [];
  assert.equal((await s.request('PUT', `${CM}/${name}`, { body: held })).status, 200);
  assert.equal((await s.request('GET', `${CM}/${name}`)).status, 404, 'gone once the last finalizer is removed');
});

test('dry-run writes nothing', async () => {
  const r = await s.request('POST', `${CM}?dryRun=All`, { body: cm('dry') });
  assert.equal(r.status, 201);
  assert.equal(r.json.metadata.name, 'dry');
  assert.equal((await s.request('GET', `${CM}/dry`)).status, 404);
});

test('status subresource: main writes keep status, status writes keep spec; generation follows spec', async () => {
  // ReplicationControllers have status and scale subresources and no controller here,
  // so nothing else writes them during the test.
  const RC = '/api/v1/namespaces/default/replicationcontrollers';
  const rc = {
    apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'st' },
    spec: { replicas: 1, selector: { a: 'b' }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    status: { replicas: 99 },
  };
  const created = (await s.request('POST', RC, { body: rc })).json;
  assert.equal(created.metadata.generation, 1);
  assert.equal(created.status?.replicas ?? 0, 0, 'status is not set through the main resource');
  created.status = { replicas: 1, observedGeneration: 1 };
  const st = await s.request('PUT', `${RC}/st/status`, { body: created });
  assert.equal(st.status, 200, st.text);
  assert.equal(st.json.status.replicas, 1);
  assert.equal(st.json.metadata.generation, 1, 'status writes do not bump generation');
  const scaled = await s.request('PATCH', `${RC}/st/scale`, { rawBody: '{"spec":{"replicas":3}}', contentType: 'application/merge-patch+json' });
  assert.equal(scaled.status, 200, scaled.text);
  assert.equal(scaled.json.kind, 'Scale');
  assert.equal(scaled.json.spec.replicas, 3);
  const after = (await s.request('GET', `${RC}/st`)).json;
  assert.equal(after.spec.replicas, 3);
  assert.equal(after.metadata.generation, 2);
  assert.equal(after.status.replicas, 1);
});

test('pods/binding assigns a node once', async () => {
  const PODS = '/api/v1/namespaces/default/pods';
  await s.request('POST', PODS, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bindme' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
  const b = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bindme' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } };
  assert.equal((await s.request('POST', `${PODS}/bindme/binding`, { body: b })).status, 201);
  const pod = (await s.request('GET', `${PODS}/bindme`)).json;
  assert.equal(pod.spec.nodeName, 'node-1');
  assert.ok(pod.status.conditions.some((c: any) => c.type === 'PodScheduled' && c.status === 'True'));
  assert.equal((await s.request('POST', `${PODS}/bindme/binding`, { body: b })).status, 409);
});

test('discovery: aggregated and legacy agree', async () => {
  const agg = await s.request('GET', '/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
  assert.match(String(agg.headers['content-type']), /as=APIGroupDiscoveryList/);
  const apps = agg.json.items.find((g: any) => g.metadata.name === 'apps');
  const deploy = apps.versions[0].resources.find((r: any) => r.resource === 'deployments');
  assert.deepEqual(deploy.subresources.map((x: any) => x.subresource).sort(), ['scale', 'status']);
  const legacy = await s.request('GET', '/apis/apps/v1');
  assert.ok(legacy.json.resources.some((r: any) => r.name === 'deployments/scale' && r.kind === 'Scale'));
});

test('OpenAPI v3: index and documents with the PATCH fieldValidation parameter', async () => {
  const index = (await s.request('GET', '/openapi/v3')).json;
  const url = index.paths['apis/apps/v1'].serverRelativeURL;
  const doc = (await s.request('GET', url)).json;
  const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
  const params = [...(patch.parameters ?? []), ...(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].parameters ?? [])];
  assert.ok(params.some((p: any) => (p.name ?? '') === 'fieldValidation' || String(p.$ref ?? '').includes('fieldValidation')));
});

test('a PUT that only leaves out defaulted fields is not a spec change', async () => {
  const RC = '/api/v1/namespaces/default/replicationcontrollers';
  const bare = {
    apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'bare' },
    spec: { selector: { a: 'b' }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
  };
  const created = (await s.request('POST', RC, { body: bare })).json;
  const put = await s.request('PUT', `${RC}/bare`, { body: { ...bare, metadata: { name: 'bare', resourceVersion: created.metadata.resourceVersion } } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.metadata.generation, 1);
  assert.equal(put.json.metadata.resourceVersion, created.metadata.resourceVersion, 'nothing changed, nothing written');
});
