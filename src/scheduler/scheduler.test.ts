import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import { FakeClock } from './clock.ts';
import { Scheduler, sliceFor } from './scheduler.ts';
import { node, pod, seededRng } from './testing.ts';

/** A scheduler whose binder plays the API server + informer: a bind comes back as an update. */
function harness(opts: { failBinds?: number } = {}) {
  const clock = new FakeClock();
  const binds: [string, string][] = [];
  const failures: string[] = [];
  const preemptions: { victims: string[]; node: string; pod: string }[] = [];
  let failBinds = opts.failBinds ?? 0;
  const sched: Scheduler = new Scheduler({
    clock,
    rng: seededRng(3),
    binder: {
      async bind(p, nodeName) {
        if (failBinds-- > 0) throw new Error('etcd is sad');
        binds.push([p.metadata.name!, nodeName]);
        const bound: KObject = { ...p, spec: { ...(p.spec as object), nodeName } };
        sched.onPodUpdate(p, bound);
      },
    },
    recorder: {
      async unschedulable(p, message) { failures.push(`${p.metadata.name}: ${message}`); },
      async preempt(victims, nodeName, p) { preemptions.push({ victims: victims.map((v) => v.metadata.name!), node: nodeName, pod: p.metadata.name! }); },
    },
  });
  const loop = sched.run();
  return { sched, clock, binds, failures, preemptions, stop: async () => { sched.stop(); await loop; } };
}

test('pods spread over empty nodes and bind through the binder', async () => {
  const h = harness();
  for (const n of ['a', 'b', 'c']) h.sched.onNodeAdd(node(n, { cpu: '2' }));
  for (let i = 0; i < 6; i++) h.sched.onPodAdd(pod(`p${i}`, { cpu: '500m' }));
  await h.sched.settle();
  assert.equal(h.binds.length, 6);
  const perNode = new Map<string, number>();
  for (const [, n] of h.binds) perNode.set(n, (perNode.get(n) ?? 0) + 1);
  assert.deepEqual([...perNode.values()], [2, 2, 2]);
  await h.stop();
});

test('pods for another scheduler, already bound or being deleted are left alone', async () => {
  const h = harness();
  h.sched.onNodeAdd(node('a'));
  h.sched.onPodAdd(pod('other', { spec: { schedulerName: 'my-scheduler' } }));
  h.sched.onPodAdd(pod('bound', { nodeName: 'a' }));
  h.sched.onPodAdd(pod('dying', { deleting: true }));
  await h.sched.settle();
  assert.deepEqual(h.binds, []);
  assert.equal(h.sched.cache.podCount, 1, 'the bound pod is counted on its node');
  await h.stop();
});

test('unschedulable: condition + event once, retried on a node add and not before', async () => {
  const h = harness();
  h.sched.onNodeAdd(node('small', { cpu: '1' }));
  h.sched.onPodAdd(pod('big', { cpu: '2' }));
  await h.sched.settle();
  assert.deepEqual(h.failures, [
    'big: 0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
  ]);
  // Time passes, a heartbeat updates the node: nothing that could help, so no retry.
  h.clock.advance(60_000);
  const small = node('small', { cpu: '1' });
  h.sched.onNodeUpdate(small, { ...small, status: { ...(small.status as object), conditions: [{ type: 'Ready', status: 'True' }] } });
  await h.sched.settle();
  assert.equal(h.failures.length, 1);
  assert.equal(h.binds.length, 0);

  h.sched.onNodeAdd(node('large', { cpu: '4' }));
  await h.sched.settle();
  assert.deepEqual(h.binds, [['big', 'large']]);
  await h.stop();
});

test('a pod deleted frees room for a parked pod', async () => {
  const h = harness();
  h.sched.onNodeAdd(node('a', { cpu: '1' }));
  const hog = pod('hog', { cpu: '1', nodeName: 'a' });
  h.sched.onPodAdd(hog);
  h.sched.onPodAdd(pod('waiting', { cpu: '1' }));
  await h.sched.settle();
  assert.equal(h.binds.length, 0);
  h.clock.advance(2000);
  h.sched.onPodDelete(hog);
  await h.sched.settle();
  assert.deepEqual(h.binds, [['waiting', 'a']]);
  await h.stop();
});

test('preemption: victims handed to the recorder; the pod lands once they are gone', async () => {
  const h = harness();
  h.sched.onNodeAdd(node('a', { cpu: '2' }));
  const low = pod('low', { cpu: '2', priority: 1, nodeName: 'a' });
  h.sched.onPodAdd(low);
  h.sched.onPodAdd(pod('vip', { cpu: '2', priority: 1000 }));
  await h.sched.settle();
  assert.deepEqual(h.preemptions, [{ victims: ['low'], node: 'a', pod: 'vip' }]);
  assert.deepEqual(h.failures, ['vip: 0/1 nodes are available: 1 Insufficient cpu.']);
  h.clock.advance(1000);
  h.sched.onPodDelete(low);
  await h.sched.settle();
  assert.deepEqual(h.binds, [['vip', 'a']]);
  await h.stop();
});

test('a failed binding frees the node and retries after backoff', async () => {
  const h = harness({ failBinds: 1 });
  h.sched.onNodeAdd(node('a', { cpu: '1' }));
  h.sched.onPodAdd(pod('p', { cpu: '1' }));
  await h.sched.settle();
  assert.equal(h.binds.length, 0);
  assert.match(h.failures[0]!, /Binding rejected: etcd is sad/);
  h.clock.advance(1000);
  await h.sched.settle();
  assert.deepEqual(h.binds, [['p', 'a']]);
  await h.stop();
});

test('assumed pods count before the informer confirms them', async () => {
  const clock = new FakeClock();
  const binds: string[] = [];
  // This binder never reports back: only the assumption keeps the node full.
  const sched = new Scheduler({
    clock,
    binder: { async bind(p, n) { binds.push(`${p.metadata.name}->${n}`); } },
    recorder: { async unschedulable() {}, async preempt() {} },
  });
  const loop = sched.run();
  sched.onNodeAdd(node('a', { cpu: '1' }));
  sched.onPodAdd(pod('p1', { cpu: '1' }));
  sched.onPodAdd(pod('p2', { cpu: '1' }));
  await sched.settle();
  assert.deepEqual(binds, ['p1->a']);
  sched.stop();
  await loop;
});

test('nominated: the room preemption freed is kept for the preemptor, not taken by a lower-priority pod', async () => {
  const h = harness();
  h.sched.onNodeAdd(node('a', { cpu: '2' }));
  const victim = pod('victim', { cpu: '2', priority: 1, nodeName: 'a' });
  h.sched.onPodAdd(victim);
  h.sched.onPodAdd(pod('vip', { cpu: '2', priority: 1000 }));
  await h.sched.settle();
  assert.deepEqual(h.preemptions, [{ victims: ['victim'], node: 'a', pod: 'vip' }]);
  assert.equal(h.sched.nominator.nodeOf('default/vip'), 'a', 'nominated at once, before the status write');
  // The victim goes; vip waits out its backoff, and a new low-priority pod comes first.
  h.sched.onPodDelete(victim);
  h.sched.onPodAdd(pod('low', { cpu: '2', priority: 1 }));
  await h.sched.settle();
  assert.deepEqual(h.binds, [], 'low did not take the room');
  assert.equal(h.preemptions.length, 1, 'and could not preempt for it');
  h.clock.advance(1000);
  await h.sched.settle();
  assert.deepEqual(h.binds, [['vip', 'a']]);
  assert.equal(h.sched.nominator.size, 0, 'nomination cleared once bound');
  await h.stop();
});

test('nominated: from informer events; cleared when the pod is deleted or the nomination removed', async () => {
  const h = harness();
  h.sched.onNodeAdd(node('a', { cpu: '2' }));
  const vip = { ...pod('vip', { cpu: '2', priority: 1000, spec: { nodeSelector: { none: 'x' } } }), status: { phase: 'Pending', nominatedNodeName: 'a' } };
  h.sched.onPodAdd(vip);
  await h.sched.settle();
  assert.equal(h.sched.nominator.nodeOf('default/vip'), 'a');
  h.sched.onPodAdd(pod('low', { cpu: '2', priority: 1 }));
  await h.sched.settle();
  assert.deepEqual(h.binds, []);
  // An update that leaves nominatedNodeName alone keeps it; one that clears it frees the room.
  const relabelled = { ...vip, metadata: { ...vip.metadata, labels: { x: 'y' } } };
  h.sched.onPodUpdate(vip, relabelled);
  assert.equal(h.sched.nominator.nodeOf('default/vip'), 'a');
  h.sched.onPodUpdate(relabelled, { ...relabelled, status: { phase: 'Pending' } });
  assert.equal(h.sched.nominator.nodeOf('default/vip'), undefined);
  h.clock.advance(2000);
  await h.sched.settle();
  assert.deepEqual(h.binds, [['low', 'a']]);

  // Deleted while nominated: the room goes back to a waiting pod.
  h.sched.onNodeAdd(node('b', { cpu: '2' }));
  const vip2 = { ...pod('vip2', { cpu: '2', priority: 1000, spec: { nodeSelector: { none: 'x' } } }), status: { phase: 'Pending', nominatedNodeName: 'b' } };
  h.sched.onPodAdd(vip2);
  h.sched.onPodAdd(pod('low2', { cpu: '2', priority: 1 }));
  await h.sched.settle();
  assert.deepEqual(h.binds, [['low', 'a']]);
  h.sched.onPodDelete(vip2);
  assert.equal(h.sched.nominator.size, 0);
  h.clock.advance(2000);
  await h.sched.settle();
  assert.deepEqual(h.binds, [['low', 'a'], ['low2', 'b']]);
  await h.stop();
});

test('a scheduling turn runs as long as the rest of the process just did, within bounds', () => {
  assert.equal(sliceFor(1, 5, 25), 5); // an idle loop: the base slice
  assert.equal(sliceFor(12, 5, 25), 12); // busy: half the thread
  assert.equal(sliceFor(400, 5, 25), 25); // never long enough to stall requests
});
