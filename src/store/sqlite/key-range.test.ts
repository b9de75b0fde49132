import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareKeys, prefixEnd, rangeStart } from './key-range.ts';

test('prefixEnd bumps the last code point', () => {
  assert.equal(prefixEnd('/registry/pods/'), '/registry/pods0');
  assert.equal(prefixEnd('a'), 'b');
  assert.equal(prefixEnd(''), undefined);
});

test('prefixEnd carries past the maximum code point and skips surrogates', () => {
  assert.equal(prefixEnd('a\u{10ffff}'), 'b');
  assert.equal(prefixEnd('\u{10ffff}'), undefined);
  assert.equal(prefixEnd('x\ud7ff'), 'x\ue000');
});

test('every key with the prefix sorts below prefixEnd, and the next key does not', () => {
  const prefix = '/p/é';
  const end = prefixEnd(prefix)!;
  for (const k of ['/p/é', '/p/éz', '/p/é\u{10ffff}\u{10ffff}', '/p/é😀']) {
    assert.ok(compareKeys(k, end) < 0, k);
  }
  assert.ok(compareKeys('/p/ê', end) >= 0);
});

test('compareKeys uses code point order, unlike UTF-16 comparison', () => {
  // U+FF61 is above the surrogate pair of U+1F600 in UTF-16, but below it as a code point.
  assert.equal(compareKeys('\uff61', '😀'), -1);
  assert.equal(compareKeys('ab', 'abc'), -1);
  assert.equal(compareKeys('abc', 'abc'), 0);
});

test('rangeStart resumes at startKey only when it is past the prefix', () => {
  assert.equal(rangeStart('/a/', '/a/x'), '/a/x');
  assert.equal(rangeStart('/a/', '/'), '/a/');
  assert.equal(rangeStart('/a/'), '/a/');
});
