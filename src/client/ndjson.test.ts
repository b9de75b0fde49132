import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StringDecoder } from 'node:string_decoder';
import { LineSplitter } from './ndjson.ts';

test('lines split across chunks come out whole, in order', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  const text = '{"type":"ADDED","n":1}\n{"type":"MODIFIED","n":2}\n\n{"type":"DELETED","n":3}\n';
  for (let i = 0; i < text.length; i += 5) s.push(text.slice(i, i + 5));
  s.end();
  assert.deepEqual(lines.map((l) => JSON.parse(l).n), [1, 2, 3]);
});

test('a last line without a newline is delivered at end', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  s.push('{"a":1}\n{"a"');
  assert.equal(lines.length, 1);
  s.push(':2}');
  s.end();
  assert.deepEqual(lines, ['{"a":1}', '{"a":2}']);
});

test('multi-byte characters split between byte chunks survive a StringDecoder', () => {
  const bytes = Buffer.from('{"name":"żółw-🐢"}\n');
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  const dec = new StringDecoder('utf8');
  for (let i = 0; i < bytes.length; i++) s.push(dec.write(bytes.subarray(i, i + 1)));
  s.end();
  assert.deepEqual(JSON.parse(lines[0]!), { name: 'żółw-🐢' });
});
