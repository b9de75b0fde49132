import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { bearerTokenOf, createBearerTokenAuthenticator } from './bearer-token.ts';
import type { UserInfo } from './types.ts';

function request(authorization?: string): IncomingMessage {
  return { headers: authorization === undefined ? {} : { authorization } } as IncomingMessage;
}

test('bearerTokenOf reads the Bearer scheme only', () => {
  assert.equal(bearerTokenOf(request('Bearer abc123')), 'abc123');
  assert.equal(bearerTokenOf(request('bearer   abc123 ')), 'abc123');
  assert.equal(bearerTokenOf(request('Basic YWRtaW46YWRtaW4=')), undefined);
  assert.equal(bearerTokenOf(request('Bearer')), undefined);
  assert.equal(bearerTokenOf(request('Bearer a b')), undefined);
  assert.equal(bearerTokenOf(request()), undefined);
});

test('a known token yields its user, with system:authenticated added once', () => {
  const tokens = new Map<string, UserInfo>([
    ['node-token', { name: 'system:node:a', groups: ['system:nodes'], uid: 'u1' }],
    ['other', { name: 'bob', groups: ['system:authenticated'] }],
  ]);
  const authenticate = createBearerTokenAuthenticator(tokens);
  assert.deepEqual(authenticate(request('Bearer node-token')), {
    name: 'system:node:a',
    groups: ['system:nodes', 'system:authenticated'],
    uid: 'u1',
  });
  assert.deepEqual(authenticate(request('Bearer other')), { name: 'bob', groups: ['system:authenticated'] });
  // The table's own entry is not mutated by the caller's copy.
  authenticate(request('Bearer node-token'))!.groups.push('system:masters');
  assert.deepEqual(tokens.get('node-token')!.groups, ['system:nodes']);
});

test('unknown, near-miss and missing tokens are rejected', () => {
  const authenticate = createBearerTokenAuthenticator(new Map([['secret-token', { name: 'a', groups: [] }]]));
  assert.equal(authenticate(request('Bearer secret-tokeN')), undefined);
  assert.equal(authenticate(request('Bearer secret-token-')), undefined);
  assert.equal(authenticate(request('Bearer secret')), undefined);
  assert.equal(authenticate(request()), undefined);
});

test('the token table is read live', () => {
  const tokens = new Map<string, UserInfo>();
  const authenticate = createBearerTokenAuthenticator(tokens);
  assert.equal(authenticate(request('Bearer later')), undefined);
  tokens.set('later', { name: 'late', groups: [] });
  assert.equal(authenticate(request('Bearer later'))?.name, 'late');
  tokens.delete('later');
  assert.equal(authenticate(request('Bearer later')), undefined);
});
