import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { ServiceAccountTokenSource, httpTokenRequester } from './sa-tokens.ts';

const pod: KObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'apps', uid: 'pod-1' }, spec: { serviceAccountName: 'builder' } };

function fakeServer(clock: { now: number }) {
  const requests: { ns: string; sa: string; body: KObject }[] = [];
  let fail = false;
  return {
    requests,
    set fail(v: boolean) { fail = v; },
    request: async (ns: string, sa: string, body: KObject): Promise<KObject> => {
      requests.push({ ns, sa, body });
      if (fail) throw new Error('connection refused');
      const seconds = (body.spec as { expirationSeconds: number }).expirationSeconds;
      return {
        kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: {},
        spec: { ...(body.spec as object) },
        status: { token: `token-${requests.length}`, expirationTimestamp: new Date(clock.now + seconds * 1000).toISOString() },
      };
    },
  };
}

test('asks for a pod-bound token once, then serves it until 80% of its lifetime has passed', async () => {
  const clock = { now: Date.parse('2025-01-01T00:00:00Z') };
  const server = fakeServer(clock);
  const source = new ServiceAccountTokenSource({ request: server.request, now: () => clock.now, random: () => 0 });

  assert.equal(await source.token(undefined, 3607, pod), 'token-1');
  assert.deepEqual(server.requests[0], {
    ns: 'apps', sa: 'builder',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { expirationSeconds: 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'pod-1' } } },
  });
  // The worker re-projects every ~10 s: no new request.
  clock.now += 10_000;
  assert.equal(await source.token(undefined, 3607, pod), 'token-1');
  clock.now += 0.8 * 3607_000 - 20_000;
  assert.equal(await source.token(undefined, 3607, pod), 'token-1');
  assert.equal(server.requests.length, 1);
  // Past 80%: refreshed.
  clock.now += 20_000;
  assert.equal(await source.token(undefined, 3607, pod), 'token-2');

  // Another audience or lifetime is another token, with the audience asked for.
  assert.equal(await source.token('vault', 3607, pod), 'token-3');
  assert.deepEqual((server.requests[2]!.body.spec as { audiences: string[] }).audiences, ['vault']);
  assert.equal(await source.token(undefined, 7200, pod), 'token-4');
  assert.equal(source.size, 3);
  source.forgetPod('pod-1');
  assert.equal(source.size, 0);
});

test('long-lived tokens are refreshed after 24 h; a failed refresh serves the old token while it is valid', async () => {
  const clock = { now: Date.parse('2025-01-01T00:00:00Z') };
  const server = fakeServer(clock);
  const source = new ServiceAccountTokenSource({ request: server.request, now: () => clock.now, random: () => 0 });
  const week = 7 * 24 * 3600;
  assert.equal(await source.token(undefined, week, pod), 'token-1');
  clock.now += 23 * 3600_000;
  assert.equal(await source.token(undefined, week, pod), 'token-1');
  clock.now += 2 * 3600_000;
  server.fail = true;
  assert.equal(await source.token(undefined, week, pod), 'token-1');
  server.fail = false;
  assert.equal(await source.token(undefined, week, pod), 'token-3');

  // Nothing cached and the server down: an error the volume reports.
  server.fail = true;
  await assert.rejects(source.token(undefined, 600, pod), /failed to fetch token: connection refused/);
});

test('concurrent callers share one request', async () => {
  const clock = { now: Date.now() };
  const server = fakeServer(clock);
  const source = new ServiceAccountTokenSource({ request: server.request, now: () => clock.now });
  const tokens = await Promise.all([1, 2, 3].map(() => source.token(undefined, 3607, pod)));
  assert.deepEqual(tokens, ['token-1', 'token-1', 'token-1']);
  assert.equal(server.requests.length, 1);
});

test('httpTokenRequester posts to the token subresource', async () => {
  const calls: unknown[] = [];
  const requester = httpTokenRequester({ request: async (...args: unknown[]) => { calls.push(args); return { status: 201, body: { kind: 'TokenRequest' } }; } });
  assert.deepEqual(await requester!('apps', 'builder', { apiVersion: 'x', kind: 'TokenRequest', metadata: {} }), { kind: 'TokenRequest' });
  assert.deepEqual(calls, [['POST', '/api/v1/namespaces/apps/serviceaccounts/builder/token', { body: { apiVersion: 'x', kind: 'TokenRequest', metadata: {} } }]]);
  assert.equal(httpTokenRequester({ resource: () => undefined }), undefined);
});
