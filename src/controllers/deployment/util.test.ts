import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  REVISION, REVISION_HISTORY, computeHash, equalIgnoreHash, maxSurge, maxUnavailable, newRSNewReplicas, proportion,
  resolveFenceposts, scaledValue, setCondition, setNewReplicaSetAnnotations, type Deployment, type ReplicaSet,
} from './util.ts';

function dep(replicas: number, rolling?: { maxSurge?: number | string; maxUnavailable?: number | string }, type = 'RollingUpdate'): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'd1' },
    spec: { replicas, strategy: { type, ...(rolling ? { rollingUpdate: rolling } : {}) }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'x' }] } } },
  };
}

function rs(name: string, replicas: number, annotations: Record<string, string> = {}): ReplicaSet {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, annotations }, spec: { replicas } };
}

describe('deployment util', () => {
  it('scales percentages: surge rounds up, unavailable rounds down', () => {
    assert.equal(scaledValue('25%', 10, true), 3);
    assert.equal(scaledValue('25%', 10, false), 2);
    assert.equal(scaledValue('25%', 1, true), 1);
    assert.equal(scaledValue('25%', 1, false), 0);
    assert.equal(scaledValue(2, 10, false), 2);
    assert.deepEqual(resolveFenceposts(dep(10, { maxSurge: '25%', maxUnavailable: '25%' }), 10), [3, 2]);
    // Both round to zero: one may be unavailable.
    assert.deepEqual(resolveFenceposts(dep(1, { maxSurge: '0%', maxUnavailable: '25%' }), 1), [0, 1]);
    assert.equal(maxUnavailable(dep(2, { maxSurge: 0, maxUnavailable: 5 })), 2, 'capped at replicas');
    assert.equal(maxSurge(dep(3, undefined, 'Recreate')), 0);
    assert.equal(maxUnavailable(dep(3, undefined, 'Recreate')), 0);
  });

  it('hashes templates stably and ignores the hash label when comparing', () => {
    const t = { metadata: { labels: { app: 'web', tier: 'a' } }, spec: { containers: [{ name: 'a', image: 'x' }] } };
    const reordered = { spec: { containers: [{ image: 'x', name: 'a' }] }, metadata: { labels: { tier: 'a', app: 'web' } } };
    assert.equal(computeHash(t), computeHash(reordered));
    assert.notEqual(computeHash(t), computeHash(t, 1), 'the collision count changes the hash');
    assert.notEqual(computeHash(t), computeHash({ ...t, spec: { containers: [{ name: 'a', image: 'y' }] } }));
    assert.match(computeHash(t), /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    const labelled = structuredClone(t) as typeof t & { metadata: { labels: Record<string, string> } };
    labelled.metadata.labels['pod-template-hash'] = computeHash(t);
    assert.ok(equalIgnoreHash(t, labelled));
    assert.ok(!equalIgnoreHash(t, { ...t, metadata: { labels: { app: 'web' } } }));
  });

  it('treats a null field as absent (kubectl rollout undo sends metadata.creationTimestamp: null)', () => {
    const t = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'x' }] } };
    const withNull = { metadata: { creationTimestamp: null, labels: { app: 'web', 'pod-template-hash': 'abc' } }, spec: t.spec };
    assert.ok(equalIgnoreHash(withNull, t));
    assert.equal(computeHash({ ...t, metadata: { creationTimestamp: null, labels: t.metadata.labels } }), computeHash(t));
  });

  it('gives a rolled-back ReplicaSet the next revision and remembers the old one', () => {
    const d = dep(3);
    d.metadata.annotations = { team: 'a', 'kubectl.kubernetes.io/last-applied-configuration': '{}', [REVISION]: '2' };
    const old = rs('web-1', 0, { [REVISION]: '1' });
    assert.ok(setNewReplicaSetAnnotations(d, old, 3, true));
    assert.equal(old.metadata.annotations![REVISION], '3');
    assert.equal(old.metadata.annotations![REVISION_HISTORY], '1');
    assert.equal(old.metadata.annotations!.team, 'a');
    assert.equal(old.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration'], undefined);
    assert.ok(setNewReplicaSetAnnotations(d, old, 5, true));
    assert.equal(old.metadata.annotations![REVISION_HISTORY], '1,3');
    assert.ok(!setNewReplicaSetAnnotations(d, old, 5, true), 'nothing left to change');
    const fresh = rs('web-2', 0);
    setNewReplicaSetAnnotations(d, fresh, 1, false);
    assert.equal(fresh.metadata.annotations!['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(fresh.metadata.annotations!['deployment.kubernetes.io/max-replicas'], '3', 'no rollingUpdate: no surge');
  });

  it('lets the new ReplicaSet grow only within maxSurge', () => {
    const d = dep(10, { maxSurge: 3, maxUnavailable: 2 });
    const newRS = rs('new', 0);
    assert.equal(newRSNewReplicas(d, [rs('old', 10), newRS], newRS), 3);
    const grown = rs('new', 5);
    assert.equal(newRSNewReplicas(d, [rs('old', 8), grown], grown), 5, 'already at 13');
    assert.equal(newRSNewReplicas(dep(4, undefined, 'Recreate'), [newRS], newRS), 4);
  });

  it('splits a scale-up in proportion to the max-replicas annotation', () => {
    const d = dep(20, { maxSurge: 3, maxUnavailable: 2 });
    const old = rs('old', 8, { 'deployment.kubernetes.io/max-replicas': '13' });
    const fresh = rs('new', 5, { 'deployment.kubernetes.io/max-replicas': '13' });
    const p1 = proportion(old, d, 10, 0);
    const p2 = proportion(fresh, d, 10, p1);
    assert.deepEqual([p1, p2], [6, 4]);
  });

  it('keeps a condition\'s transition time when only its reason changes', () => {
    const s = { conditions: [{ type: 'Progressing', status: 'True' as const, reason: 'A', lastTransitionTime: 't0', lastUpdateTime: 't0' }] };
    setCondition(s, { type: 'Progressing', status: 'True', reason: 'A', lastTransitionTime: 't1', lastUpdateTime: 't1' });
    assert.equal(s.conditions[0]!.lastUpdateTime, 't0', 'same status and reason: untouched');
    setCondition(s, { type: 'Progressing', status: 'True', reason: 'B', lastTransitionTime: 't2', lastUpdateTime: 't2' });
    assert.deepEqual(s.conditions[0], { type: 'Progressing', status: 'True', reason: 'B', lastTransitionTime: 't0', lastUpdateTime: 't2' });
  });
});
