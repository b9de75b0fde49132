import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import { silentLogger } from '../util/log.ts';
import { FakeResource } from './fake-resource.ts';
import { Informer, type InformerOptions } from './informer.ts';
import { SharedInformerFactory } from './informer-factory.ts';
import { FakeTimers } from './timers.ts';
import { ClientError } from './types.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));
/** Synced, and the watch that follows the list is open. */
const synced = async (i: Informer) => { await i.waitForSync(); await tick(); };
const pod = (name: string, node?: string, extra: Partial<KObject> = {}): KObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name }, spec: { nodeName: node }, ...extra });
const byNode = (o: KObject) => [(o.spec as { nodeName?: string } | undefined)?.nodeName];

/** Records handler calls as short strings: "add a", "update a 3→4", "delete a". */
function recorder(informer: Informer): string[] {
  const seen: string[] = [];
  informer.addEventHandler({
    onAdd: (o) => seen.push(`add ${o.metadata.name}`),
    onUpdate: (a, b) => seen.push(`update ${b.metadata.name} ${a.metadata.resourceVersion}→${b.metadata.resourceVersion}`),
    onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  return seen;
}

function setup(opts: InformerOptions = {}) {
  const fake = new FakeResource();
  const timers = new FakeTimers();
  const informer = new Informer(fake, { timers, backoff: { random: () => 0 }, log: silentLogger, indexers: { byNode }, ...opts });
  return { fake, timers, informer };
}

test('lists, syncs, then follows watch events into cache, index and handlers', async () => {
  const { fake, informer } = setup();
  await fake.create(pod('a', 'n1'));
  await fake.create(pod('b', 'n1'));
  const seen = recorder(informer);
  assert.equal(informer.hasSynced(), false);
  informer.start();
  await synced(informer);
  assert.deepEqual(seen.splice(0), ['add a', 'add b']);
  assert.equal(informer.lastSyncResourceVersion, '2');
  assert.deepEqual(fake.calls.map((c) => [c.op, c.opts.resourceVersion]), [['list', undefined], ['watch', '2']]);
  assert.equal((fake.calls[1]!.opts as { allowWatchBookmarks?: boolean }).allowWatchBookmarks, true);

  await fake.create(pod('c', 'n2'));
  const b = await fake.get('default', 'b');
  (b.spec as { nodeName: string }).nodeName = 'n2';
  await fake.update(b);
  await fake.delete('default', 'a');
  assert.deepEqual(seen, ['add c', 'update b 2→4', 'delete a']);
  assert.deepEqual(informer.keys().sort(), ['default/b', 'default/c']);
  assert.deepEqual(informer.byIndex('byNode', 'n2').map((o) => o.metadata.name).sort(), ['b', 'c']);
  assert.deepEqual(informer.byIndex('byNode', 'n1'), []);
  assert.equal(informer.getByName('default', 'c')?.metadata.resourceVersion, '3');
  assert.equal(informer.lastSyncResourceVersion, '5');
  informer.stop();
  assert.equal(fake.openWatches, 0);
});

test('a watch that ends is resumed from the last resourceVersion seen, bookmarks included', async () => {
  const { fake, informer } = setup();
  informer.start();
  await synced(informer);
  await fake.create(pod('a'));
  fake.endWatches(); // ended after delivering: re-watch at once
  await tick();
  assert.deepEqual(fake.calls.map((c) => `${c.op}@${c.opts.resourceVersion ?? ''}`), ['list@', 'watch@0', 'watch@1']);

  fake.silently(() => { void fake.create(pod('unseen')); }); // moves the revision on
  fake.bookmark();
  assert.equal(informer.lastSyncResourceVersion, '2');
  fake.endWatches(new Error('connection reset'));
  await tick();
  assert.equal(fake.calls.at(-1)!.opts.resourceVersion, '2');
  assert.equal(fake.calls.filter((c) => c.op === 'list').length, 1, 'no relist for a plain watch end');
  informer.stop();
});

test('410 Gone relists and turns the difference into deletes, updates and adds', async () => {
  const { fake, timers, informer } = setup();
  await fake.create(pod('keep', 'n1'));
  await fake.create(pod('change', 'n1'));
  await fake.create(pod('remove', 'n1'));
  await fake.create(pod('recreate', 'n1'));
  informer.start();
  await synced(informer);
  const seen = recorder(informer);
  seen.length = 0; // the replay of existing objects

  // While nobody watches: one deleted, one changed, one added, one deleted and recreated.
  const change = await fake.get('default', 'change');
  fake.silently(() => {
    void fake.delete('default', 'remove');
    void fake.update({ ...change, spec: { nodeName: 'n2' } });
    void fake.create(pod('new', 'n2'));
    void fake.delete('default', 'recreate');
    void fake.create(pod('recreate', 'n3'));
  });
  fake.compact();
  fake.endWatches(); // quiet, short watch: backs off before watching again
  await tick();
  assert.deepEqual(timers.pendingDelays(), [1000]);
  timers.advance(1000);
  await tick();
  await tick();

  assert.deepEqual(fake.calls.map((c) => c.op), ['list', 'watch', 'watch', 'list', 'watch']);
  assert.deepEqual([...seen].sort(), ['add new', 'add recreate', 'delete recreate', 'delete remove', 'update change 2→6'].sort());
  assert.ok(seen.indexOf('delete recreate') < seen.indexOf('add recreate'), 'a new uid is a delete then an add');
  assert.deepEqual(informer.keys().sort(), ['default/change', 'default/keep', 'default/new', 'default/recreate']);
  assert.deepEqual(informer.byIndex('byNode', 'n1').map((o) => o.metadata.name), ['keep']);
  assert.deepEqual(informer.byIndex('byNode', 'n3').map((o) => o.metadata.name), ['recreate']);
  assert.equal(informer.lastSyncResourceVersion, String(fake.revision));
  assert.equal(fake.calls.at(-1)!.opts.resourceVersion, String(fake.revision));
  informer.stop();
});

test('a watch refused with a 410 error (not an event) also relists', async () => {
  const { fake, timers, informer } = setup();
  informer.start();
  await synced(informer);
  fake.failures.watch = [new ClientError(410, 'Expired', 'too old resource version')];
  fake.endWatches(new Error('reset'));
  await tick();
  timers.advance(1000);
  await tick();
  await tick();
  assert.deepEqual(fake.calls.map((c) => c.op), ['list', 'watch', 'watch', 'list', 'watch']);
  informer.stop();
});

test('failing lists back off 1 s, 2 s, 4 s … 30 s, then sync', async () => {
  const { fake, timers, informer } = setup();
  const err = new ClientError(503, 'ServiceUnavailable', 'not yet');
  fake.failures.list = Array.from({ length: 7 }, () => err);
  informer.start();
  const delays: number[] = [];
  for (let i = 0; i < 7; i++) {
    await tick();
    const [d] = timers.pendingDelays();
    delays.push(d!);
    timers.advance(d!);
  }
  await synced(informer);
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.equal(fake.calls.filter((c) => c.op === 'list').length, 8);

  // Success reset the backoff: the next failure waits 1 s again.
  fake.failures.watch = [err];
  fake.endWatches(new Error('reset'));
  await tick();
  assert.deepEqual(timers.pendingDelays(), [1000]);
  informer.stop();
  assert.deepEqual(timers.pendingDelays(), [], 'stop cancels the wait');
});

test('lists in pages and follows continue tokens', async () => {
  const { fake, informer } = setup({ pageSize: 2 });
  for (const n of ['a', 'b', 'c', 'd', 'e']) await fake.create(pod(n));
  informer.start();
  await synced(informer);
  const lists = fake.calls.filter((c) => c.op === 'list').map((c) => (c.opts as { continue?: string }).continue);
  assert.deepEqual(lists, [undefined, '2', '4']);
  assert.equal(informer.list().length, 5);
  informer.stop();
});

test('a throwing handler is logged and neither the others nor later events suffer', async () => {
  const errors: string[] = [];
  const log = { ...silentLogger, error: (msg: string) => { errors.push(msg); } };
  const { fake, informer } = setup({ log });
  informer.addEventHandler({ onAdd: () => { throw new Error('bad handler'); } });
  const seen = recorder(informer);
  informer.start();
  await synced(informer);
  await fake.create(pod('a'));
  await fake.create(pod('b'));
  assert.deepEqual(seen, ['add a', 'add b']);
  assert.equal(errors.length, 2);
  informer.stop();
});

test('late handlers get the cache replayed as adds; unsubscribing stops delivery', async () => {
  const { fake, informer } = setup();
  await fake.create(pod('a'));
  informer.start();
  await synced(informer);
  const seen: string[] = [];
  const off = informer.addEventHandler({ onAdd: (o) => seen.push(o.metadata.name!) });
  assert.deepEqual(seen, ['a']);
  off();
  await fake.create(pod('b'));
  assert.deepEqual(seen, ['a']);
  informer.stop();
});

test('freeze makes cached objects read-only; stop before sync rejects waiters', async () => {
  const { fake, informer } = setup({ freeze: true });
  await fake.create(pod('a'));
  informer.start();
  await synced(informer);
  assert.throws(() => { informer.get('default/a')!.metadata.name = 'x'; }, TypeError);
  informer.stop();

  const other = setup();
  other.fake.failures.list = [new Error('down')];
  other.informer.start();
  const waiting = other.informer.waitForSync();
  other.informer.stop();
  await assert.rejects(waiting, /stopped before it synced/);
});

test('the factory shares one informer per resource and selector', async () => {
  const fakes = new Map<string, FakeResource>();
  const client = { resource: (g: string, v: string, r: string) => {
    const key = `${g}/${v}/${r}`;
    if (!fakes.has(key)) fakes.set(key, new FakeResource());
    return fakes.get(key)!;
  } };
  const factory = new SharedInformerFactory(client, { timers: new FakeTimers(), log: silentLogger });
  const pods1 = factory.informer('', 'v1', 'pods', { indexers: { byNode } });
  const pods2 = factory.forKind('v1', 'Pod');
  const labelled = factory.informer('', 'v1', 'pods', { labelSelector: 'app=web' });
  assert.equal(pods1, pods2);
  assert.notEqual(pods1, labelled);
  assert.ok(pods2.hasIndexer('byNode'));
  assert.throws(() => factory.informer('', 'v1', 'pods', { indexers: { byNode: () => [] } }), /already exists/);

  factory.start();
  const nodes = factory.informer('', 'v1', 'nodes'); // after start: starts at once
  await factory.waitForSync();
  assert.ok(nodes.hasSynced() && pods1.hasSynced() && labelled.hasSynced());
  assert.equal(fakes.get('/v1/pods')!.calls.filter((c) => c.op === 'list').length, 2, 'one list per distinct informer');
  factory.stop();
});
