import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { SharedInformerFactory } from '../../client/informer-factory.ts';
import { silentLogger } from '../../util/log.ts';
import { testBed, type TestBed } from '../testing.ts';
import { NodeIpamController } from './controller.ts';

type Spec = { podCIDR?: string; podCIDRs?: string[] };

const specOf = (n: KObject | undefined): Spec => (n?.spec ?? {}) as Spec;

async function addNode(tb: TestBed, name: string): Promise<void> {
  await tb.api.resource('', 'v1', 'nodes').create({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
}

async function cidrOf(tb: TestBed, name: string): Promise<string> {
  return tb.until(async () => specOf(await tb.api.resource('', 'v1', 'nodes').tryGet(undefined, name)).podCIDR, 5000, `podCIDR of ${name}`);
}

test('each node gets its own block, stable across a restart', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const nodes = tb.api.resource('', 'v1', 'nodes');
  // A node that already holds a block before the controller ever ran.
  await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'old' }, spec: { podCIDR: '10.42.0.0/24', podCIDRs: ['10.42.0.0/24'] } });
  const c1 = new NodeIpamController();
  await tb.run(c1);
  for (const n of ['n1', 'n2', 'n3']) await addNode(tb, n);
  const first = new Map<string, string>();
  for (const n of ['old', 'n1', 'n2', 'n3']) first.set(n, await cidrOf(tb, n));
  assert.equal(first.get('old'), '10.42.0.0/24');
  assert.equal(new Set(first.values()).size, 4, 'all different');
  for (const c of first.values()) assert.match(c, /^10\.42\.\d+\.0\/24$/);
  assert.deepEqual(specOf(await nodes.get(undefined, 'n1')).podCIDRs, [first.get('n1')]);

  // A new controller (leader change / restart) with fresh informers.
  c1.stop();
  const informers = new SharedInformerFactory(tb.api, { log: silentLogger });
  const c2 = new NodeIpamController();
  await c2.start({ ...tb.ctx, informers });
  informers.start();
  t.after(() => { c2.stop(); informers.stop(); });
  await addNode(tb, 'n4');
  const n4 = await cidrOf(tb, 'n4');
  assert.ok(![...first.values()].includes(n4), `n4 got a fresh block, not ${n4}`);
  for (const [n, c] of first) assert.equal(specOf(await nodes.get(undefined, n)).podCIDR, c, `${n} unchanged`);
  await tb.until(() => c2.idle, 5000, 'idle');
  assert.deepEqual(c2.usage(), [{ cidr: '10.42.0.0/16', used: 5, size: 256 }]);
});

test('blocks are released on delete; CIDRNotAvailable when full', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  tb.ctx.config = { ...tb.ctx.config, clusterCidr: '10.42.0.0/23', nodeCidrMaskSize: 24 };
  const c = new NodeIpamController();
  await tb.run(c);
  await addNode(tb, 'a');
  await addNode(tb, 'b');
  const a = await cidrOf(tb, 'a');
  const b = await cidrOf(tb, 'b');
  assert.notEqual(a, b);
  await addNode(tb, 'c');
  await tb.until(() => tb.events.find((e) => e.object === 'Node/c' && e.reason === 'CIDRNotAvailable'), 5000, 'CIDRNotAvailable event');
  assert.equal(specOf(await tb.api.resource('', 'v1', 'nodes').get(undefined, 'c')).podCIDR, undefined);

  await tb.api.resource('', 'v1', 'nodes').delete(undefined, 'a');
  assert.equal(await cidrOf(tb, 'c'), a, 'c gets the block a released');
});

test('dual-stack cluster ranges give one block per family', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  tb.ctx.config = { ...tb.ctx.config, clusterCidr: '10.42.0.0/16,fd00:42::/56' };
  await tb.run(new NodeIpamController());
  await addNode(tb, 'ds');
  await cidrOf(tb, 'ds');
  const spec = specOf(await tb.api.resource('', 'v1', 'nodes').get(undefined, 'ds'));
  assert.deepEqual(spec.podCIDRs, ['10.42.0.0/24', 'fd00:42::/64']);
});
