import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireReader } from './wire.ts';

test('varints: multi-byte, sign-extended negative int32, 64-bit', () => {
  const r = new WireReader(Uint8Array.from([0xac, 0x02, ...Array(9).fill(0xff), 0x01, ...Array(9).fill(0x80), 0x01]));
  assert.equal(r.int(), 300);
  assert.equal(r.int(), -1);
  assert.equal(r.varintBig(), 1n << 63n);
  assert.ok(r.done());
});

test('skip handles every wire type and unknown fields', () => {
  // field 1 varint, field 2 fixed64, field 3 bytes, field 4 fixed32, field 5 varint 7
  const bytes = Uint8Array.from([0x08, 0x01, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1a, 0x02, 0x61, 0x62, 0x25, 1, 2, 3, 4, 0x28, 0x07]);
  const r = new WireReader(bytes);
  const seen: number[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    seen.push(field);
    if (field === 5) assert.equal(r.int(), 7);
    else r.skip(wire);
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
});

test('truncated input and bad wire types throw clear errors', () => {
  assert.throws(() => new WireReader(Uint8Array.from([0x80])).int(), /truncated/);
  assert.throws(() => new WireReader(Uint8Array.from([0x05, 0x61])).bytes(), /truncated/);
  assert.throws(() => new WireReader(Uint8Array.from([])).skip(3), /unsupported wire type 3/);
  assert.throws(() => new WireReader(Uint8Array.from([0x00])).tag(), /field number 0/);
});

test('fixed-width reads are little-endian', () => {
  const r = new WireReader(Uint8Array.from([1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(r.fixed32(), 1);
  assert.equal(r.fixed64(), 2n);
});
