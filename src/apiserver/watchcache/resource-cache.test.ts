import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../store/index.ts';
import { lookupResource, storageKey } from '../../api/scheme.ts';
import { ResourceCache, type CacheEventType } from './resource-cache.ts';

const CM = lookupResource('', 'v1', 'configmaps')!;
const key = (ns: string, name: string) => storageKey(CM, ns, name);
const value = (ns: string, name: string, labels: Record<string, string> = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels } });
const settle = () => new Promise((r) => setImmediate(r));

async function withStore(fn: (store: SqliteStore) => Promise<void>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-cache-'));
  const store = await SqliteStore.open({ dataDir: dir });
  try { await fn(store); } finally { await store.close(); rmSync(dir, { recursive: true, force: true }); }
}

const all = (prefix: string) => ({ prefix, matches: () => true });

test('lists what the store holds and follows later writes', () => withStore(async (store) => {
  await store.create(key('a', 'one'), value('a', 'one'));
  const cache = new ResourceCache(store, CM);
  await cache.ready();
  await store.create(key('b', 'two'), value('b', 'two'));
  await cache.waitFor(await store.currentRevision());
  assert.deepEqual(cache.list(all(storageKey(CM, undefined))).map((c) => c.obj.metadata.name), ['one', 'two']);
  assert.deepEqual(cache.list(all(storageKey(CM, 'b'))).map((c) => c.obj.metadata.name), ['two']);
  const [one] = cache.list(all(storageKey(CM, 'a')));
  assert.equal(one.obj.metadata.resourceVersion, '1');
  assert.equal(one.json(), one.json(), 'serialised once, shared');
}));

test('a watch resumes from a revision inside the window; selector changes become ADDED/DELETED', () => withStore(async (store) => {
  const cache = new ResourceCache(store, CM);
  await cache.ready();
  const a = await store.create(key('ns', 'x'), value('ns', 'x', { team: 'a' }));
  await store.update(key('ns', 'x'), value('ns', 'x', { team: 'b' }), a.modRevision);
  await store.create(key('ns', 'y'), value('ns', 'y', { team: 'a' }));
  await settle();
  const seen: string[] = [];
  const w = cache.watch({ prefix: storageKey(CM, 'ns'), matches: (o) => o.metadata.labels?.team === 'a' }, 0, {
    onEvent: (type: CacheEventType, c) => seen.push(`${type} ${c.obj.metadata.name}`),
    onEnd: () => seen.push('end'),
  });
  await store.delete(key('ns', 'y'));
  await settle();
  assert.deepEqual(seen, ['ADDED x', 'DELETED x', 'ADDED y', 'DELETED y']);
  w.close();
}));

test('a revision older than the window is refused', () => withStore(async (store) => {
  const cache = new ResourceCache(store, CM, { windowSize: 2 });
  await cache.ready();
  for (let i = 0; i < 5; i++) await store.create(key('ns', `k${i}`), value('ns', `k${i}`));
  await settle();
  assert.equal(cache.canResumeFrom(1), false);
  assert.equal(cache.canResumeFrom(4), true);
  let ended = '';
  cache.watch(all(storageKey(CM, undefined)), 1, { onEvent: () => {}, onEnd: (r) => { ended = r; } });
  await settle();
  assert.equal(ended, 'too-old');
}));

test('many watchers share one store watcher', () => withStore(async (store) => {
  const cache = new ResourceCache(store, CM);
  await cache.ready();
  const counts = Array.from({ length: 200 }, () => 0);
  const ws = counts.map((_, i) => cache.watch(all(storageKey(CM, undefined)), cache.revision, { onEvent: () => { counts[i]++; }, onEnd: () => {} }));
  for (let i = 0; i < 10; i++) await store.create(key('ns', `w${i}`), value('ns', `w${i}`));
  await settle();
  assert.ok(counts.every((c) => c === 10));
  assert.equal(store.watcherCount, 1);
  ws.forEach((w) => w.close());
  assert.equal(cache.watcherCount, 0);
}));

test('lists of a namespace and of everything stay sorted and exact as objects come, change and go', () => withStore(async (store) => {
  const cache = new ResourceCache(store, CM);
  await cache.ready();
  const names = (prefix: string) => cache.list(all(prefix)).map((c) => `${c.obj.metadata.namespace}/${c.obj.metadata.name}`);
  // Namespaces whose names prefix each other ("a", "ab") and keys out of creation order.
  for (const [ns, name] of [['ab', 'z'], ['a', 'm'], ['a', 'b'], ['ab', 'a'], ['b', 'x']] as const) await store.create(key(ns, name), value(ns, name));
  await cache.waitFor(await store.currentRevision());
  assert.deepEqual(names(storageKey(CM, 'a')), ['a/b', 'a/m']);
  assert.deepEqual(names(storageKey(CM, 'ab')), ['ab/a', 'ab/z']);
  assert.deepEqual(names(storageKey(CM, undefined)), ['a/b', 'a/m', 'ab/a', 'ab/z', 'b/x']);
  assert.deepEqual(names('/registry/configmaps/a'), ['a/b', 'a/m', 'ab/a', 'ab/z'], 'a prefix that is not a whole namespace');

  const m = await store.get(key('a', 'm'));
  await store.update(key('a', 'm'), value('a', 'm', { changed: 'yes' }), m!.modRevision);
  await store.delete(key('a', 'b'));
  await store.create(key('a', 'c'), value('a', 'c'));
  await store.delete(key('b', 'x'));
  await cache.waitFor(await store.currentRevision());
  assert.deepEqual(names(storageKey(CM, 'a')), ['a/c', 'a/m']);
  assert.deepEqual(cache.list(all(storageKey(CM, 'a')))[1]!.obj.metadata.labels, { changed: 'yes' }, 'the list has the latest state');
  assert.deepEqual(names(storageKey(CM, 'b')), []);
  assert.deepEqual(names(storageKey(CM, undefined)), ['a/c', 'a/m', 'ab/a', 'ab/z']);
  const labelled = cache.list({ prefix: storageKey(CM, 'a'), matches: (o) => o.metadata.labels?.changed === 'yes' });
  assert.deepEqual(labelled.map((c) => c.obj.metadata.name), ['m']);
}));

test('the kept-sorted keys match a fresh sort through random creates and deletes', () => withStore(async (store) => {
  const cache = new ResourceCache(store, CM);
  await cache.ready();
  const live = new Set<string>();
  let seed = 7;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const names = (prefix: string) => cache.list(all(prefix)).map((c) => c.key);
  const expected = (prefix: string) => [...live].filter((k) => k.startsWith(prefix)).sort();
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 60; i++) {
      const k = key(`ns${rand(4)}`, `o${rand(40)}`);
      const ns = k.split('/')[3]!;
      if (live.has(k)) { await store.delete(k); live.delete(k); } else { await store.create(k, value(ns, k.split('/')[4]!)); live.add(k); }
    }
    await cache.waitFor(await store.currentRevision());
    assert.deepEqual(names(storageKey(CM, undefined)), expected(storageKey(CM, undefined)), `all, round ${round}`);
    for (let n = 0; n < 4; n++) assert.deepEqual(names(storageKey(CM, `ns${n}`)), expected(storageKey(CM, `ns${n}`)), `ns${n}, round ${round}`);
  }
}));
