import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, FakeTimers } from './timers.ts';

test('backoff doubles from 1 s to a 30 s cap and starts over after reset', () => {
  const b = new Backoff({ random: () => 0 });
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => b.next()), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  b.reset();
  assert.equal(b.next(), 1000);
});

test('jitter adds up to its fraction and never passes the cap', () => {
  const b = new Backoff({ jitter: 0.5, random: () => 1 });
  assert.equal(b.next(), 1500);
  for (let i = 0; i < 10; i++) assert.ok(b.next() <= 30_000);
});

test('fake timers fire in time order and only when due', () => {
  const t = new FakeTimers();
  const fired: string[] = [];
  t.setTimeout(() => fired.push('b'), 200);
  t.setTimeout(() => fired.push('a'), 100);
  const h = t.setTimeout(() => fired.push('never'), 150);
  t.clearTimeout(h);
  t.advance(99);
  assert.deepEqual(fired, []);
  t.advance(101);
  assert.deepEqual(fired, ['a', 'b']);
  assert.equal(t.now(), 200);
});
