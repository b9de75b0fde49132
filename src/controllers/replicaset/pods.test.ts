import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { isPodAvailable, podsToDelete } from './pods.ts';
import { slowStartBatch } from './slow-start.ts';
import { Expectations } from './expectations.ts';

const NOW = Date.parse('2024-06-01T12:00:00Z');
const ago = (s: number): string => new Date(NOW - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function pod(name: string, o: { node?: string; phase?: string; readyFor?: number; created?: number; restarts?: number; cost?: number } = {}): KObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: ago(o.created ?? 10_000),
      ...(o.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(o.cost) } } : {}),
    },
    spec: o.node ? { nodeName: o.node } : {},
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.readyFor !== undefined ? [{ type: 'Ready', status: 'True', lastTransitionTime: ago(o.readyFor) }] : [],
      containerStatuses: [{ restartCount: o.restarts ?? 0 }],
    },
  };
}

const names = (ps: KObject[]): string[] => ps.map((p) => p.metadata.name!);

describe('scale-down order', () => {
  it('prefers unscheduled, then pending, then not ready', () => {
    const ps = [pod('ready', { node: 'n1', readyFor: 600 }), pod('unready', { node: 'n1' }), pod('pending', { node: 'n1', phase: 'Pending' }), pod('unscheduled', { phase: 'Pending' })];
    assert.deepEqual(names(podsToDelete(ps, ps, 3, NOW)), ['unscheduled', 'pending', 'unready']);
  });

  it('prefers lower deletion cost, doubled-up nodes, then recently ready, restarts, newer', () => {
    const cost = [pod('cheap', { node: 'n1', readyFor: 60, cost: -5 }), pod('dear', { node: 'n2', readyFor: 60, cost: 10 })];
    assert.deepEqual(names(podsToDelete(cost, cost, 1, NOW)), ['cheap']);
    const crowd = [pod('alone', { node: 'n1', readyFor: 60 }), pod('crowded', { node: 'n2', readyFor: 60 }), pod('other', { node: 'n2', readyFor: 60 })];
    assert.equal(names(podsToDelete([crowd[0]!, crowd[1]!], crowd, 1, NOW))[0], 'crowded');
    const age = [pod('old', { node: 'n1', readyFor: 100_000 }), pod('young', { node: 'n2', readyFor: 10 })];
    assert.deepEqual(names(podsToDelete(age, [], 1, NOW)), ['young']);
    const restarts = [pod('calm', { node: 'n1', readyFor: 10 }), pod('flappy', { node: 'n2', readyFor: 10, restarts: 7 })];
    assert.deepEqual(names(podsToDelete(restarts, [], 1, NOW)), ['flappy']);
    const created = [pod('first', { node: 'n1', created: 100_000 }), pod('second', { node: 'n2', created: 5 })];
    assert.deepEqual(names(podsToDelete(created, [], 1, NOW)), ['second']);
  });

  it('counts availability from the Ready transition time', () => {
    assert.ok(isPodAvailable(pod('p', { readyFor: 31 }), 30, NOW));
    assert.ok(!isPodAvailable(pod('p', { readyFor: 10 }), 30, NOW));
    assert.ok(isPodAvailable(pod('p', { readyFor: 0 }), 0, NOW));
    assert.ok(!isPodAvailable(pod('p'), 0, NOW));
  });
});

describe('slowStartBatch', () => {
  it('runs 1, 2, 4, ... and stops after a failing batch', async () => {
    let calls = 0;
    const ok = await slowStartBatch(10, 1, async () => { calls++; });
    assert.deepEqual([ok.successes, calls], [10, 10]);
    calls = 0;
    const failing = await slowStartBatch(10, 1, async () => { calls++; if (calls > 2) throw new Error('quota'); });
    // Batch 1 succeeds; batch 2 has one success and one failure; nothing more is tried.
    assert.deepEqual([failing.successes, calls], [2, 3]);
    assert.ok(failing.error instanceof Error);
  });
});

describe('Expectations', () => {
  it('blocks until creations and deletions are observed, or expire', () => {
    let now = 0;
    const e = new Expectations(() => now, 1000);
    assert.ok(e.satisfied('k'));
    e.expectCreations('k', 2);
    e.creationObserved('k');
    assert.ok(!e.satisfied('k'));
    e.creationObserved('k');
    assert.ok(e.satisfied('k'));
    e.expectDeletions('k', ['ns/a', 'ns/b']);
    e.deletionObserved('k', 'ns/a');
    e.deletionObserved('k', 'ns/a');
    assert.ok(!e.satisfied('k'));
    now = 2000;
    assert.ok(e.satisfied('k'), 'expired');
  });
});
