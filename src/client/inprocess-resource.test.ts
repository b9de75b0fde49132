// Integration: the in-process ResourceInterface and an informer over it, on a real
// registry and a temporary SQLite store.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KObject } from '../api/object.ts';
import { Registry } from '../apiserver/registry/registry.ts';
import { ensureDefaultNamespaces } from '../controllers/namespace/defaults.ts';
import { SqliteStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { silentLogger } from '../util/log.ts';
import { InProcessClient } from './inprocess.ts';
import { SharedInformerFactory } from './informer-factory.ts';
import { ClientError, type ResourceInterface, type WatchEvent } from './types.ts';

let dataDir: string;
let store: Store;
let client: InProcessClient;
let cms: ResourceInterface;

before(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-client-'));
  store = await SqliteStore.open({ dataDir });
  client = new InProcessClient(new Registry(store), 'client-test');
  await ensureDefaultNamespaces(client);
  cms = client.api().resource('', 'v1', 'configmaps');
});

after(async () => {
  await store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const until = async (cond: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
};

const cm = (name: string, labels?: Record<string, string>, data: Record<string, string> = {}): KObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels }, data });

test('CRUD, string selectors and all four patch types', async () => {
  const created = await cms.create(cm('one', { app: 'a' }, { k: 'v' }));
  assert.equal(created.metadata.managedFields?.[0]?.manager, 'client-test');
  await cms.create(cm('two', { app: 'b' }));
  assert.deepEqual((await cms.list('default', { labelSelector: 'app in (a)' })).items.map((o) => o.metadata.name), ['one']);
  assert.deepEqual((await cms.list('default', { fieldSelector: 'metadata.name=two' })).items.map((o) => o.metadata.name), ['two']);
  const page = await cms.list('default', { limit: 1 });
  assert.equal(page.items.length, 1);
  assert.ok(page.continue);
  assert.equal((await cms.list('default', { limit: 1, continue: page.continue })).items.length, 1);

  await cms.update({ ...created, data: { k: 'v2' } });
  assert.deepEqual((await cms.patch('default', 'one', 'merge', { data: { m: '1' } })).data, { k: 'v2', m: '1' });
  assert.equal((await cms.patch('default', 'one', 'strategic', { metadata: { labels: { s: '1' } } })).metadata.labels?.s, '1');
  assert.deepEqual((await cms.patch('default', 'one', 'json', [{ op: 'remove', path: '/data/k' }])).data, { m: '1' });
  const applied = await cms.patch('default', 'applied', 'apply', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { x: '1' } }, { fieldManager: 'me' });
  assert.equal(applied.metadata.managedFields?.[0]?.operation, 'Apply');

  assert.equal((await cms.delete('default', 'two')).pending, false);
  assert.equal(await cms.tryGet('default', 'two'), undefined);
  await cms.delete('default', 'one');
  await cms.delete('default', 'applied');
});

test('registry errors surface as ClientError with code and reason', async () => {
  await assert.rejects(cms.get('default', 'nope'), (err: unknown) => err instanceof ClientError && err.code === 404 && err.reason === 'NotFound');
  const obj = await cms.create(cm('dup'));
  await assert.rejects(cms.create(cm('dup')), (err: unknown) => err instanceof ClientError && err.code === 409 && err.reason === 'AlreadyExists');
  await cms.update({ ...obj, data: { a: '1' } });
  await assert.rejects(cms.update({ ...obj, data: { a: '2' } }), (err: unknown) => err instanceof ClientError && err.reason === 'Conflict');
  await assert.rejects(cms.list('default', { labelSelector: '!!' }), (err: unknown) => err instanceof ClientError && err.code === 400);
  await assert.rejects(cms.patch('default', 'dup', 'json', { not: 'an array' }), (err: unknown) => err instanceof ClientError && err.code === 400);
  await cms.delete('default', 'dup');
});

test('status updates change only status', async () => {
  const pods = client.api().resource('', 'v1', 'pods');
  const p = await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  const s = await pods.updateStatus({ ...p, metadata: { ...p.metadata, labels: { ignored: 'yes' } }, status: { phase: 'Running' } });
  assert.equal((s.status as { phase: string }).phase, 'Running');
  assert.equal(s.metadata.labels?.ignored, undefined);
  await pods.delete('default', 'p');
});

test('watch shares read-only objects: a watcher that writes to one loses its watch, the others see it unchanged; a compacted resourceVersion is a 410 ERROR event', async () => {
  const { resourceVersion } = await cms.list('default');
  const events: WatchEvent[] = [];
  let vandalEnded: Error | undefined | 'no' = 'no';
  let vandalError: unknown;
  const vandal = await cms.watch('default', { resourceVersion }, (ev) => {
    try { (ev.object as KObject).metadata.name = 'scribbled'; } catch (err) { vandalError = err; throw err; }
  }, (err) => { vandalEnded = err; });
  const w = await cms.watch('default', { resourceVersion }, (ev) => events.push(ev));
  await cms.create(cm('watched'));
  await until(() => events.length === 1, 'the ADDED event');
  assert.equal(events[0]!.type, 'ADDED');
  assert.equal((events[0]!.object as KObject).metadata.name, 'watched', 'one watcher cannot change what another sees');
  assert.ok(Object.isFrozen((events[0]!.object as KObject).metadata), 'the object is frozen');
  assert.ok(vandalError instanceof TypeError, 'writing to a shared object throws');
  await until(() => vandalEnded !== 'no', 'the vandal\'s watch to end');
  await cms.create(cm('watched-2'));
  await until(() => events.length === 2, 'the second ADDED event for the well-behaved watcher');
  w.close();
  vandal.close();
  await cms.delete('default', 'watched-2');

  await cms.delete('default', 'watched');

  // Secrets have had no watch yet, so their watch cache starts now and the old version
  // can only come from the store's history, which compaction has cut.
  const secrets = client.api().resource('', 'v1', 'secrets');
  const before = (await secrets.list('default')).resourceVersion;
  await secrets.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' } });
  await secrets.delete('default', 's');
  await store.compact(await store.currentRevision());
  const old: WatchEvent[] = [];
  let ended = false;
  await secrets.watch('default', { resourceVersion: before }, (ev) => old.push(ev), () => { ended = true; });
  await until(() => old.length === 1 && ended, 'the ERROR event and the end');
  assert.equal(old[0]!.type, 'ERROR');
  assert.equal((old[0]!.object as { code: number }).code, 410);
});

test('an informer over the in-process client follows changes and indexes them', async () => {
  const factory = new SharedInformerFactory(client.api(), { log: silentLogger, freeze: true });
  const byApp = (o: KObject) => [o.metadata.labels?.app];
  const informer = factory.informer('', 'v1', 'configmaps', { namespace: 'default', indexers: { byApp } });
  const seen: string[] = [];
  informer.addEventHandler({
    onAdd: (o) => seen.push(`add ${o.metadata.name}`),
    onUpdate: (_a, b) => seen.push(`update ${b.metadata.name}`),
    onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  await cms.create(cm('early', { app: 'web' }));
  factory.start();
  await factory.waitForSync();
  assert.deepEqual(seen, ['add early']);

  await cms.create(cm('late', { app: 'db' }));
  await cms.patch('default', 'early', 'merge', { metadata: { labels: { app: 'db' } } });
  await cms.delete('default', 'late');
  await until(() => seen.length === 4, 'four events');
  assert.deepEqual(seen, ['add early', 'add late', 'update early', 'delete late']);
  assert.deepEqual(informer.byIndex('byApp', 'db').map((o) => o.metadata.name), ['early']);
  assert.deepEqual(informer.byIndex('byApp', 'web'), []);
  factory.stop();
  await cms.delete('default', 'early');
});
