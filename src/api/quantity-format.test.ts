import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBinaryQuantity, formatDecimalQuantity } from './quantity-format.ts';

test('decimal quantities take the largest whole suffix', () => {
  assert.equal(formatDecimalQuantity(12345, -9), '12345n');
  assert.equal(formatDecimalQuantity(12000, -9), '12u');
  assert.equal(formatDecimalQuantity(200_000_000, -9), '200m');
  assert.equal(formatDecimalQuantity(1500, -3), '1500m');
  assert.equal(formatDecimalQuantity(2000, -3), '2');
  assert.equal(formatDecimalQuantity(0, -9), '0');
  assert.equal(formatDecimalQuantity(5_000_000, 0), '5M');
});

test('binary quantities take the largest whole power of 1024', () => {
  assert.equal(formatBinaryQuantity(4096), '4Ki');
  assert.equal(formatBinaryQuantity(1572864), '1536Ki');
  assert.equal(formatBinaryQuantity(1 << 30), '1Gi');
  assert.equal(formatBinaryQuantity(1000), '1000');
  assert.equal(formatBinaryQuantity(0), '0');
});
