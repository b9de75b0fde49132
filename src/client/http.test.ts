// Integration: HttpClient and an informer over it, against a real `skiff server`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KObject } from '../api/object.ts';
import { silentLogger } from '../util/log.ts';
import { startServer, eventually, type TestServer } from '../../test/helpers/cluster.ts';
import { HttpClient } from './http.ts';
import { SharedInformerFactory } from './informer-factory.ts';
import { loadKubeconfig } from './kubeconfig.ts';
import { ClientError, isAlreadyExists, isNotFound, type WatchEvent } from './types.ts';

let server: TestServer;
let admin: HttpClient;
let joined: HttpClient;

before(async () => {
  server = await startServer();
  server.process.stderr!.on('data', (d) => process.stderr.write(`[server] ${d}`));
  admin = HttpClient.fromKubeconfig(server.kubeconfig);
  joined = new HttpClient({
    server: [server.url],
    ca: loadKubeconfig(server.kubeconfig).ca,
    token: readFileSync(path.join(server.dataDir, 'token'), 'utf8'),
  });
});

after(async () => {
  admin?.close();
  joined?.close();
  await server?.stop();
});

const cm = (name: string, data: Record<string, string>, labels?: Record<string, string>): KObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels }, data });

const pod = (name: string, nodeName: string, labels?: Record<string, string>): KObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels },
  spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
});

test('CRUD with the admin client certificate', async () => {
  const cms = admin.resource('', 'v1', 'configmaps');
  const created = await cms.create(cm('crud', { a: '1' }, { app: 'crud' }));
  assert.ok(created.metadata.uid);
  assert.equal((await cms.get('default', 'crud')).data && (created.data as Record<string, string>).a, '1');

  const list = await cms.list('default', { labelSelector: 'app=crud' });
  assert.deepEqual(list.items.map((o) => o.metadata.name), ['crud']);
  assert.match(list.resourceVersion, /^\d+$/);
  assert.equal((await cms.list('default', { fieldSelector: 'metadata.name=nope' })).items.length, 0);

  const updated = await cms.update({ ...created, data: { a: '2' } });
  assert.notEqual(updated.metadata.resourceVersion, created.metadata.resourceVersion);
  const merged = await cms.patch('default', 'crud', 'merge', { data: { b: '3' } });
  assert.deepEqual(merged.data, { a: '2', b: '3' });
  const strategic = await cms.patch('default', 'crud', 'strategic', { metadata: { labels: { tier: 'x' } } });
  assert.equal(strategic.metadata.labels?.tier, 'x');
  const json = await cms.patch('default', 'crud', 'json', [{ op: 'remove', path: '/data/a' }]);
  assert.deepEqual(json.data, { b: '3' });
  const applied = await cms.patch('default', 'crud', 'apply', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'crud' }, data: { c: '4' } }, { fieldManager: 'tester', force: true });
  assert.equal((applied.data as Record<string, string>).c, '4');

  const dry = await cms.delete('default', 'crud', { dryRun: true });
  assert.equal(dry.obj?.metadata.name, 'crud');
  assert.ok(await cms.tryGet('default', 'crud'));
  const gone = await cms.delete('default', 'crud');
  assert.equal(gone.pending, false);
  assert.equal(await cms.tryGet('default', 'crud'), undefined);

  // Cluster-scoped resources take no namespace segment.
  const ns = await admin.resource('', 'v1', 'namespaces').get(undefined, 'default');
  assert.equal(ns.metadata.name, 'default');
});

test('status updates go to the status subresource', async () => {
  const pods = admin.resource('', 'v1', 'pods');
  const p = await pods.create(pod('status-pod', 'node-a'));
  const withStatus = await pods.updateStatus({ ...p, status: { phase: 'Running' }, spec: { ...(p.spec as object), activeDeadlineSeconds: 5 } });
  assert.equal((withStatus.status as { phase?: string }).phase, 'Running');
  assert.equal((withStatus.spec as { activeDeadlineSeconds?: number }).activeDeadlineSeconds, undefined, 'spec is not changed through status');
  const del = await pods.delete('default', 'status-pod', { gracePeriodSeconds: 0 });
  assert.equal(del.pending, false);
});

test('the join token works as a bearer token, with a node\'s permissions; a wrong one is Unauthorized', async () => {
  await admin.resource('', 'v1', 'configmaps').create(cm('for-nodes', { x: 'y' }));
  const cms = joined.resource('', 'v1', 'configmaps');
  assert.equal((await cms.get('default', 'for-nodes')).metadata.name, 'for-nodes');
  await assert.rejects(cms.create(cm('by-token', { x: 'y' })), (err: unknown) => err instanceof ClientError && err.code === 403);
  const leases = joined.resource('coordination.k8s.io', 'v1', 'leases');
  await leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'token-node', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'token-node' } });
  await admin.resource('coordination.k8s.io', 'v1', 'leases').delete('kube-node-lease', 'token-node');
  await admin.resource('', 'v1', 'configmaps').delete('default', 'for-nodes');

  const stranger = new HttpClient({ server: server.url, ca: loadKubeconfig(server.kubeconfig).ca, token: 'K10nope::server:wrong' });
  await assert.rejects(stranger.resource('', 'v1', 'configmaps').list('default'),
    (err: unknown) => err instanceof ClientError && err.code === 401 && err.reason === 'Unauthorized');
  stranger.close();
});

test('failures are ClientErrors carrying the Status code and reason', async () => {
  const cms = admin.resource('', 'v1', 'configmaps');
  await assert.rejects(cms.get('default', 'missing'), (err: unknown) => {
    assert.ok(err instanceof ClientError);
    assert.equal(err.code, 404);
    assert.equal(err.reason, 'NotFound');
    assert.match(err.message, /configmaps "missing" not found/);
    return isNotFound(err);
  });
  const first = await cms.create(cm('dup', {}));
  await assert.rejects(cms.create(cm('dup', {})), (err: unknown) => err instanceof ClientError && err.code === 409 && isAlreadyExists(err));
  await cms.update({ ...first, data: { v: '1' } });
  await assert.rejects(cms.update({ ...first, data: { v: '2' } }), (err: unknown) => err instanceof ClientError && err.code === 409 && err.reason === 'Conflict');
  await assert.rejects(cms.list('default', { labelSelector: '!!bad' }), (err: unknown) => err instanceof ClientError && err.code === 400);
  await cms.delete('default', 'dup');
});

test('watch streams events in order from a resourceVersion', async () => {
  const cms = admin.resource('', 'v1', 'configmaps');
  const { resourceVersion } = await cms.list('default');
  const events: WatchEvent[] = [];
  let ended = false;
  const w = await cms.watch('default', { resourceVersion, labelSelector: 'watched=yes' }, (ev) => events.push(ev), () => { ended = true; });
  await cms.create(cm('w1', { a: '1' }, { watched: 'yes' }));
  await cms.create(cm('ignored', {}, { watched: 'no' }));
  await cms.patch('default', 'w1', 'merge', { data: { a: '2' } });
  await cms.delete('default', 'w1');
  await eventually(async () => events.length >= 3, 5000, 'three watch events');
  assert.deepEqual(events.map((e) => `${e.type} ${e.object.kind === 'Status' ? '' : (e.object as KObject).metadata.name}`), ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
  w.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ended, false, 'closing is not an end');
  await cms.delete('default', 'ignored');

  // A server-side timeout ends the stream cleanly.
  const end = new Promise<Error | undefined>((resolve) => {
    void cms.watch('default', { resourceVersion: '0', timeoutSeconds: 1 }, () => {}, resolve);
  });
  assert.equal(await end, undefined);
});

test('an informer over HTTP sees adds, updates and deletes, and indexes them', async () => {
  const factory = new SharedInformerFactory(admin, { namespace: 'default', log: silentLogger });
  const byNode = (o: KObject) => [(o.spec as { nodeName?: string }).nodeName];
  const pods = factory.informer('', 'v1', 'pods', { labelSelector: 'suite=informer', indexers: { byNode } });
  const seen: string[] = [];
  pods.addEventHandler({
    onAdd: (o) => seen.push(`add ${o.metadata.name}`),
    onUpdate: (_old, o) => seen.push(`update ${o.metadata.name}`),
    onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  const client = admin.resource('', 'v1', 'pods');
  await client.create(pod('before', 'node-1', { suite: 'informer' }));
  factory.start();
  await factory.waitForSync();
  assert.deepEqual(seen, ['add before']);

  await client.create(pod('after', 'node-2', { suite: 'informer' }));
  await client.patch('default', 'after', 'merge', { metadata: { annotations: { touched: 'yes' } } });
  await client.delete('default', 'before', { gracePeriodSeconds: 0 });
  await eventually(async () => seen.length >= 4, 5000, 'informer events');
  assert.deepEqual(seen, ['add before', 'add after', 'update after', 'delete before']);
  assert.deepEqual(pods.byIndex('byNode', 'node-2').map((o) => o.metadata.name), ['after']);
  assert.deepEqual(pods.byIndex('byNode', 'node-1'), []);
  assert.equal(pods.get('default/after')?.metadata.annotations?.touched, 'yes');
  factory.stop();
  await client.delete('default', 'after', { gracePeriodSeconds: 0 });
});
