import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTokenFile } from './token-file.ts';

test('token,user,uid[,"groups"] lines, as kube-apiserver reads them', () => {
  const t = parseTokenFile('abc123,alice,u-1,"dev,ops"\n\nxyz,bob,,\n"q,t",carol,u-3\n', 'tokens.csv');
  assert.deepEqual(t.get('abc123'), { name: 'alice', uid: 'u-1', groups: ['dev', 'ops', 'system:authenticated'] });
  assert.deepEqual(t.get('xyz'), { name: 'bob', groups: ['system:authenticated'] });
  assert.equal(t.get('q,t')?.name, 'carol');
});

test('malformed lines name the file and line', () => {
  assert.throws(() => parseTokenFile('ok,a,1\nonlytoken\n', 'f.csv'), /f\.csv:2: expected token,user,uid/);
  assert.throws(() => parseTokenFile('a,b,c\na,d,e\n', 'f.csv'), /f\.csv:2: duplicate token/);
  assert.throws(() => parseTokenFile('a,"b,c\n', 'f.csv'), /f\.csv:1: unterminated quote/);
});
