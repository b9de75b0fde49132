// The Store contract as tests, run against every driver (contract.test.ts: SQLite and a
// real local etcd). Revisions are checked relative to the store's starting revision, since
// etcd starts at 1 and SQLite at 0. Driver-specific behaviour (files, crash recovery,
// batching) stays in each driver's own tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactedError, KeyExistsError, KeyNotFoundError, RevisionConflictError, StoreError } from './types.ts';
import type { KeyValue, Store, WatchEvent } from './types.ts';

export interface StoreHandle { store: Store; cleanup(): Promise<void> }
export type OpenStore = () => Promise<StoreHandle>;
type SkipOption = string | false;

async function until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function collect(store: Store, prefix: string, from: number, progress = false) {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  const progressed: number[] = [];
  let watcher: { close(): void } | undefined;
  try {
    watcher = store.watch(prefix, from, {
      onEvent: (e) => { events.push(e); },
      onError: (e) => { errors.push(e); },
      ...(progress ? { onProgress: (r: number) => { progressed.push(r); } } : {}),
    });
  } catch (err) {
    errors.push(err as Error); // a driver may refuse at once or through onError
  }
  return { events, errors, progressed, close: () => watcher?.close() };
}

/** Random creates/updates/deletes; returns the expected events and the state after each write. */
async function randomHistory(store: Store, keys: string[], writes: number, seed: number) {
  let s = seed >>> 0;
  const random = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
  const state = new Map<string, KeyValue>();
  const snapshots: Array<{ revision: number; state: Map<string, KeyValue> }> = [];
  const events: WatchEvent[] = [];
  for (let i = 0; i < writes; i++) {
    const key = keys[Math.floor(random() * keys.length)]!;
    const current = state.get(key);
    const value = JSON.stringify({ i, key });
    let kv: KeyValue;
    if (!current) {
      kv = await store.create(key, value);
      state.set(key, kv);
      events.push({ type: 'create', kv });
    } else if (random() < 0.25) {
      kv = await store.delete(key, current.modRevision);
      state.delete(key);
      events.push({ type: 'delete', kv, prev: current });
    } else {
      kv = await store.update(key, value, current.modRevision);
      state.set(key, kv);
      events.push({ type: 'update', kv, prev: current });
    }
    snapshots.push({ revision: kv.modRevision, state: new Map(state) });
  }
  return { events, snapshots };
}

const sorted = (m: Map<string, KeyValue>): KeyValue[] =>
  [...m.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

export function storeContract(name: string, open: OpenStore, skip: SkipOption = false): void {
  const it = (title: string, fn: (store: Store) => Promise<void>) =>
    test(`${name}: ${title}`, { skip }, async () => {
      const h = await open();
      try { await fn(h.store); } finally { await h.cleanup(); }
    });

  it('create, get, update and delete with their error classes', async (store) => {
    const base = await store.currentRevision();
    const a = await store.create('/r/a', 'v1');
    assert.deepEqual(a, { key: '/r/a', value: 'v1', modRevision: base + 1, createRevision: base + 1 });
    await assert.rejects(store.create('/r/a', 'again'), KeyExistsError);
    assert.deepEqual(await store.get('/r/a'), a);
    assert.equal(await store.get('/r/missing'), undefined);
    await assert.rejects(store.update('/r/missing', 'x', 1), KeyNotFoundError);
    await assert.rejects(store.update('/r/a', 'x', base + 7), (err: unknown) =>
      err instanceof RevisionConflictError && JSON.stringify(err.current) === JSON.stringify(a));
    const a2 = await store.update('/r/a', 'v2', a.modRevision);
    assert.deepEqual(a2, { key: '/r/a', value: 'v2', modRevision: base + 2, createRevision: base + 1 });
    await assert.rejects(store.delete('/r/a', a.modRevision), RevisionConflictError);
    assert.deepEqual(await store.delete('/r/a', a2.modRevision), { key: '/r/a', value: 'v2', modRevision: base + 3, createRevision: base + 1 });
    await assert.rejects(store.delete('/r/a'), KeyNotFoundError);
    assert.equal(await store.currentRevision(), base + 3, 'failed writes use no revision');
    const again = await store.create('/r/a', 'v3');
    assert.equal(again.createRevision, base + 4);
  });

  it('count and list select by prefix, sorted by key, and page with more/remaining', async (store) => {
    for (const k of ['/p/c', '/p/a', '/pq/x', '/p/b', '/o/z', '/p']) await store.create(k, k);
    assert.equal(await store.count('/p/'), 3);
    const list = await store.list('/p/');
    assert.deepEqual(list.items.map((kv) => kv.key), ['/p/a', '/p/b', '/p/c']);
    assert.equal(list.revision, await store.currentRevision());
    for (let i = 0; i < 25; i++) await store.create(`/pg/${String(24 - i).padStart(2, '0')}`, 'v');
    const seen: string[] = [];
    const pages: Array<[boolean, number]> = [];
    let startKey: string | undefined;
    let revision = 0;
    for (;;) {
      const page = await store.list('/pg/', { limit: 10, startKey, revision });
      revision = page.revision;
      seen.push(...page.items.map((kv) => kv.key));
      pages.push([page.more, page.remaining]);
      if (!page.more) break;
      startKey = page.items.at(-1)!.key + '\0';
      await store.create(`/pg/${seen.length}a`, 'written between pages');
    }
    assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `/pg/${String(i).padStart(2, '0')}`));
    assert.deepEqual(pages, [[true, 15], [true, 5], [false, 0]]);
  });

  it('list at past revisions matches a model of the history', async (store) => {
    const { snapshots } = await randomHistory(store, ['/h/a', '/h/b', '/h/c', '/h/d'], 80, 1);
    for (const s of snapshots) {
      const list = await store.list('/h/', { revision: s.revision });
      assert.equal(list.revision, s.revision);
      assert.deepEqual(list.items, sorted(s.state), `revision ${s.revision}`);
    }
  });

  it('live and replayed watches carry type, value and prev in revision order', async (store) => {
    const base = await store.currentRevision();
    const live = collect(store, '/e/', base);
    const other = collect(store, '/other/', base);
    const { events } = await randomHistory(store, ['/e/a', '/e/b', '/e/c'], 60, 2);
    await until(() => live.events.length === events.length, 'live events');
    assert.deepEqual(live.events, events);
    const replayed = collect(store, '/e/', base);
    await until(() => replayed.events.length === events.length, 'replayed events');
    assert.deepEqual(replayed.events, events);
    const middle = collect(store, '/e/', events[29]!.kv.modRevision);
    await until(() => middle.events.length === 30, 'replay from the middle');
    assert.deepEqual(middle.events, events.slice(30));
    assert.equal(other.events.length, 0);
    for (const w of [live, other, replayed, middle]) { w.close(); assert.deepEqual(w.errors, []); }
  });

  it('a watch from a future revision skips events up to it', async (store) => {
    const a = await store.create('/f/a', '1');
    const w = collect(store, '/f/', a.modRevision + 2);
    let kv = a;
    for (const v of ['2', '3', '4']) kv = await store.update('/f/a', v, kv.modRevision);
    await until(() => w.events.length > 0, 'event');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(w.events.map((e) => e.kv.value), ['4']);
    w.close();
  });

  it('replay joins live with no gap and no duplicate under concurrent writes', async (store) => {
    const base = await store.currentRevision();
    await randomHistory(store, Array.from({ length: 20 }, (_, i) => `/c/${i}`), 300, 3);
    await store.create('/other/x', 'not under the prefix');
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing || written < 20) await store.create(`/c/live-${written++}`, 'v');
    })();
    const fromStart = collect(store, '/c/', base);
    const fromMiddle = collect(store, '/c/', base + 150);
    await new Promise((r) => setTimeout(r, 100));
    writing = false;
    await writer;
    const last = await store.currentRevision();
    const revs = (w: typeof fromStart) => w.events.map((e) => e.kv.modRevision);
    await until(() => revs(fromStart).at(-1) === last && revs(fromMiddle).at(-1) === last, 'catch-up');
    await new Promise((r) => setTimeout(r, 50));
    const expected: number[] = [];
    for (let r = base + 1; r <= last; r++) if (r !== base + 301) expected.push(r);
    assert.deepEqual(revs(fromStart), expected);
    assert.deepEqual(revs(fromMiddle), expected.filter((r) => r > base + 150));
    assert.deepEqual([...fromStart.errors, ...fromMiddle.errors], []);
    fromStart.close(); fromMiddle.close();
  });

  it('hundreds of watchers each get exactly their prefix; a throwing one ends alone', async (store) => {
    const base = await store.currentRevision();
    const watchers = Array.from({ length: 200 }, (_, i) => collect(store, `/w/ns${i}/`, base));
    const all = collect(store, '/w/', base);
    let thrown = 0;
    let throwerError: Error | undefined;
    store.watch('/w/', base, { onEvent: () => { thrown++; throw new Error('handler bug'); }, onError: (err) => { throwerError = err; } });
    for (let i = 0; i < 200; i++) await store.create(`/w/ns${i}/pod`, String(i));
    for (let i = 0; i < 200; i += 3) await store.delete(`/w/ns${i}/pod`);
    await until(() => all.events.length === 267, 'all events');
    watchers.forEach((w, i) => {
      assert.deepEqual(w.events.map((e) => `${e.type} ${e.kv.key}`),
        i % 3 === 0 ? [`create /w/ns${i}/pod`, `delete /w/ns${i}/pod`] : [`create /w/ns${i}/pod`], `ns${i}`);
    });
    assert.equal(thrown, 1);
    assert.equal(throwerError?.message, 'handler bug');
    for (const w of [...watchers, all]) w.close();
  });

  it('closing the store ends open watchers with a StoreError', async (store) => {
    const w = collect(store, '/', await store.currentRevision());
    await store.close();
    await until(() => w.errors.length === 1, 'error');
    assert.ok(w.errors[0] instanceof StoreError);
    assert.throws(() => store.watch('/', 0, { onEvent() {} }), StoreError);
  });

  it('progress reaches a watcher whose prefix saw no writes', async (store) => {
    const w = collect(store, '/quiet/', await store.currentRevision(), true);
    const kv = await store.create('/busy/x', '1');
    await until(() => w.progressed.some((r) => r >= kv.modRevision), 'progress');
    assert.equal(w.events.length, 0);
    w.close();
  });

  it('compaction keeps current values; older reads and watches fail with CompactedError', async (store) => {
    const { events, snapshots } = await randomHistory(store, ['/k/a', '/k/b', '/k/c'], 40, 4);
    const at = snapshots[19]!.revision;
    await store.compact(at);
    assert.ok(await store.compactRevision() >= at);
    await assert.rejects(store.list('/k/', { revision: at - 1 }), CompactedError);
    assert.deepEqual((await store.list('/k/')).items, sorted(snapshots.at(-1)!.state));
    assert.deepEqual((await store.list('/k/', { revision: at })).items, sorted(snapshots[19]!.state));
    const old = collect(store, '/k/', at - 1);
    await until(() => old.errors.length === 1, 'CompactedError');
    assert.ok(old.errors[0] instanceof CompactedError);
    const fromAt = collect(store, '/k/', at);
    await until(() => fromAt.events.length === 20, 'replay after compaction');
    assert.deepEqual(fromAt.events, events.slice(20));
    fromAt.close();
  });
}
