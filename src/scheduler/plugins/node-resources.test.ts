// NodeResourcesFit and the two resource scores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/cycle-state.ts';
import { NodeInfo } from '../framework/node-info.ts';
import { node, podInfo } from '../testing.ts';
import { nodeResourcesFit } from './node-resources-fit.ts';
import { nodeResourcesBalancedAllocation, nodeResourcesLeastAllocated } from './node-resources-scoring.ts';

const st = new CycleState();

function nodeWith(o: Parameters<typeof node>[1], ...pods: { cpu?: string; memory?: string }[]): NodeInfo {
  const n = new NodeInfo('n', node('n', o));
  pods.forEach((p, i) => n.addPod(podInfo(`e${i}`, { ...p, nodeName: 'n' })));
  return n;
}

test('fits what is left of allocatable', () => {
  const n = nodeWith({ cpu: '2', memory: '4Gi' }, { cpu: '1500m', memory: '1Gi' });
  assert.equal(nodeResourcesFit.filter(st, podInfo('p', { cpu: '500m', memory: '3Gi' }), n).code, 'Success');
  const s = nodeResourcesFit.filter(st, podInfo('p', { cpu: '600m', memory: '4Gi' }), n);
  assert.deepEqual(s, { code: 'Unschedulable', reasons: ['Insufficient cpu', 'Insufficient memory'] });
});

test('more than the whole node: unresolvable (preemption cannot help)', () => {
  assert.equal(nodeResourcesFit.filter(st, podInfo('p', { cpu: '3' }), nodeWith({ cpu: '2' })).code, 'UnschedulableAndUnresolvable');
});

test('pod count and extended resources', () => {
  const full = nodeWith({ pods: 1 }, {});
  assert.deepEqual(nodeResourcesFit.filter(st, podInfo('p'), full).reasons, ['Too many pods']);
  const gpu = podInfo('g', { spec: { containers: [{ name: 'c', resources: { requests: { 'nvidia.com/gpu': '1' } } }] } });
  assert.deepEqual(nodeResourcesFit.filter(st, gpu, nodeWith({})).reasons, ['Insufficient nvidia.com/gpu']);
  assert.equal(nodeResourcesFit.filter(st, gpu, nodeWith({ extra: { 'nvidia.com/gpu': '2' } })).code, 'Success');
});

test('init containers and overhead count', () => {
  const p = podInfo('p', { cpu: '100m', spec: { initContainers: [{ name: 'i', resources: { requests: { cpu: '2' } } }], overhead: { cpu: '100m' } } });
  assert.deepEqual(nodeResourcesFit.filter(st, p, nodeWith({ cpu: '2' })).reasons, ['Insufficient cpu']);
});

test('LeastAllocated prefers free nodes; BalancedAllocation prefers even use', () => {
  const p = podInfo('p', { cpu: '1', memory: '1Gi' });
  const empty = nodeWith({ cpu: '4', memory: '4Gi' });
  const busy = nodeWith({ cpu: '4', memory: '4Gi' }, { cpu: '2', memory: '2Gi' });
  assert.equal(nodeResourcesLeastAllocated.score(st, p, empty), 75);
  assert.equal(nodeResourcesLeastAllocated.score(st, p, busy), 25);
  const lopsided = nodeWith({ cpu: '4', memory: '4Gi' }, { cpu: '2' });
  assert.equal(nodeResourcesBalancedAllocation.score(st, p, busy), 100);
  assert.equal(nodeResourcesBalancedAllocation.score(st, p, lopsided), 75); // |0.75 - 0.25| / 2
  // Best-effort pods still weigh on LeastAllocated through the 100m/200Mi defaults.
  const bestEffort = nodeWith({ cpu: '1', memory: '1Gi' }, {});
  assert.ok(nodeResourcesLeastAllocated.score(st, podInfo('q'), bestEffort) < 100);
});
