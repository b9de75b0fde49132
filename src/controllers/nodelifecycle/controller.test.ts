import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { testBed, type TestBed } from '../testing.ts';
import { NodeLifecycleController } from './controller.ts';
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from './taints.ts';

type Json = Record<string, any>;

const iso = (ms: number): string => new Date(ms).toISOString();
const stamp = (ms: number): string => iso(ms).replace(/\.\d+Z$/, 'Z');

class Clock {
  now = Date.parse('2030-01-01T00:00:00Z');
  advance(seconds: number): void { this.now += seconds * 1000; }
}

async function makeNode(tb: TestBed, name: string, clock: Clock): Promise<void> {
  await tb.api.resource('', 'v1', 'nodes').create({
    apiVersion: 'v1', kind: 'Node', metadata: { name },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: stamp(clock.now), lastTransitionTime: stamp(clock.now) }] },
  });
  await tb.api.resource('coordination.k8s.io', 'v1', 'leases').create({
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: iso(clock.now) },
  });
}

/** Plays the kubelet's heartbeat: renew the Lease. */
async function renewLease(tb: TestBed, name: string, clock: Clock): Promise<void> {
  const leases = tb.api.resource('coordination.k8s.io', 'v1', 'leases');
  const lease = await leases.get('kube-node-lease', name);
  (lease.spec as Json).renewTime = iso(clock.now);
  await leases.update(lease);
}

/** Plays the kubelet reporting status. */
async function reportReady(tb: TestBed, name: string, status: 'True' | 'False', clock: Clock): Promise<void> {
  const nodes = tb.api.resource('', 'v1', 'nodes');
  const node = await nodes.get(undefined, name);
  (node.status as Json).conditions = [{ type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady', lastHeartbeatTime: stamp(clock.now), lastTransitionTime: stamp(clock.now) }];
  await nodes.updateStatus(node);
}

async function makePod(tb: TestBed, name: string, node: string, tolerations?: Json[]): Promise<KObject> {
  const pods = tb.api.resource('', 'v1', 'pods');
  const pod = await pods.create({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'img' }], ...(tolerations ? { tolerations } : {}) },
  });
  pod.status = { ...(pod.status as Json), phase: 'Running', podIP: '10.42.0.5', conditions: [{ type: 'Ready', status: 'True' }] };
  return pods.updateStatus(pod);
}

const getNode = (tb: TestBed, name: string): Promise<KObject> => tb.api.resource('', 'v1', 'nodes').get(undefined, name);
const getPod = (tb: TestBed, name: string): Promise<KObject | undefined> => tb.api.resource('', 'v1', 'pods').tryGet('default', name);
const ready = (n: KObject): Json => ((n.status as Json).conditions as Json[]).find((c) => c.type === 'Ready')!;
const taintKeys = (n: KObject): string[] => (((n.spec as Json)?.taints ?? []) as Json[]).map((t) => `${t.key}:${t.effect}`).sort();
const evicted = async (tb: TestBed, name: string): Promise<boolean> => Boolean((await getPod(tb, name))?.metadata.deletionTimestamp);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a node whose lease stops renewing goes Unknown, is tainted, and its pods are evicted', async (t) => {
  const clock = new Clock();
  const tb = await testBed({ now: () => clock.now });
  t.after(() => tb.close());
  await makeNode(tb, 'n1', clock);
  await makePod(tb, 'default-tol', 'n1'); // the 300 s tolerations from Pod defaults
  await makePod(tb, 'no-time', 'n1', [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }]);
  await makePod(tb, 'forever', 'n1', [{ operator: 'Exists' }]);
  const c = new NodeLifecycleController({ gracePeriodMs: 40_000, checkIntervalMs: 10 });
  await tb.run(c);

  // Heartbeats keep it Ready: 30 s, renew, 30 s more.
  clock.advance(30);
  await renewLease(tb, 'n1', clock);
  // Let the controller's informer see the renewal (and a timer pass observe it) before time moves on.
  const leases = tb.informers.informer('coordination.k8s.io', 'v1', 'leases', { namespace: 'kube-node-lease' });
  await tb.until(() => (leases.getByName('kube-node-lease', 'n1')?.spec as Json | undefined)?.renewTime === iso(clock.now), 5000, 'renewal seen');
  await sleep(50);
  clock.advance(30);
  await sleep(100);
  assert.equal(ready(await getNode(tb, 'n1')).status, 'True');
  assert.deepEqual(taintKeys(await getNode(tb, 'n1')), []);

  // Then silence beyond the grace period.
  clock.advance(11);
  const node = await tb.until(async () => {
    const n = await getNode(tb, 'n1');
    return ready(n).status === 'Unknown' && taintKeys(n).length === 2 ? n : undefined;
  }, 5000, 'node Unknown and tainted');
  const taintTime = clock.now;
  assert.equal(ready(node).reason, 'NodeStatusUnknown');
  assert.equal(ready(node).message, 'Kubelet stopped posting node status.');
  assert.deepEqual(taintKeys(node), [`${TAINT_UNREACHABLE}:NoExecute`, `${TAINT_UNREACHABLE}:NoSchedule`]);
  const noExec = ((node.spec as Json).taints as Json[]).find((x) => x.effect === 'NoExecute')!;
  assert.equal(noExec.timeAdded, stamp(taintTime));
  assert.ok(tb.events.some((e) => e.object === 'Node/n1' && e.reason === 'NodeNotReady'));

  // tolerationSeconds 0: evicted at once; the others stay; all pods marked not ready.
  await tb.until(() => evicted(tb, 'no-time'), 5000, 'no-time evicted');
  await tb.until(async () => ready((await getPod(tb, 'default-tol'))!).status === 'False', 5000, 'pod Ready False');
  assert.equal(await evicted(tb, 'default-tol'), false);
  assert.equal(await evicted(tb, 'forever'), false);

  // 299 s later: still tolerated. 301 s: gone.
  clock.advance(299);
  await sleep(100);
  assert.equal(await evicted(tb, 'default-tol'), false);
  clock.advance(2);
  await tb.until(() => evicted(tb, 'default-tol'), 5000, 'default-tol evicted after 300 s');
  assert.ok(tb.events.some((e) => e.object === 'Pod/default/default-tol' && e.reason === 'TaintManagerEviction'));
  await sleep(50);
  assert.equal(await evicted(tb, 'forever'), false, 'a toleration without seconds tolerates for ever');

  // The kubelet comes back: Ready, taints removed.
  await reportReady(tb, 'n1', 'True', clock);
  await renewLease(tb, 'n1', clock);
  await tb.until(async () => taintKeys(await getNode(tb, 'n1')).length === 0, 5000, 'taints removed');
  assert.equal(ready(await getNode(tb, 'n1')).status, 'True');
});

test('Ready=False gets not-ready taints; intolerant pods leave a NoExecute node at once', async (t) => {
  const clock = new Clock();
  const tb = await testBed({ now: () => clock.now });
  t.after(() => tb.close());
  await makeNode(tb, 'n2', clock);
  await makePod(tb, 'plain', 'n2');
  await makePod(tb, 'dedicated', 'n2', [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoExecute' }]);
  const c = new NodeLifecycleController({ gracePeriodMs: 40_000, checkIntervalMs: 10 });
  await tb.run(c);

  await reportReady(tb, 'n2', 'False', clock);
  const n = await tb.until(async () => {
    const node = await getNode(tb, 'n2');
    return taintKeys(node).length === 2 ? node : undefined;
  }, 5000, 'not-ready taints');
  assert.deepEqual(taintKeys(n), [`${TAINT_NOT_READY}:NoExecute`, `${TAINT_NOT_READY}:NoSchedule`]);
  await sleep(50);
  assert.equal(await evicted(tb, 'plain'), false, 'tolerates not-ready for 300 s');
  assert.equal(ready((await getPod(tb, 'plain'))!).status, 'True', 'only unreachable nodes mark pods not ready');

  // An admin taint nobody but "dedicated" tolerates.
  const node = await getNode(tb, 'n2');
  (node.spec as Json).taints = [...(node.spec as Json).taints, { key: 'dedicated', value: 'db', effect: 'NoExecute' }];
  await tb.api.resource('', 'v1', 'nodes').update(node);
  await tb.until(() => evicted(tb, 'plain'), 5000, 'intolerant pod evicted');
  await sleep(50);
  assert.equal(await evicted(tb, 'dedicated'), false, 'tolerates its taint for ever and not-ready for 300 s');

  // Back to Ready: the condition taints go, the admin taint stays.
  await reportReady(tb, 'n2', 'True', clock);
  await tb.until(async () => taintKeys(await getNode(tb, 'n2')).join() === 'dedicated:NoExecute', 5000, 'condition taints removed');
});
