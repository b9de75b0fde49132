// guaranteedUpdate starts from the watch cache's copy: a stale copy must never lose a write,
// fail a precondition the store would pass, or hide a change as a no-op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../store/index.ts';
import type { Store, WatchEvent, WatchHandlers } from '../../store/types.ts';
import { lookupResource } from '../../api/scheme.ts';
import type { KObject } from '../../api/object.ts';
import { encode } from './codec.ts';
import { Registry } from './registry.ts';

const NS = lookupResource('', 'v1', 'namespaces')!;
const CM = lookupResource('', 'v1', 'configmaps')!;
const KEY = '/registry/configmaps/default/a';

/** The store, with watch delivery that can be held back (a cache that lags) and a count of reads. */
function laggingStore(inner: Store) {
  const held: (() => void)[] = [];
  const ctl = { paused: false, gets: 0, release() { for (const f of held.splice(0)) f(); } };
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'get') return (key: string) => { ctl.gets++; return target.get(key); };
      if (prop === 'watch') {
        return (prefix: string, from: number, h: WatchHandlers) => target.watch(prefix, from, {
          ...h,
          onEvent: (ev: WatchEvent) => { if (ctl.paused) held.push(() => h.onEvent(ev)); else h.onEvent(ev); },
          onProgress: (rev: number) => { if (ctl.paused) held.push(() => h.onProgress?.(rev)); else h.onProgress?.(rev); },
        });
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { store, ctl };
}

async function withRegistry(fn: (registry: Registry, store: SqliteStore, ctl: ReturnType<typeof laggingStore>['ctl']) => Promise<void>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-gu-'));
  const inner = await SqliteStore.open({ dataDir: dir });
  const { store, ctl } = laggingStore(inner);
  const registry = new Registry(store);
  try {
    await registry.create(NS, undefined, { metadata: { name: 'default' } });
    await registry.create(CM, 'default', { metadata: { name: 'a' }, data: { a: '1' } });
    await registry.watchCache.for(CM);
    await fn(registry, inner, ctl);
  } finally {
    registry.watchCache.stop();
    await inner.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A write the cache has not seen yet (delivery held back). */
async function writeBehindCache(store: SqliteStore, ctl: { paused: boolean }, data: Record<string, string>): Promise<number> {
  ctl.paused = true;
  const kv = (await store.get(KEY))!;
  const obj = JSON.parse(kv.value) as KObject;
  obj.data = data;
  return (await store.update(KEY, encode(obj), kv.modRevision)).modRevision;
}

const setData = (k: string, v: string) => (o: KObject) => { o.data = { ...(o.data as Record<string, string>), [k]: v }; return o; };

test('an update on a fresh cache does not read the store', () => withRegistry(async (registry, _store, ctl) => {
  ctl.gets = 0;
  const out = await registry.guaranteedUpdate(CM, 'default', 'a', setData('b', '2'));
  assert.deepEqual(out.data, { a: '1', b: '2' });
  assert.equal(ctl.gets, 0);
}));

test('an update on a stale cache retries from the store and keeps the write it had not seen', () => withRegistry(async (registry, store, ctl) => {
  const behind = await writeBehindCache(store, ctl, { a: '1', x: 'y' });
  const out = await registry.guaranteedUpdate(CM, 'default', 'a', setData('b', '2'));
  assert.deepEqual(out.data, { a: '1', x: 'y', b: '2' });
  assert.ok(Number(out.metadata.resourceVersion) > behind);
  const stored = JSON.parse((await store.get(KEY))!.value) as KObject;
  assert.deepEqual(stored.data, { a: '1', x: 'y', b: '2' });
  ctl.release();
}));

test('a PUT with the store\'s resourceVersion succeeds while the cache still has an older one', () => withRegistry(async (registry, store, ctl) => {
  const behind = await writeBehindCache(store, ctl, { a: '2' });
  const out = await registry.update(CM, 'default', 'a', { metadata: { name: 'a', resourceVersion: String(behind) }, data: { a: '3' } });
  assert.deepEqual(out.data, { a: '3' });
  ctl.release();
}));

test('a PUT with a resourceVersion the store has moved past is still a conflict', () => withRegistry(async (registry, store, ctl) => {
  const before = (await store.get(KEY))!.modRevision;
  await writeBehindCache(store, ctl, { a: '2' });
  await assert.rejects(
    registry.update(CM, 'default', 'a', { metadata: { name: 'a', resourceVersion: String(before) }, data: { a: '3' } }),
    (err: { code?: number }) => err.code === 409,
  );
  ctl.release();
}));

test('an update that is a no-op against the stale copy but a change in the store is written', () => withRegistry(async (registry, store, ctl) => {
  const behind = await writeBehindCache(store, ctl, { a: '2' });
  // The cache still says a=1: setting a=1 looks like a no-op against it.
  const out = await registry.guaranteedUpdate(CM, 'default', 'a', setData('a', '1'));
  assert.deepEqual(out.data, { a: '1' });
  assert.ok(Number(out.metadata.resourceVersion) > behind);
  assert.deepEqual((JSON.parse((await store.get(KEY))!.value) as KObject).data, { a: '1' });
  ctl.release();
}));

test('a true no-op writes nothing and returns an object the caller may change', () => withRegistry(async (registry, store) => {
  const rev = await store.currentRevision();
  const out = await registry.guaranteedUpdate(CM, 'default', 'a', setData('a', '1'));
  assert.equal(await store.currentRevision(), rev);
  out.data = { changed: 'yes' };
  const again = await registry.get(CM, 'default', 'a');
  assert.deepEqual(again.data, { a: '1' });
  const cache = await registry.watchCache.for(CM);
  assert.deepEqual(cache.get(KEY)!.obj.data, { a: '1' });
}));
