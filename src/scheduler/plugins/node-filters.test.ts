// NodeName, NodeUnschedulable and TaintToleration: the node-only filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/cycle-state.ts';
import { NodeInfo } from '../framework/node-info.ts';
import type { NodeScore } from '../framework/interface.ts';
import { node, podInfo } from '../testing.ts';
import { nodeName } from './node-name.ts';
import { nodeUnschedulable } from './node-unschedulable.ts';
import { taintToleration } from './taint-toleration.ts';

const ni = (...a: Parameters<typeof node>) => new NodeInfo(a[0], node(...a));
const st = new CycleState();

test('NodeName', () => {
  assert.equal(nodeName.filter(st, podInfo('p'), ni('a')).code, 'Success');
  assert.equal(nodeName.filter(st, podInfo('p', { nodeName: 'a' }), ni('a')).code, 'Success');
  assert.deepEqual(nodeName.filter(st, podInfo('p', { nodeName: 'a' }), ni('b')),
    { code: 'UnschedulableAndUnresolvable', reasons: ["node(s) didn't match the requested node name"] });
});

test('NodeUnschedulable honours the unschedulable toleration', () => {
  const cordoned = ni('a', { unschedulable: true });
  assert.deepEqual(nodeUnschedulable.filter(st, podInfo('p'), cordoned).reasons, ['node(s) were unschedulable']);
  const ds = podInfo('ds', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
  assert.equal(nodeUnschedulable.filter(st, ds, cordoned).code, 'Success');
  assert.equal(nodeUnschedulable.filter(st, podInfo('p'), ni('b')).code, 'Success');
});

test('TaintToleration filters NoSchedule/NoExecute with the Kubernetes message', () => {
  const tainted = ni('a', { taints: [{ key: 'gpu', value: 'true', effect: 'PreferNoSchedule' }, { key: 'dedicated', value: 'db', effect: 'NoExecute' }] });
  const s = taintToleration.filter(st, podInfo('p'), tainted);
  assert.equal(s.code, 'UnschedulableAndUnresolvable');
  assert.deepEqual(s.reasons, ['node(s) had untolerated taint {dedicated: db}']);
  const tol = (t: object) => podInfo('p', { spec: { tolerations: [t] } });
  assert.equal(taintToleration.filter(st, tol({ key: 'dedicated', operator: 'Equal', value: 'db' }), tainted).code, 'Success');
  assert.equal(taintToleration.filter(st, tol({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }), tainted).code, 'Success');
  assert.equal(taintToleration.filter(st, tol({ operator: 'Exists' }), tainted).code, 'Success', 'empty key + Exists tolerates all');
  assert.notEqual(taintToleration.filter(st, tol({ key: 'dedicated', value: 'web' }), tainted).code, 'Success');
  assert.notEqual(taintToleration.filter(st, tol({ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }), tainted).code, 'Success');
});

test('TaintToleration scores PreferNoSchedule taints: fewer is better', () => {
  const pref = (key: string) => ({ key, effect: 'PreferNoSchedule' });
  const nodes = [ni('clean'), ni('one', { taints: [pref('a')] }), ni('two', { taints: [pref('a'), pref('b')] })];
  const p = podInfo('p', { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } });
  const scores: NodeScore[] = nodes.map((n) => ({ node: n, score: taintToleration.score(st, p, n) }));
  assert.deepEqual(scores.map((s) => s.score), [0, 1, 1]);
  taintToleration.normalizeScore!(st, p, scores);
  assert.deepEqual(scores.map((s) => s.score), [100, 0, 0]);
});
