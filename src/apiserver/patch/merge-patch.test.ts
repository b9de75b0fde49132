import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch } from './merge-patch.ts';

test('objects merge recursively and null deletes', () => {
  const doc = { metadata: { labels: { a: '1', b: '2' } }, spec: { replicas: 1, paused: true } };
  const out = applyMergePatch(doc, { metadata: { labels: { b: null, c: '3' } }, spec: { replicas: 3, paused: null } });
  assert.deepEqual(out, { metadata: { labels: { a: '1', c: '3' } }, spec: { replicas: 3 } });
  assert.deepEqual(doc.metadata.labels, { a: '1', b: '2' }, 'input untouched');
});

test('arrays and scalars replace wholesale', () => {
  const out = applyMergePatch({ list: [1, 2, 3], n: { deep: 1 } }, { list: [4], n: 'flat' });
  assert.deepEqual(out, { list: [4], n: 'flat' });
});

test('RFC 7386 appendix examples', () => {
  assert.deepEqual(applyMergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
  assert.deepEqual(applyMergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
  assert.deepEqual(applyMergePatch({ a: 'b', b: 'c' }, { a: null }), { b: 'c' });
  assert.deepEqual(applyMergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
  assert.deepEqual(applyMergePatch(['a', 'b'], ['c', 'd']), ['c', 'd']);
  assert.deepEqual(applyMergePatch({ a: 'b' }, ['c']), ['c']);
  assert.equal(applyMergePatch({ a: 'foo' }, null), null);
  assert.equal(applyMergePatch({ a: 'foo' }, 'bar'), 'bar');
  assert.deepEqual(applyMergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
  assert.deepEqual(applyMergePatch([1, 2], { a: 'b', c: null }), { a: 'b' });
  assert.deepEqual(applyMergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
});
