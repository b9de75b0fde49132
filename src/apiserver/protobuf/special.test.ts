import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSpecial, formatGoDuration } from './special.ts';
import { int, str } from './test-encoder.ts';

test('Go duration strings', () => {
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(1.5e9), '1.5s');
  assert.equal(formatGoDuration(3600e9 + 2 * 60e9 + 3e9), '1h2m3s');
  assert.equal(formatGoDuration(150e6), '150ms');
  assert.equal(formatGoDuration(-90e9), '-1m30s');
});

test('Time, MicroTime, IntOrString, Quantity, FieldsV1', () => {
  assert.equal(decodeSpecial('Time', new Uint8Array()), undefined);
  assert.equal(decodeSpecial('Time', int(1, 0)), '1970-01-01T00:00:00Z');
  assert.equal(decodeSpecial('MicroTime', Buffer.concat([int(1, 1), int(2, 123456789)])), '1970-01-01T00:00:01.123456Z');
  assert.equal(decodeSpecial('IntOrString', Buffer.concat([int(1, 0), int(2, 0), str(3, '')])), 0);
  assert.equal(decodeSpecial('IntOrString', Buffer.concat([int(1, 1), str(3, '25%')])), '25%');
  assert.equal(decodeSpecial('Quantity', str(1, '100m')), '100m');
  assert.deepEqual(decodeSpecial('FieldsV1', str(1, '{"f:data":{}}')), { 'f:data': {} });
  assert.equal(decodeSpecial('Duration', int(1, 5e9)), '5s');
});
