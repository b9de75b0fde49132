import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  CompactedError, KeyExistsError, KeyNotFoundError, RevisionConflictError,
} from '../types.ts';
import type { KeyValue, WatchEvent } from '../types.ts';
import type { CompactorTimers } from './compactor.ts';
import { DatastoreLockedError, FutureRevisionError, StoreClosedError } from './errors.ts';
import { SqliteStore, databasePath } from './sqlite-store.ts';
import type { SqliteStoreOptions } from './sqlite-store.ts';

// ---- helpers ---------------------------------------------------------------------------

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'skiff-sqlite-'));
}

/** Opens a store in a fresh directory; the directory is removed when the test ends. */
async function withStore(
  t: { after(fn: () => unknown): void },
  opts: Partial<SqliteStoreOptions> = {},
): Promise<{ store: SqliteStore; dataDir: string }> {
  const dataDir = opts.dataDir ?? tempDir();
  const store = await SqliteStore.open({ ...opts, dataDir });
  t.after(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { store, dataDir };
}

interface Collected {
  events: WatchEvent[];
  errors: Error[];
  revisions(): number[];
}

function collect(store: SqliteStore, prefix: string, from: number): Collected & { close(): void } {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  const watcher = store.watch(prefix, from, {
    onEvent: (e) => { events.push(e); },
    onError: (e) => { errors.push(e); },
  });
  return { events, errors, revisions: () => events.map((e) => e.kv.modRevision), close: () => watcher.close() };
}

async function until(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Deterministic pseudo-random numbers so a failing run can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Applies random creates/updates/deletes to `keys` and returns the state after every
 * revision (the model the store is checked against) plus the expected events.
 */
async function randomHistory(
  store: SqliteStore, keys: string[], writes: number, seed: number, initial = new Map<string, KeyValue>(),
) {
  const random = rng(seed);
  const state = new Map(initial);
  /** snapshots[i]: the state after the i-th write of this call (0: before any). */
  const snapshots: Map<string, KeyValue>[] = [new Map(state)];
  const events: WatchEvent[] = [];
  for (let i = 0; i < writes; i++) {
    const key = keys[Math.floor(random() * keys.length)]!;
    const current = state.get(key);
    const value = JSON.stringify({ i, key });
    if (!current) {
      const kv = await store.create(key, value);
      state.set(key, kv);
      events.push({ type: 'create', kv });
    } else if (random() < 0.25) {
      const kv = await store.delete(key, current.modRevision);
      state.delete(key);
      events.push({ type: 'delete', kv, prev: current });
    } else {
      const kv = await store.update(key, value, current.modRevision);
      state.set(key, kv);
      events.push({ type: 'update', kv, prev: current });
    }
    snapshots.push(new Map(state));
  }
  return { snapshots, events, state };
}

const sortedValues = (m: Map<string, KeyValue>, prefix = ''): KeyValue[] =>
  [...m.values()].filter((kv) => kv.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** Checks that the current table holds exactly the newest non-delete log row of every key. */
function assertCurrentMatchesLog(path: string): void {
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const newest = db.prepare(`
      SELECT l.key, l.revision, l.create_revision, l.value FROM log l
      WHERE l.deleted = 0 AND l.revision = (SELECT MAX(revision) FROM log n WHERE n.key = l.key)
      ORDER BY l.key`).all();
    const current = db.prepare('SELECT key, revision, create_revision, value FROM current ORDER BY key').all();
    assert.deepEqual(current, newest);
  } finally {
    db.close();
  }
}

// ---- CRUD ------------------------------------------------------------------------------

test('create, get, update and delete with their error classes', async (t) => {
  const { store } = await withStore(t);
  assert.equal(await store.currentRevision(), 0);

  const a = await store.create('/r/a', 'v1');
  assert.deepEqual(a, { key: '/r/a', value: 'v1', modRevision: 1, createRevision: 1 });
  await assert.rejects(store.create('/r/a', 'again'), KeyExistsError);
  assert.deepEqual(await store.get('/r/a'), a);
  assert.equal(await store.get('/r/missing'), undefined);

  await assert.rejects(store.update('/r/missing', 'x', 1), KeyNotFoundError);
  await assert.rejects(store.update('/r/a', 'x', 7), (err: unknown) => {
    assert.ok(err instanceof RevisionConflictError);
    assert.deepEqual(err.current, a); // the caller can retry from the current value
    return true;
  });
  const a2 = await store.update('/r/a', 'v2', 1);
  assert.deepEqual(a2, { key: '/r/a', value: 'v2', modRevision: 2, createRevision: 1 });

  await assert.rejects(store.delete('/r/a', 1), RevisionConflictError);
  const gone = await store.delete('/r/a', 2);
  assert.deepEqual(gone, { key: '/r/a', value: 'v2', modRevision: 3, createRevision: 1 });
  assert.equal(await store.get('/r/a'), undefined);
  await assert.rejects(store.delete('/r/a'), KeyNotFoundError);

  // Failed writes use no revision; a re-created key starts a new life.
  assert.equal(await store.currentRevision(), 3);
  const again = await store.create('/r/a', 'v3');
  assert.deepEqual(again, { key: '/r/a', value: 'v3', modRevision: 4, createRevision: 4 });
  await store.create('/r/b', 'b');
  assert.deepEqual(await store.delete('/r/b'), { key: '/r/b', value: 'b', modRevision: 6, createRevision: 5 });
});

test('in one group commit a write whose check fails fails alone; the others commit in order', async (t) => {
  const { store } = await withStore(t);
  await store.create('/r/x', 'x0');
  // All issued in the same turn: one transaction.
  const results = await Promise.allSettled([
    store.create('/r/a', 'a'),
    store.create('/r/a', 'dup'),
    store.update('/r/x', 'x1', 99),
    store.update('/r/x', 'x1', 1),
    store.delete('/r/missing'),
    store.create('/r/b', 'b'),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
  assert.ok((results[1] as PromiseRejectedResult).reason instanceof KeyExistsError);
  assert.ok((results[2] as PromiseRejectedResult).reason instanceof RevisionConflictError);
  assert.ok((results[4] as PromiseRejectedResult).reason instanceof KeyNotFoundError);
  const revs = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<KeyValue>).value.modRevision);
  assert.deepEqual(revs, [2, 3, 4]);
  assert.equal((await store.get('/r/a'))!.value, 'a');
  assert.equal((await store.get('/r/x'))!.value, 'x1');
  assert.equal(await store.currentRevision(), 4);
});

test('count and list select by prefix, sorted by key', async (t) => {
  const { store } = await withStore(t);
  for (const k of ['/p/c', '/p/a', '/pq/x', '/p/b', '/o/z', '/p']) await store.create(k, k);
  assert.equal(await store.count('/p/'), 3);
  assert.equal(await store.count(''), 6);
  const list = await store.list('/p/');
  assert.deepEqual(list.items.map((kv) => kv.key), ['/p/a', '/p/b', '/p/c']);
  assert.equal(list.revision, 6);
  assert.equal(list.more, false);
  assert.deepEqual((await store.list('')).items.map((kv) => kv.key), ['/o/z', '/p', '/p/a', '/p/b', '/p/c', '/pq/x']);
});

test('the revision survives reopening, even when compaction deleted its row', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  let store = await SqliteStore.open({ dataDir });
  await store.create('/k', '1');
  await store.delete('/k');
  await store.compact(2); // removes both rows: the tombstone and what it deleted
  await store.close();

  store = await SqliteStore.open({ dataDir });
  assert.equal(await store.currentRevision(), 2);
  assert.equal(await store.compactRevision(), 2);
  assert.equal((await store.create('/k', '2')).modRevision, 3);
  await store.close();
  await assert.rejects(store.get('/k'), StoreClosedError);
});

test('a second opener of the same data dir is refused', async (t) => {
  const { dataDir } = await withStore(t);
  await assert.rejects(SqliteStore.open({ dataDir }), DatastoreLockedError);
});

// ---- reads at a revision, pagination -----------------------------------------------------

test('list at every past revision matches a model of the history', async (t) => {
  const { store } = await withStore(t);
  const keys = range(0, 14).map((i) => `/h/${String.fromCharCode(97 + i)}`);
  const { snapshots } = await randomHistory(store, keys, 300, 1);
  for (let rev = 1; rev < snapshots.length; rev++) {
    const list = await store.list('/h/', { revision: rev });
    assert.equal(list.revision, rev);
    assert.deepEqual(list.items, sortedValues(snapshots[rev]!), `revision ${rev}`);
  }
  await assert.rejects(store.list('/h/', { revision: 301 }), FutureRevisionError);
});

test('pagination returns every key once with more and remaining', async (t) => {
  const { store } = await withStore(t);
  const keys = range(0, 24).map((i) => `/pg/${String(i).padStart(2, '0')}`);
  for (const k of [...keys].reverse()) await store.create(k, k);
  await store.create('/pg0', 'outside the prefix');

  const seen: string[] = [];
  const pages: Array<{ more: boolean; remaining: number }> = [];
  let startKey: string | undefined;
  let revision = 0;
  for (;;) {
    const page = await store.list('/pg/', { limit: 10, startKey, revision });
    revision = page.revision; // later pages read the same snapshot, like a continue token
    seen.push(...page.items.map((kv) => kv.key));
    pages.push({ more: page.more, remaining: page.remaining });
    if (!page.more) break;
    startKey = page.items.at(-1)!.key + '\0';
    // Writes between pages must not show up in the snapshot being paged.
    await store.create(`/pg/${seen.length}a`, 'new');
    await store.delete(keys.pop()!);
  }
  assert.deepEqual(seen, range(0, 24).map((i) => `/pg/${String(i).padStart(2, '0')}`));
  assert.deepEqual(pages, [{ more: true, remaining: 15 }, { more: true, remaining: 5 }, { more: false, remaining: 0 }]);

  assert.deepEqual((await store.list('/pg/', { startKey: '/pg0' })).items, []);
  // The same at the current revision.
  const first = await store.list('/pg/', { limit: 3 });
  assert.equal(first.items.length, 3);
  assert.equal(first.remaining, (await store.count('/pg/')) - 3);
});

// ---- watch -------------------------------------------------------------------------------

test('events carry the right type, value and prev, live and replayed alike', async (t) => {
  const { store } = await withStore(t);
  const live = collect(store, '/e/', 0);
  const { events: expected } = await randomHistory(store, ['/e/a', '/e/b', '/e/c'], 120, 2);
  await until(() => live.events.length === expected.length, 'live events');
  assert.deepEqual(live.events, expected);

  const replayed = collect(store, '/e/', 0);
  await until(() => replayed.events.length === expected.length, 'replayed events');
  assert.deepEqual(replayed.events, expected);
  const deletes = expected.filter((e) => e.type === 'delete');
  assert.ok(deletes.length > 0 && deletes.every((e) => e.kv.value === e.prev!.value && e.kv.modRevision > e.prev!.modRevision));
});

test('handlers run after the write returns, never inside it', async (t) => {
  const { store } = await withStore(t);
  const w = collect(store, '/', 0);
  const pending = store.create('/x', '1');
  assert.equal(w.events.length, 0);
  await pending;
  await until(() => w.events.length === 1, 'event');
});

test('a watch from a future revision skips events up to it', async (t) => {
  const { store } = await withStore(t);
  await store.create('/f/a', '1');
  const w = collect(store, '/f/', 3);
  await store.update('/f/a', '2', 1);
  await store.update('/f/a', '3', 2);
  await store.update('/f/a', '4', 3);
  await until(() => w.events.length > 0, 'event');
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(w.revisions(), [4]);
});

test('watch joins replay to live with no gap and no duplicate under concurrent writes', async (t) => {
  // A small replay batch makes the catch-up span many event-loop turns, with writes landing between them.
  const { store } = await withStore(t, { watch: { replayBatch: 37 } });
  const keys = range(0, 49).map((i) => `/c/${i}`);
  await randomHistory(store, keys, 1000, 3);
  await store.create('/other/x', 'not under the prefix');

  let writing = true;
  let written = 0;
  const writer = (async () => {
    let i = 0;
    // At least 20 live writes, however slow the machine: the replay must be overlapped.
    while (writing || written < 20) {
      written++;
      await store.create(`/c/live-${i++}`, 'v');
      await new Promise((r) => setImmediate(r));
    }
  })();
  const fromStart = collect(store, '/c/', 0);
  const fromMiddle = collect(store, '/c/', 400);
  await new Promise((r) => setTimeout(r, 50));
  writing = false;
  await writer;
  const last = await store.currentRevision();
  await until(() => fromStart.revisions().at(-1) === last && fromMiddle.revisions().at(-1) === last, 'catch-up');
  await new Promise((r) => setTimeout(r, 10)); // anything extra would show up now

  const expectedRevisions = [...range(1, 1000), ...range(1002, last)];
  assert.ok(last > 1010, 'the writer overlapped the replay');
  assert.deepEqual(fromStart.revisions(), expectedRevisions);
  assert.deepEqual(fromMiddle.revisions(), expectedRevisions.filter((r) => r > 400));
  assert.deepEqual(fromStart.errors, []);
});

test('hundreds of watchers each get exactly their prefix; a throwing one ends alone', async (t) => {
  const { store } = await withStore(t);
  const watchers = range(0, 299).map((i) => ({ i, w: collect(store, `/w/ns${i}/`, 0) }));
  const all = collect(store, '/w/', 0);
  const ns1x = collect(store, '/w/ns1', 0); // ns1, ns10-19, ns100-199
  const exact = collect(store, '/w/ns7/pod', 0); // a prefix that equals a key
  let thrown = 0;
  let throwerError: Error | undefined;
  const thrower = store.watch('/w/', 0, {
    onEvent: () => { thrown++; throw new Error('handler bug'); },
    onError: (err) => { throwerError = err; },
  });
  assert.ok(thrower);

  for (let i = 0; i < 300; i++) await store.create(`/w/ns${i}/pod`, String(i));
  for (let i = 0; i < 300; i += 3) await store.delete(`/w/ns${i}/pod`);
  await until(() => all.events.length === 400, 'all events');

  for (const { i, w } of watchers) {
    const expected = i % 3 === 0 ? ['create', 'delete'] : ['create'];
    assert.deepEqual(w.events.map((e) => `${e.type}`), expected, `ns${i}`);
    assert.ok(w.events.every((e) => e.kv.key === `/w/ns${i}/pod`));
  }
  assert.equal(ns1x.events.filter((e) => e.type === 'create').length, 111);
  assert.deepEqual(exact.events.map((e) => e.kv.key), ['/w/ns7/pod']);
  assert.equal(thrown, 1);
  assert.equal(throwerError?.message, 'handler bug');

  // Closed watchers get nothing more and leave the index.
  const before = store.watcherCount;
  watchers[5]!.w.close();
  assert.equal(store.watcherCount, before - 1);
  await store.update('/w/ns5/pod', 'again', watchers[5]!.w.events[0]!.kv.modRevision);
  await until(() => all.events.length === 401, 'update');
  assert.equal(watchers[5]!.w.events.length, 1);
});

test('watching below the compact revision fails; at it, replay starts right after', async (t) => {
  const { store } = await withStore(t);
  const { events } = await randomHistory(store, ['/k/a', '/k/b', '/k/c'], 60, 4);
  await store.compact(30);
  assert.equal(await store.compactRevision(), 30);
  assert.throws(() => store.watch('/k/', 29, { onEvent() {} }), (err: unknown) =>
    err instanceof CompactedError && err.requested === 29 && err.compacted === 30);
  await assert.rejects(store.list('/k/', { revision: 29 }), CompactedError);
  await assert.rejects(store.compact(61), FutureRevisionError);

  const w = collect(store, '/k/', 30);
  await until(() => w.events.length === 30, 'replay after compaction');
  assert.deepEqual(w.events, events.slice(30));
});

test('a watcher still replaying when compaction passes it gets CompactedError', async (t) => {
  const { store } = await withStore(t, { watch: { replayBatch: 10 } });
  await randomHistory(store, ['/s/a', '/s/b'], 100, 5);
  const received: number[] = [];
  let error: Error | undefined;
  store.watch('/s/', 0, {
    onEvent: (e) => {
      received.push(e.kv.modRevision);
      if (received.length === 1) void store.compact(50);
    },
    onError: (err) => { error = err; },
  });
  await until(() => error !== undefined, 'error');
  assert.ok(error instanceof CompactedError);
  assert.deepEqual(received, range(1, 10)); // the first batch, then nothing it could not trust
});

test('closing the store ends open watchers with StoreClosedError', async () => {
  const dataDir = tempDir();
  try {
    const store = await SqliteStore.open({ dataDir });
    const w = collect(store, '/', 0);
    await store.close();
    await until(() => w.errors.length === 1, 'error');
    assert.ok(w.errors[0] instanceof StoreClosedError);
    assert.throws(() => store.watch('/', 0, { onEvent() {} }), StoreClosedError);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// ---- compaction --------------------------------------------------------------------------

test('compaction keeps current values and every read at or after the compact revision', async (t) => {
  const { store, dataDir } = await withStore(t, { compaction: { batchRevisions: 16 } });
  const keys = range(0, 19).map((i) => `/m/${i}`);
  const first = await randomHistory(store, keys, 400, 6);
  await store.compact(150);
  // More history on top, then compact again: rows kept by the first pass can go now.
  const second = await randomHistory(store, keys, 200, 7, first.state);
  await store.compact(500);
  const snapshots = [...first.snapshots, ...second.snapshots.slice(1)]; // index = revision

  assert.deepEqual((await store.list('/m/')).items, sortedValues(snapshots[600]!));
  for (let rev = 500; rev <= 600; rev++) {
    assert.deepEqual((await store.list('/m/', { revision: rev })).items, sortedValues(snapshots[rev]!), `revision ${rev}`);
  }
  const w = collect(store, '/m/', 500);
  await until(() => w.events.length === 100, 'replay');
  assert.deepEqual(w.events, second.events.slice(100)); // events[j] is revision 401 + j

  await store.close();
  // At most one row at or below the compact revision per key, and no tombstones there.
  const db = new Database(databasePath(dataDir), { readonly: true });
  const old = db.prepare('SELECT key, COUNT(*) AS n, SUM(deleted) AS d FROM log WHERE revision <= 500 GROUP BY key').all() as
    Array<{ n: number; d: number }>;
  db.close();
  assert.ok(old.every((r) => r.n === 1 && r.d === 0));
  assertCurrentMatchesLog(databasePath(dataDir));
});

class FakeTimers implements CompactorTimers {
  pending = new Map<number, () => void>();
  #next = 1;
  setTimeout(fn: () => void): unknown {
    const id = this.#next++;
    this.pending.set(id, fn);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Fires the single pending timer and waits until the compactor scheduled its next one. */
  async tick(): Promise<void> {
    assert.equal(this.pending.size, 1);
    const [[id, fn]] = [...this.pending];
    this.pending.delete(id!);
    fn!();
    await until(() => this.pending.size === 1, 'next compactor run to be scheduled');
  }
}

test('the background compactor keeps the newest revisions and stops on close', async () => {
  const dataDir = tempDir();
  try {
    const store = await SqliteStore.open({ dataDir });
    const timers = new FakeTimers();
    store.startCompactor({ intervalMs: 1000, keepRevisions: 20, timers });
    for (let i = 0; i < 10; i++) await store.create(`/b/${i}`, 'v');
    await timers.tick();
    assert.equal(await store.compactRevision(), 0); // fewer than keepRevisions writes so far
    for (let i = 0; i < 40; i++) await store.update(`/b/${i % 10}`, `v${i}`, (await store.get(`/b/${i % 10}`))!.modRevision);
    await timers.tick();
    assert.equal(await store.compactRevision(), 30);
    assert.equal(statSync(databasePath(dataDir) + '-wal').size, 0, 'the WAL was checkpointed and truncated');
    await store.close();
    assert.equal(timers.pending.size, 0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the file stops growing under a rewrite loop with the compactor on', async (t) => {
  const { store, dataDir } = await withStore(t);
  const compactor = store.startCompactor({ keepRevisions: 500, timers: new FakeTimers() });
  const fileSize = () => {
    const path = databasePath(dataDir);
    return statSync(path).size + (existsSync(path + '-wal') ? statSync(path + '-wal').size : 0);
  };
  const revs = new Map<string, number>();
  for (let i = 0; i < 50; i++) revs.set(`/f/${i}`, (await store.create(`/f/${i}`, 'x')).modRevision);
  const pad = 'y'.repeat(2000);
  const sizes: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 2000; i++) {
      const key = `/f/${i % 50}`;
      revs.set(key, (await store.update(key, `${round}-${i}-${pad}`, revs.get(key)!)).modRevision);
    }
    await compactor.runOnce();
    sizes.push(fileSize());
  }
  // Each round writes ~4 MB; without compaction the file would grow by that much every round.
  assert.ok(sizes[4]! <= sizes[1]! * 1.1, `sizes kept growing: ${sizes.join(', ')}`);
  assert.ok(sizes[4]! < 8 * 1024 * 1024, `file too large: ${sizes[4]}`);
  const list = await store.list('/f/');
  assert.equal(list.items.length, 50);
  assert.ok(list.items.every((kv) => kv.value.startsWith('4-')));
});

// ---- crash recovery ------------------------------------------------------------------------

test('every acknowledged write survives kill -9 and the store stays consistent', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const fixture = fileURLToPath(new URL('./crash-writer.fixture.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked: Array<{ revision: number; op: string; key: string; value: string }> = [];
  let buffer = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      const [revision, op, key, value] = line.split(' ');
      acked.push({ revision: Number(revision), op: op!, key: key!, value: value! });
    }
    if (acked.length >= 3000 && !child.killed) child.kill('SIGKILL');
  });
  const signal = await Promise.race([exited, new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`writer did not get going: ${stderr}`)), 15_000).unref())]);
  assert.equal(signal, 'SIGKILL', stderr);
  assert.ok(acked.length >= 3000);

  const store = await SqliteStore.open({ dataDir });
  const last = acked.at(-1)!.revision;
  assert.ok(await store.currentRevision() >= last);
  assert.deepEqual(acked.map((a) => a.revision), range(1, last), 'acknowledged revisions are consecutive');
  // Each acknowledged write is visible at its own revision.
  for (const a of acked.filter((_, i) => i % 7 === 0 || i >= acked.length - 50)) {
    const page = await store.list(a.key, { revision: a.revision });
    const kv = page.items.find((item) => item.key === a.key);
    if (a.op === 'delete') assert.equal(kv, undefined, `${a.key}@${a.revision}`);
    else assert.deepEqual([kv?.value, kv?.modRevision], [a.value, a.revision], `${a.key}@${a.revision}`);
  }
  // And the store keeps working from where it stopped.
  const next = await store.create('/after/crash', 'ok');
  assert.equal(next.modRevision, (await store.currentRevision()));
  await store.close();
  assertCurrentMatchesLog(databasePath(dataDir));
});
