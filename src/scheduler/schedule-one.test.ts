import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Snapshot } from './framework/snapshot.ts';
import { newPodInfo } from './framework/pod-info.ts';
import { defaultProfile } from './plugins/index.ts';
import { numFeasibleNodesToFind, scheduleOne } from './schedule-one.ts';
import { node, pod, podInfo, seededRng } from './testing.ts';

const nodes = (n: number, o: Parameters<typeof node>[1] = {}) => Array.from({ length: n }, (_, i) => node(`n${i}`, o));
const noPreemption = defaultProfile({ postFilter: [] });

test('50 nodes with 1 cpu, a pod asking for 2: the Kubernetes message', () => {
  const snap = Snapshot.from(nodes(50, { cpu: '1' }));
  const r = scheduleOne(podInfo('big', { cpu: '2' }), snap, noPreemption);
  assert.ok('unschedulable' in r);
  assert.equal(r.unschedulable.message, '0/50 nodes are available: 50 Insufficient cpu.');
  assert.deepEqual(r.unschedulable.plugins, ['NodeResourcesFit']);
  // With preemption on, Kubernetes adds why evicting pods would not help either.
  const withPreemption = scheduleOne(podInfo('big', { cpu: '2' }), snap, defaultProfile());
  assert.ok('unschedulable' in withPreemption);
  assert.equal(withPreemption.unschedulable.message,
    '0/50 nodes are available: 50 Insufficient cpu. preemption: 0/50 nodes are available: 50 Preemption is not helpful for scheduling.');
});

test('reasons are counted per node and sorted', () => {
  const snap = Snapshot.from([
    ...nodes(3, { cpu: '1' }),
    node('cp1', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
    node('cp2', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
    node('full', { cpu: '4', memory: '1Mi' }),
  ]);
  const r = scheduleOne(podInfo('p', { cpu: '2', memory: '1Gi' }), snap, noPreemption);
  assert.ok('unschedulable' in r);
  assert.equal(r.unschedulable.message,
    '0/6 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu.');
});

test('no nodes at all', () => {
  const r = scheduleOne(podInfo('p'), new Snapshot(), defaultProfile());
  assert.ok('unschedulable' in r);
  assert.equal(r.unschedulable.message, 'no nodes available to schedule pods');
});

test('picks the emptiest node; ties go through the injected rng', () => {
  const snap = Snapshot.from([node('a'), node('b'), node('c')], [pod('x', { cpu: '2', nodeName: 'a' }), pod('y', { cpu: '2', nodeName: 'c' })]);
  const r = scheduleOne(podInfo('p', { cpu: '1' }), snap, defaultProfile());
  assert.ok('node' in r);
  assert.equal(r.node, 'b');
  const seen = new Set<string>();
  const rng = seededRng(7);
  const even = Snapshot.from(nodes(4));
  for (let i = 0; i < 40; i++) {
    const t = scheduleOne(podInfo('p'), even, defaultProfile(), { rng });
    if ('node' in t) seen.add(t.node);
  }
  assert.equal(seen.size, 4);
});

test('preemption: evicts the lowest-priority pods on the best node', () => {
  const snap = Snapshot.from([node('a', { cpu: '2' }), node('b', { cpu: '2' })], [
    pod('a-low', { cpu: '1', priority: 1, nodeName: 'a' }),
    pod('a-mid', { cpu: '1', priority: 5, nodeName: 'a' }),
    pod('b-high', { cpu: '1', priority: 50, nodeName: 'b' }),
    pod('b-low', { cpu: '1', priority: 2, nodeName: 'b' }),
  ]);
  const r = scheduleOne(podInfo('urgent', { cpu: '1', priority: 100 }), snap, defaultProfile());
  assert.ok('preempt' in r, JSON.stringify(r));
  // Both nodes need one victim; a's best victim (priority 1) is less important than b's (2).
  assert.equal(r.preempt.node, 'a');
  assert.deepEqual(r.preempt.victims.map((v) => v.name), ['a-low']);
  assert.equal(r.preempt.message, '0/2 nodes are available: 2 Insufficient cpu.');
});

test('preemption never evicts equal or higher priority; preemptionPolicy Never', () => {
  const snap = Snapshot.from([node('a', { cpu: '1' })], [pod('peer', { cpu: '1', priority: 10, nodeName: 'a' })]);
  const r = scheduleOne(podInfo('p', { cpu: '1', priority: 10 }), snap, defaultProfile());
  assert.ok('unschedulable' in r);
  assert.equal(r.unschedulable.message,
    '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  const never = newPodInfo(pod('p', { cpu: '1', priority: 100, spec: { preemptionPolicy: 'Never' } }));
  const r2 = scheduleOne(never, snap, defaultProfile());
  assert.ok('unschedulable' in r2);
  assert.equal(r2.unschedulable.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
});

test('preemption keeps victims it can spare (reprieve)', () => {
  const snap = Snapshot.from([node('a', { cpu: '3' })], [
    pod('v1', { cpu: '1', priority: 1, nodeName: 'a' }),
    pod('v2', { cpu: '1', priority: 2, nodeName: 'a' }),
    pod('v3', { cpu: '1', priority: 3, nodeName: 'a' }),
  ]);
  const r = scheduleOne(podInfo('p', { cpu: '2', priority: 10 }), snap, defaultProfile());
  assert.ok('preempt' in r);
  assert.deepEqual(r.preempt.victims.map((v) => v.name).sort(), ['v1', 'v2']);
});

test('the feasible-node cut-off follows percentageOfNodesToScore', () => {
  assert.equal(numFeasibleNodesToFind(50), 50);
  assert.equal(numFeasibleNodesToFind(5000), 500); // 50 - 5000/125 = 10%
  assert.equal(numFeasibleNodesToFind(100_000), 5000); // floor at 5%
  assert.equal(numFeasibleNodesToFind(1000, 1), 100);
  const snap = Snapshot.from(nodes(5000));
  const r = scheduleOne(podInfo('p', { cpu: '100m' }), snap, defaultProfile(), { startIndex: 4900 });
  assert.ok('node' in r);
  assert.equal(r.evaluatedNodes, 500);
  assert.equal(r.feasibleNodes, 500);
});
