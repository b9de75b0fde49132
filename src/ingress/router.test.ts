import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import { BackendIndex } from './backends.ts';
import { Router } from './router.ts';
import { endpointSlice, service, simpleIngress } from './testing.ts';

test('backends: the Service port by number or name maps to the slice port of the same name; ready endpoints only', () => {
  const index = BackendIndex.build(
    [service('web', [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }]), service('dns', [{ port: 53, protocol: 'UDP' }])],
    [
      endpointSlice('web', [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }], [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false }, { ip: '10.0.0.3', ready: true }], 'default', 'a'),
      // The same endpoint in a second slice counts once.
      endpointSlice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.3' }, { ip: '10.0.0.4' }], 'default', 'b'),
      endpointSlice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.9.9.9' }], 'elsewhere', 'c'),
    ],
  );
  const eps = (r: ReturnType<BackendIndex['resolve']>) => (r.kind === 'endpoints' ? r.endpoints.map((e) => `${e.ip}:${e.port}`) : r.reason);
  assert.deepEqual(eps(index.resolve({ namespace: 'default', service: 'web', port: { number: 80 } })), ['10.0.0.1:8080', '10.0.0.3:8080', '10.0.0.4:8080']);
  assert.deepEqual(eps(index.resolve({ namespace: 'default', service: 'web', port: { name: 'admin' } })), ['10.0.0.1:9090', '10.0.0.3:9090']);
  assert.equal(eps(index.resolve({ namespace: 'default', service: 'web', port: { number: 81 } })), 'service default/web has no port 81');
  assert.equal(eps(index.resolve({ namespace: 'default', service: 'nope', port: { number: 80 } })), 'service default/nope not found');
  assert.match(String(eps(index.resolve({ namespace: 'default', service: 'dns', port: { number: 53 } }))), /UDP, not TCP/);
});

test('router: round robin over ready endpoints, 404/503 decisions, rebuilt only when invalidated', () => {
  const ingresses: KObject[] = [simpleIngress('i', [{ host: 'a.test', svc: 'a', port: 80 }, { host: 'empty.test', svc: 'empty', port: 80 }])];
  let slices = [endpointSlice('a', [{ port: 8080 }], [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }])];
  let ingressLists = 0;
  const router = new Router({
    ingresses: { list: () => { ingressLists++; return ingresses; } },
    ingressClasses: { list: () => [] },
    services: { list: () => [service('a', [{ port: 80 }]), service('empty', [{ port: 80 }])] },
    endpointSlices: { list: () => slices },
  });
  const pick = () => { const d = router.decide('a.test', '/'); return d.kind === 'proxy' ? d.endpoint.ip : d.kind; };
  assert.deepEqual([pick(), pick(), pick()], ['10.0.0.1', '10.0.0.2', '10.0.0.1']);
  assert.deepEqual(router.decide('nope.test', '/'), { kind: 'notFound' });
  const empty = router.decide('empty.test', '/');
  assert.equal(empty.kind, 'unavailable');
  assert.equal(ingressLists, 1, 'the route table is built once');

  slices = [endpointSlice('a', [{ port: 8080 }], [{ ip: '10.0.0.7' }])];
  assert.equal(pick(), '10.0.0.2', 'cached until invalidated');
  router.invalidateBackends();
  assert.equal(pick(), '10.0.0.7');
  assert.equal(ingressLists, 1, 'endpoint changes do not rebuild routes');
  ingresses.push(simpleIngress('j', [{ host: 'new.test', svc: 'a', port: 80 }]));
  router.invalidateRoutes();
  assert.equal(router.decide('new.test', '/').kind, 'proxy');
  assert.equal(ingressLists, 2);
  // prepare() rebuilds ahead of requests, and only what is stale.
  router.invalidateRoutes();
  router.prepare();
  assert.equal(ingressLists, 3);
  router.prepare();
  router.decide('new.test', '/');
  assert.equal(ingressLists, 3);
});

test('router: not synced yet → unavailable', () => {
  const router = new Router({ ingresses: { list: () => [] }, ingressClasses: { list: () => [] }, services: { list: () => [] }, endpointSlices: { list: () => [] }, synced: () => false });
  assert.equal(router.decide('x', '/').kind, 'unavailable');
});
