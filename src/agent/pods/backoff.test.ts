import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartBackoff } from './backoff.ts';

test('first retry at once, then 10 s doubling to 5 min; a long run resets', () => {
  const b = new RestartBackoff();
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) { delays.push(b.delay('k')); b.retried('k', 0, 1000); }
  assert.deepEqual(delays, [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  assert.equal(b.remaining('k', 1000, 2000), 299_000);
  b.retried('k', 0, 600_000);
  assert.equal(b.delay('k'), 10_000, 'after 10 minutes of running the count starts over');
  b.forget('k');
  assert.equal(b.delay('k'), 0);
});
