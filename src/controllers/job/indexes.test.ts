import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIndexes, parseIndexes } from './indexes.ts';
import { Expectations } from './expectations.ts';

test('completedIndexes: intervals both ways', () => {
  assert.equal(formatIndexes([]), '');
  assert.equal(formatIndexes([5, 1, 2, 3, 7, 8]), '1-3,5,7-8');
  assert.deepEqual([...parseIndexes('1-3,5,7-8', 8)].sort(), [1, 2, 3, 5, 7]);
  assert.deepEqual([...parseIndexes('0,x,2', 10)], [0, 2]);
});

test('expectations: satisfied once creations and deletions are observed, or expired', () => {
  let now = 0;
  const e = new Expectations(() => now, 1000);
  assert.ok(e.satisfied('a'));
  e.expectCreations('a', 2);
  e.expectDeletions('a', ['u1']);
  e.creationObserved('a');
  e.creationObserved('a');
  assert.ok(!e.satisfied('a'));
  e.deletionObserved('a', 'u1');
  assert.ok(e.satisfied('a'));
  e.expectCreations('a', 1);
  now = 1001;
  assert.ok(e.satisfied('a'), 'expired');
});
