import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { caCertHash, formatJoinToken, parseJoinToken, randomJoinSecret } from './join-token.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('a join token carries the sha256 of the CA and round-trips through parse', () => {
  const secret = randomJoinSecret();
  assert.match(secret, /^[0-9a-f]{32}$/);
  const token = formatJoinToken(CA, secret);
  const hash = createHash('sha256').update(CA).digest('hex');
  assert.equal(token, `K10${hash}::server:${secret}`);
  assert.equal(caCertHash(CA), hash);
  assert.deepEqual(parseJoinToken(`${token}\n`), { caHash: hash, username: 'server', password: secret });
});

test('a bare secret parses as a password with no CA hash', () => {
  assert.deepEqual(parseJoinToken('my-secret'), { caHash: undefined, username: 'server', password: 'my-secret' });
});

test('two random secrets differ', () => {
  assert.notEqual(randomJoinSecret(), randomJoinSecret());
});
