import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeTimers } from '../../client/timers.ts';
import { BatchedTicker, DueQueue, Limiter } from './scheduling.ts';

const flush = () => new Promise<void>((r) => setImmediate(r));

test('BatchedTicker: one timer, each key once per interval, in even batches', async () => {
  const timers = new FakeTimers();
  const visits: [number, string][] = [];
  const ticker = new BatchedTicker({
    intervalMs: 10_000, tickMs: 1_000, timers, limiter: new Limiter(16),
    work: async (key) => { visits.push([timers.now(), key]); },
  });
  for (let i = 0; i < 100; i++) ticker.add(`n-${i}`);
  assert.equal(ticker.batches, 10);
  ticker.start();
  assert.deepEqual(timers.pendingDelays(), [1_000], 'one shared timer');
  timers.advance(1_000);
  await flush();
  assert.equal(visits.length, 10, 'the first batch');
  assert.equal(timers.pendingDelays().length, 1);
  for (let s = 0; s < 9; s++) { timers.advance(1_000); await flush(); }
  assert.equal(visits.length, 100);
  assert.equal(new Set(visits.map(([, k]) => k)).size, 100, 'every key once per interval');
  const perTick = new Map<number, number>();
  for (const [t] of visits) perTick.set(t, (perTick.get(t) ?? 0) + 1);
  assert.deepEqual([...perTick.values()], Array(10).fill(10));
  for (let s = 0; s < 10; s++) { timers.advance(1_000); await flush(); }
  assert.equal(visits.length, 200);
  assert.equal(visits.filter(([, k]) => k === 'n-7').length, 2);
  ticker.remove('n-7');
  for (let s = 0; s < 10; s++) { timers.advance(1_000); await flush(); }
  assert.equal(visits.filter(([, k]) => k === 'n-7').length, 2, 'removed keys are not visited');
  ticker.stop();
  assert.deepEqual(timers.pendingDelays(), []);
});

test('BatchedTicker: bounded concurrency, and a slow key is skipped, not piled up', async () => {
  const timers = new FakeTimers();
  let active = 0;
  let peak = 0;
  const release: (() => void)[] = [];
  let calls = 0;
  const limiter = new Limiter(4);
  const ticker = new BatchedTicker({
    intervalMs: 1_000, tickMs: 1_000, timers, limiter,
    work: () => new Promise<void>((resolve) => {
      calls++; active++; peak = Math.max(peak, active);
      release.push(() => { active--; resolve(); });
    }),
  });
  for (let i = 0; i < 20; i++) ticker.add(`n-${i}`);
  ticker.start();
  timers.advance(1_000);
  await flush();
  assert.equal(active, 4);
  assert.equal(limiter.waiting, 16);
  timers.advance(1_000); // the next round: every key still in flight, so none is queued again
  await flush();
  assert.equal(limiter.waiting, 16);
  while (release.length) { release.shift()!(); await flush(); }
  assert.equal(peak, 4);
  assert.equal(calls, 20);
  ticker.stop();
});

test('BatchedTicker: a failing visit is reported and the key stays scheduled', async () => {
  const timers = new FakeTimers();
  const errors: string[] = [];
  let n = 0;
  const ticker = new BatchedTicker({
    intervalMs: 1_000, timers, limiter: new Limiter(1),
    work: async () => { n++; throw new Error('boom'); }, onError: (key, err) => errors.push(`${key}: ${(err as Error).message}`),
  });
  ticker.add('a');
  ticker.start();
  for (let i = 0; i < 20; i++) { timers.advance(100); await flush(); }
  assert.equal(n, 2);
  assert.deepEqual(errors, ['a: boom', 'a: boom']);
  ticker.stop();
});

test('Limiter: high priority jumps the queue', async () => {
  const limiter = new Limiter(1);
  const order: string[] = [];
  let open!: () => void;
  const first = limiter.run(() => new Promise<void>((r) => { open = r; }));
  const low = limiter.run(async () => { order.push('low'); });
  const high = limiter.run(async () => { order.push('high'); }, true);
  open();
  await Promise.all([first, low, high]);
  assert.deepEqual(order, ['high', 'low']);
});

test('DueQueue: one timer for the earliest key; reschedule and cancel', () => {
  const timers = new FakeTimers();
  const fired: [number, string][] = [];
  const q = new DueQueue((key) => fired.push([timers.now(), key]), timers);
  q.schedule('a', 3_000);
  q.schedule('b', 1_000);
  q.schedule('c', 2_000);
  assert.equal(timers.pendingDelays().length, 1);
  assert.deepEqual(timers.pendingDelays(), [1_000]);
  q.schedule('c', 5_000); // moved later
  q.cancel('a');
  timers.advance(10_000);
  assert.deepEqual(fired, [[1_000, 'b'], [5_000, 'c']]);
  assert.equal(q.size, 0);
  assert.deepEqual(timers.pendingDelays(), []);
  q.schedule('d', timers.now() + 10);
  q.stop();
  assert.deepEqual(timers.pendingDelays(), []);
});
