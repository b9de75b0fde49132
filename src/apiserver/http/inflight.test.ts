import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import { InflightLimiter, isLongRunning, poolOf } from './inflight.ts';

test('a full pool refuses with 429 TooManyRequests and Retry-After 1; released slots are reused once', () => {
  const limiter = new InflightLimiter({ readOnly: 1, mutating: 2, nodes: 1 });
  const a = limiter.acquire('mutating');
  limiter.acquire('mutating');
  assert.throws(() => limiter.acquire('mutating'), (err: ApiError) => err.code === 429 && err.reason === 'TooManyRequests' && err.details?.retryAfterSeconds === 1);
  // Other pools are untouched by a full one.
  limiter.acquire('readOnly')();
  limiter.acquire('nodes');
  a();
  a(); // a second release gives back nothing
  limiter.acquire('mutating');
  assert.throws(() => limiter.acquire('mutating'));
  assert.deepEqual(limiter.stats(), { inUse: { readOnly: 0, mutating: 2, nodes: 1 }, rejected: 2 });
});

test('0 means no bound', () => {
  const limiter = new InflightLimiter({ readOnly: 0, mutating: 0, nodes: 0 });
  for (let i = 0; i < 1000; i++) limiter.acquire('readOnly');
});

test('nodes and the join token have their own pool; everyone else by verb', () => {
  assert.equal(poolOf('PUT', ['system:nodes', 'system:authenticated']), 'nodes');
  assert.equal(poolOf('GET', ['system:bootstrappers']), 'nodes');
  assert.equal(poolOf('POST', ['system:masters']), 'mutating');
  assert.equal(poolOf('DELETE', []), 'mutating');
  assert.equal(poolOf('GET', ['system:authenticated']), 'readOnly');
});

test('watches, followed logs and pod streams are long-running; plain reads are not', () => {
  const q = (s: string) => new URLSearchParams(s);
  assert.equal(isLongRunning('GET', '/api/v1/pods', q('watch=true')), true);
  assert.equal(isLongRunning('GET', '/api/v1/watch/namespaces/default/pods', q('')), true);
  assert.equal(isLongRunning('GET', '/apis/apps/v1/watch/deployments', q('')), true);
  assert.equal(isLongRunning('GET', '/api/v1/namespaces/d/pods/p/log', q('follow=true')), true);
  assert.equal(isLongRunning('POST', '/api/v1/namespaces/d/pods/p/exec', q('command=sh')), true);
  assert.equal(isLongRunning('GET', '/api/v1/namespaces/d/pods/p/log', q('')), false);
  assert.equal(isLongRunning('GET', '/api/v1/pods', q('watch=false')), false);
  assert.equal(isLongRunning('POST', '/api/v1/namespaces/d/pods', q('watch=true')), false);
});
