import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QUANTITY_FORMAT_ERROR, parseQuantity, validateQuantity } from './quantity.ts';

test('parses decimal, binary and exponent suffixes', () => {
  assert.equal(parseQuantity('100m'), 0.1);
  assert.equal(parseQuantity('1Gi'), 1024 ** 3);
  assert.equal(parseQuantity('1.5'), 1.5);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.equal(parseQuantity('2k'), 2000);
  assert.equal(parseQuantity('128Mi'), 128 * 1024 * 1024);
  assert.equal(parseQuantity('-1'), -1);
  assert.equal(parseQuantity(4), 4);
});

test('rejects malformed quantities with the Kubernetes message', () => {
  for (const bad of ['', '1K', 'abc', '1.2.3', '1e', '.', '1 Gi', 'Gi']) {
    assert.throws(() => parseQuantity(bad), { message: QUANTITY_FORMAT_ERROR }, bad);
  }
  assert.equal(QUANTITY_FORMAT_ERROR, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
});

test('validateQuantity reports malformed and negative values at the field', () => {
  assert.deepEqual(validateQuantity('spec.x', '1Gi'), []);
  assert.equal(validateQuantity('spec.x', 'lots')[0]!.message, `Invalid value: "lots": ${QUANTITY_FORMAT_ERROR}`);
  assert.equal(validateQuantity('spec.x', '-1')[0]!.message, 'Invalid value: "-1": must be greater than or equal to 0');
});
