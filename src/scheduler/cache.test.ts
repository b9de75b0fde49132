import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulerCache } from './cache.ts';
import { newPodInfo } from './framework/pod-info.ts';
import { Snapshot } from './framework/snapshot.ts';
import { node, pod } from './testing.ts';

test('node infos follow pod and node events; the snapshot copies only what changed', () => {
  const cache = new SchedulerCache();
  const snap = new Snapshot();
  cache.addNode(node('a', { cpu: '4' }));
  cache.addNode(node('b', { cpu: '4' }));
  cache.addPod(pod('p1', { cpu: '1', nodeName: 'a' }));
  cache.updateSnapshot(snap);
  assert.deepEqual(snap.nodes.map((n) => n.name), ['a', 'b']);
  assert.equal(snap.get('a')!.requested.cpu, 1000);
  const bBefore = snap.get('b');

  cache.addPod(pod('p2', { cpu: '2', nodeName: 'a' }));
  cache.updateSnapshot(snap);
  assert.equal(snap.get('a')!.requested.cpu, 3000);
  assert.equal(snap.get('b'), bBefore, 'unchanged node not copied');

  cache.removePod(pod('p1', { nodeName: 'a' }));
  cache.updateSnapshot(snap);
  assert.equal(snap.get('a')!.requested.cpu, 2000);
  assert.equal(snap.get('a')!.pods.size, 1);
});

test('snapshots are isolated from later cache changes', () => {
  const cache = new SchedulerCache();
  const snap = new Snapshot();
  cache.addNode(node('a'));
  cache.updateSnapshot(snap);
  cache.addPod(pod('p', { cpu: '1', nodeName: 'a' }));
  assert.equal(snap.get('a')!.requested.cpu, 0);
});

test('assumed pods hold room until confirmed or forgotten', () => {
  const cache = new SchedulerCache();
  const snap = new Snapshot();
  cache.addNode(node('a', { cpu: '2' }));
  const p = pod('p', { cpu: '1' });
  cache.assumePod(newPodInfo(p), 'a');
  cache.updateSnapshot(snap);
  assert.equal(snap.get('a')!.requested.cpu, 1000);
  assert.ok(cache.isAssumed('default/p'));
  cache.addPod({ ...p, spec: { ...(p.spec as object), nodeName: 'a' } });
  assert.ok(!cache.isAssumed('default/p'));
  cache.updateSnapshot(snap);
  assert.equal(snap.get('a')!.requested.cpu, 1000, 'confirmed, not double counted');

  const q = pod('q', { cpu: '1' });
  cache.assumePod(newPodInfo(q), 'a');
  cache.forgetPod('default/q');
  cache.updateSnapshot(snap);
  assert.equal(snap.get('a')!.requested.cpu, 1000);
});

test('pods before their node; node deletion; finished pods hold nothing', () => {
  const cache = new SchedulerCache();
  const snap = new Snapshot();
  cache.addPod(pod('early', { cpu: '1', nodeName: 'late' }));
  cache.updateSnapshot(snap);
  assert.equal(snap.size, 0, 'a node we have not seen is not schedulable');
  cache.addNode(node('late'));
  cache.updateSnapshot(snap);
  assert.equal(snap.get('late')!.pods.size, 1);

  const done = pod('done', { cpu: '1', nodeName: 'late' });
  cache.addPod({ ...done, status: { phase: 'Succeeded' } });
  cache.updateSnapshot(snap);
  assert.equal(snap.get('late')!.pods.size, 1);

  cache.removeNode('late');
  cache.updateSnapshot(snap);
  assert.equal(snap.size, 0);
  assert.equal(snap.get('late'), undefined);
  assert.equal(cache.nodeCount, 0);
});

test('affinity bookkeeping: lists of nodes holding pods with (anti-)affinity', () => {
  const cache = new SchedulerCache();
  const snap = new Snapshot();
  cache.addNode(node('a'));
  cache.addNode(node('b'));
  const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {}, topologyKey: 'kubernetes.io/hostname' }] } };
  cache.addPod(pod('x', { nodeName: 'b', spec: { affinity: anti } }));
  cache.updateSnapshot(snap);
  assert.deepEqual(snap.havePodsWithRequiredAntiAffinity.map((n) => n.name), ['b']);
  cache.removePod(pod('x', { nodeName: 'b' }));
  cache.updateSnapshot(snap);
  assert.deepEqual(snap.havePodsWithRequiredAntiAffinity, []);
});
