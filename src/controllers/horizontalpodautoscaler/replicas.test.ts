import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { resourceReplicas, type PodUsage } from './replicas.ts';

const NOW = Date.parse('2030-01-01T00:10:00Z');
const pod = (name: string, cpu = '100m', extra: Record<string, unknown> = {}): KObject => ({
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', resources: { requests: { cpu } } }] },
  status: { phase: 'Running', startTime: '2030-01-01T00:00:00Z', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2030-01-01T00:00:05Z' }] },
  ...extra,
} as KObject);
const usage = (entries: [string, number][]) => new Map<string, PodUsage>(entries.map(([n, v]) => [n, { value: v, timestampMs: NOW, windowMs: 15_000 }]));

test('utilization above target scales up by the ratio', () => {
  const r = resourceReplicas({ currentReplicas: 2, pods: [pod('a'), pod('b')], usage: usage([['a', 0.2], ['b', 0.2]]), resource: 'cpu', target: { utilization: 50 }, now: NOW });
  assert.equal(r.utilization, 200);
  assert.equal(r.replicas, 8);
});

test('within 10% tolerance nothing changes', () => {
  const r = resourceReplicas({ currentReplicas: 2, pods: [pod('a'), pod('b')], usage: usage([['a', 0.054], ['b', 0.052]]), resource: 'cpu', target: { utilization: 50 }, now: NOW });
  assert.equal(r.replicas, 2);
});

test('a pod without metrics counts as at target when scaling down', () => {
  const r = resourceReplicas({ currentReplicas: 3, pods: [pod('a'), pod('b'), pod('c')], usage: usage([['a', 0.01], ['b', 0.01]]), resource: 'cpu', target: { utilization: 50 }, now: NOW });
  // (10 + 10 + 100) / 300 = 40% → ratio 0.8 → ceil(0.8 × 3) = 3 would not shrink... 2.4 → 3
  assert.equal(r.replicas, 3);
  assert.equal(r.utilization, 10);
});

test('AverageValue targets compare the mean usage per pod', () => {
  const r = resourceReplicas({ currentReplicas: 1, pods: [pod('a')], usage: usage([['a', 300 * 2 ** 20]]), resource: 'memory', target: { averageValue: 100 * 2 ** 20 }, now: NOW });
  assert.equal(r.replicas, 3);
  assert.equal(r.utilization, undefined);
});

test('missing requests and no metrics are errors', () => {
  assert.throws(() => resourceReplicas({ currentReplicas: 1, pods: [{ ...pod('a'), spec: { containers: [{ name: 'c' }] } } as KObject], usage: usage([['a', 1]]), resource: 'cpu', target: { utilization: 50 }, now: NOW }), /missing request for cpu in container c of Pod a/);
  assert.throws(() => resourceReplicas({ currentReplicas: 1, pods: [pod('a')], usage: new Map(), resource: 'cpu', target: { utilization: 50 }, now: NOW }), /no metrics returned/);
});

test('a CPU sample from before the pod was Ready for a whole window is not trusted', () => {
  const fresh = pod('a', '100m', { status: { phase: 'Running', startTime: '2030-01-01T00:09:50Z', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2030-01-01T00:09:55Z' }] } });
  assert.throws(() => resourceReplicas({ currentReplicas: 1, pods: [fresh], usage: usage([['a', 1]]), resource: 'cpu', target: { utilization: 50 }, now: NOW }), /pods might be unready/);
});
