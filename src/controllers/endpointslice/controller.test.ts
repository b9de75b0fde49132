import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { testBed, type TestBed } from '../testing.ts';
import { makePod, makeService, setPodStatus } from '../endpoints/testutil.ts';
import { EndpointSliceController } from './controller.ts';

type Json = Record<string, any>;

async function slicesOf(tb: TestBed, svc: string): Promise<KObject[]> {
  const { items } = await tb.api.resource('discovery.k8s.io', 'v1', 'endpointslices').list('default', { labelSelector: `kubernetes.io/service-name=${svc}` });
  return items;
}

const allEndpoints = (slices: KObject[]): Json[] => slices.flatMap((s) => (s.endpoints as Json[] | undefined) ?? []);

test('slices carry labels, owner, ports and endpoint conditions', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const c = new EndpointSliceController();
  await tb.run(c);
  await tb.api.resource('', 'v1', 'nodes').create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'zone-a' } } });
  const svc = await makeService(tb, 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }, { team: 'x' });

  // No pods yet: one empty placeholder.
  const placeholder = await tb.until(async () => (await slicesOf(tb, 'web'))[0], 5000, 'placeholder');
  assert.deepEqual(placeholder.endpoints ?? [], []);

  const a = await makePod(tb, 'a', { ip: '10.42.0.10', ready: true, nodeName: 'n1' });
  await makePod(tb, 'b', { ip: '10.42.0.11', ready: false });
  await makePod(tb, 'c', { ip: '10.42.0.12', ready: true, ports: [{ name: 'http', containerPort: 9090 }] });
  await makePod(tb, 'pending'); // no IP yet

  const slices = await tb.until(async () => {
    const s = await slicesOf(tb, 'web');
    return allEndpoints(s).length === 3 && s.length === 2 ? s : undefined;
  }, 5000, 'two slices, three endpoints');
  for (const s of slices) {
    assert.equal(s.addressType, 'IPv4');
    assert.equal(s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(s.metadata.labels?.team, 'x');
    assert.deepEqual(s.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  }
  const s8080 = slices.find((s) => (s.ports as Json[])[0].port === 8080)!;
  const s9090 = slices.find((s) => (s.ports as Json[])[0].port === 9090)!;
  assert.deepEqual(s8080.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual((s9090.endpoints as Json[]).map((e) => e.addresses[0]), ['10.42.0.12']);
  const eps = s8080.endpoints as Json[];
  const ea = eps.find((e) => e.targetRef.name === 'a')!;
  assert.deepEqual(ea, {
    addresses: ['10.42.0.10'], conditions: { ready: true, serving: true, terminating: false },
    targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: a.metadata.uid }, nodeName: 'n1', zone: 'zone-a',
  });
  assert.deepEqual(eps.find((e) => e.targetRef.name === 'b')!.conditions, { ready: false, serving: false, terminating: false });

  // a terminates: kept, not ready, still serving, terminating.
  await tb.api.resource('', 'v1', 'pods').delete('default', 'a');
  await tb.until(async () => {
    const e = allEndpoints(await slicesOf(tb, 'web')).find((x) => x.targetRef.name === 'a');
    return e && e.conditions.terminating === true && e.conditions.ready === false && e.conditions.serving === true;
  }, 5000, 'terminating conditions');

  // Service deleted: its slices go.
  await tb.api.resource('', 'v1', 'services').delete('default', 'web');
  await tb.until(async () => (await slicesOf(tb, 'web')).length === 0, 5000, 'slices deleted');
});

test('more than 100 endpoints split across slices; readiness updates in place', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const c = new EndpointSliceController();
  await tb.run(c);
  await makeService(tb, 'big', { selector: { app: 'big' }, ports: [{ port: 80, targetPort: 8080 }] });
  const pods: KObject[] = [];
  for (let i = 0; i < 130; i++) pods.push(await makePod(tb, `p${i}`, { labels: { app: 'big' }, ip: `10.42.${Math.floor(i / 200)}.${(i % 200) + 1}`, ready: true }));
  const slices = await tb.until(async () => {
    const s = await slicesOf(tb, 'big');
    return allEndpoints(s).length === 130 ? s : undefined;
  }, 10000, '130 endpoints');
  assert.equal(slices.length, 2);
  assert.ok(slices.every((s) => (s.endpoints as unknown[]).length <= 100));
  assert.equal(new Set(allEndpoints(slices).map((e) => e.addresses[0])).size, 130);
  assert.deepEqual(slices[0]!.ports, [{ name: '', port: 8080, protocol: 'TCP' }]);

  // One pod turns not ready: one slice updated, none created.
  await setPodStatus(tb, pods[7]!, { ip: '10.42.0.8', ready: false });
  const after = await tb.until(async () => {
    const s = await slicesOf(tb, 'big');
    return allEndpoints(s).find((e) => e.targetRef.name === 'p7')?.conditions.ready === false ? s : undefined;
  }, 5000, 'p7 not ready');
  assert.equal(after.length, 2);
  assert.deepEqual(new Set(after.map((s) => s.metadata.name)), new Set(slices.map((s) => s.metadata.name)));
  const changed = after.filter((s) => s.metadata.resourceVersion !== slices.find((o) => o.metadata.name === s.metadata.name)!.metadata.resourceVersion);
  assert.equal(changed.length, 1);
});
