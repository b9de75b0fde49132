import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Snapshot } from './framework/snapshot.ts';
import { newPodInfo } from './framework/pod-info.ts';
import { Nominator } from './nominator.ts';
import { defaultProfile } from './plugins/index.ts';
import { scheduleOne } from './schedule-one.ts';
import { node, pod, podInfo } from './testing.ts';

const noPreemption = defaultProfile({ postFilter: [] });
const HOST = 'kubernetes.io/hostname';

/** vip (priority 1000, 2 cpu) nominated to node a, whose victim has already gone. */
function nominatedVip(o: Parameters<typeof pod>[1] = {}) {
  const vip = newPodInfo(pod('vip', { cpu: '2', priority: 1000, ...o }));
  const nominator = new Nominator();
  nominator.set(vip, 'a');
  return { vip, nominator };
}

test('Nominator: set, move, clear; forPod keeps only pods of priority ≥ the pod, not itself', () => {
  const n = new Nominator();
  const vip = podInfo('vip', { priority: 1000 });
  const low = podInfo('low', { priority: 1 });
  n.set(vip, 'a');
  n.set(low, 'a');
  assert.equal(n.size, 2);
  assert.deepEqual(n.podsForNode('a').map((p) => p.name).sort(), ['low', 'vip']);
  n.set(vip, 'b');
  assert.equal(n.nodeOf(vip.key), 'b');
  assert.deepEqual(n.podsForNode('a').map((p) => p.name), ['low']);
  assert.deepEqual([...n.forPod(podInfo('mid', { priority: 500 }))!.entries()].map(([k, v]) => [k, v.map((p) => p.name)]), [['b', ['vip']]]);
  assert.equal(n.forPod(podInfo('top', { priority: 2000 })), undefined);
  assert.equal(n.forPod(vip), undefined, 'a pod does not make room for itself');
  n.set(vip, '');
  assert.equal(n.nodeOf(vip.key), undefined);
  assert.equal(n.delete(low.key), true);
  assert.equal(n.delete(low.key), false);
  assert.equal(n.size, 0);
  assert.deepEqual(n.podsForNode('a'), []);
});

test("a lower-priority pod does not take the room freed for a nominated pod, and may not preempt for it", () => {
  const { nominator } = nominatedVip();
  const snap = Snapshot.from([node('a', { cpu: '2' })]);
  const low = podInfo('low', { cpu: '2', priority: 1 });
  assert.ok('node' in scheduleOne(low, snap, noPreemption), 'without the nomination it would fit');
  const r = scheduleOne(low, snap, noPreemption, { nominator });
  assert.ok('unschedulable' in r);
  assert.equal(r.unschedulable.message, '0/1 nodes are available: 1 Insufficient cpu.');
  // Equal priority yields too.
  assert.ok('unschedulable' in scheduleOne(podInfo('peer', { cpu: '2', priority: 1000 }), snap, noPreemption, { nominator }));
  // Preemption sees the nominated pod as well: nothing to evict here makes room.
  const p = scheduleOne(low, Snapshot.from([node('a', { cpu: '3' })], [pod('tiny', { cpu: '1', priority: 0, nodeName: 'a' })]), defaultProfile(), { nominator });
  assert.ok('unschedulable' in p, JSON.stringify(p));
});

test('the room left beside a nominated pod, and other nodes, stay usable', () => {
  const { nominator } = nominatedVip();
  const snap = Snapshot.from([node('a', { cpu: '3' }), node('b', { cpu: '1' })]);
  const r = scheduleOne(podInfo('low', { cpu: '1', priority: 1 }), snap, noPreemption, { nominator });
  assert.ok('node' in r);
  assert.equal(r.feasibleNodes, 2);
  const big = scheduleOne(podInfo('big', { cpu: '2', priority: 1 }), Snapshot.from([node('a', { cpu: '2' }), node('b', { cpu: '2' })]), noPreemption, { nominator });
  assert.ok('node' in big);
  assert.equal(big.node, 'b');
});

test('a higher-priority pod may take the room; the nominated pod itself schedules onto it', () => {
  const { vip, nominator } = nominatedVip();
  const snap = Snapshot.from([node('a', { cpu: '2' })]);
  const higher = scheduleOne(podInfo('higher', { cpu: '2', priority: 2000 }), snap, noPreemption, { nominator });
  assert.ok('node' in higher);
  assert.equal(higher.node, 'a');
  const self = scheduleOne(vip, snap, noPreemption, { nominator });
  assert.ok('node' in self);
  assert.equal(self.node, 'a');
});

test("nominated pods count in inter-pod affinity state (addPod): anti-affinity to them, affinity only if it holds without them", () => {
  const { nominator } = nominatedVip({ cpu: '100m', labels: { app: 'vip' } });
  const snap = Snapshot.from([node('a'), node('b')]);
  const term = { labelSelector: { matchLabels: { app: 'vip' } }, topologyKey: HOST };
  const shy = newPodInfo(pod('shy', { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } } }));
  const r = scheduleOne(shy, snap, noPreemption, { nominator });
  assert.ok('node' in r);
  assert.equal(r.node, 'b');
  assert.equal(r.feasibleNodes, 1);
  // Affinity to a pod that is only nominated: not satisfied (it may land elsewhere).
  const fan = newPodInfo(pod('fan', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } } }));
  const f = scheduleOne(fan, snap, noPreemption, { nominator });
  assert.ok('unschedulable' in f, JSON.stringify(f));
});
