// Watch and list against compacted history: 410 Gone, as clients expect to re-list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../store/index.ts';
import { lookupResource } from '../../api/scheme.ts';
import { ApiError } from '../errors.ts';
import { Registry } from './registry.ts';
import { startWatch, type ApiWatchEvent } from './watch.ts';

const NS = lookupResource('', 'v1', 'namespaces')!;
const CM = lookupResource('', 'v1', 'configmaps')!;

async function withRegistry(fn: (registry: Registry, store: SqliteStore) => Promise<void>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-watch-'));
  const store = await SqliteStore.open({ dataDir: dir });
  const registry = new Registry(store);
  try {
    await registry.create(NS, undefined, { metadata: { name: 'default' } });
    await fn(registry, store);
  } finally {
    registry.watchCache.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a watch from a compacted resourceVersion gets a 410 ERROR event and ends', () => withRegistry(async (registry, store) => {
  const first = await registry.create(CM, 'default', { metadata: { name: 'a' } });
  for (let i = 0; i < 5; i++) await registry.create(CM, 'default', { metadata: { name: `b${i}` } });
  await store.compact(await store.currentRevision());
  const events: ApiWatchEvent[] = [];
  let ended = false;
  await startWatch(registry, CM, 'default', { resourceVersion: first.metadata.resourceVersion }, (e) => events.push(e), () => { ended = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(events.length, 1);
  assert.equal(events[0].type, 'ERROR');
  assert.equal((events[0].object as { code: number }).code, 410);
  assert.equal(ended, true);
}));

test('an exact list or a continue token at a compacted revision is 410 Gone', () => withRegistry(async (registry, store) => {
  for (let i = 0; i < 4; i++) await registry.create(CM, 'default', { metadata: { name: `c${i}` } });
  const page = await registry.list(CM, 'default', { limit: 2 });
  const old = page.resourceVersion;
  await registry.create(CM, 'default', { metadata: { name: 'later' } });
  await store.compact(await store.currentRevision());
  await assert.rejects(registry.list(CM, 'default', { resourceVersion: old, resourceVersionMatch: 'Exact' }), (e: ApiError) => e.code === 410);
  await assert.rejects(registry.list(CM, 'default', { limit: 2, continue: page.continue }), (e: ApiError) => e.code === 410 && /continue parameter is too old/.test(e.message));
}));

test('a watch inside the cache window resumes with exactly the later events', () => withRegistry(async (registry) => {
  const a = await registry.create(CM, 'default', { metadata: { name: 'w' } });
  const events: ApiWatchEvent[] = [];
  const w = await startWatch(registry, CM, 'default', {}, (e) => events.push(e), () => {});
  await registry.guaranteedUpdate(CM, 'default', 'w', (o) => ({ ...o, data: { k: 'v' } }));
  await registry.delete(CM, 'default', 'w');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
  w.close();
  const resumed: ApiWatchEvent[] = [];
  const w2 = await startWatch(registry, CM, 'default', { resourceVersion: a.metadata.resourceVersion }, (e) => resumed.push(e), () => {});
  assert.deepEqual(resumed.map((e) => e.type), ['MODIFIED', 'DELETED']);
  w2.close();
}));
