import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, evictionDeadline, toleratesTaint, withConditionTaints, type Taint } from './taints.ts';

test('toleratesTaint follows Kubernetes matching', () => {
  const taint: Taint = { key: 'k', value: 'v', effect: 'NoExecute' };
  assert.ok(toleratesTaint({ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute' }, taint));
  assert.ok(toleratesTaint({ key: 'k', value: 'v' }, taint), 'empty effect and operator Equal by default');
  assert.ok(toleratesTaint({ key: 'k', operator: 'Exists' }, taint));
  assert.ok(toleratesTaint({ operator: 'Exists' }, taint), 'empty key with Exists tolerates everything');
  assert.ok(!toleratesTaint({ key: 'k', value: 'w' }, taint));
  assert.ok(!toleratesTaint({ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint));
  assert.ok(!toleratesTaint({ key: 'other', operator: 'Exists' }, taint));
});

test('condition taints follow Ready', () => {
  const admin: Taint = { key: 'dedicated', effect: 'NoSchedule' };
  const unknown = withConditionTaints([admin], 'Unknown', 'T1');
  assert.deepEqual(unknown, [admin, { key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: 'T1' }]);
  assert.deepEqual(withConditionTaints(unknown, 'Unknown', 'T2'), unknown, 'timeAdded kept');
  const notReady = withConditionTaints(unknown, 'False', 'T3');
  assert.deepEqual(notReady, [admin, { key: TAINT_NOT_READY, effect: 'NoSchedule' }, { key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: 'T3' }]);
  assert.deepEqual(withConditionTaints(notReady, 'True', 'T4'), [admin]);
  assert.deepEqual(withConditionTaints(notReady, undefined, 'T4'), notReady);
});

test('eviction deadlines', () => {
  const taints: Taint[] = [{ key: TAINT_UNREACHABLE, effect: 'NoExecute' }, { key: 'x', effect: 'NoSchedule' }];
  const at = (): number => 1000;
  assert.equal(evictionDeadline([], taints, at), -Infinity);
  assert.equal(evictionDeadline([{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }], taints, at), 301_000);
  assert.equal(evictionDeadline([{ operator: 'Exists' }], taints, at), undefined);
  assert.equal(evictionDeadline([{ operator: 'Exists' }, { key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: 5 }], taints, at), 6000, 'smallest seconds among matching tolerations');
  assert.equal(evictionDeadline([{ key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: -3 }], taints, at), 1000);
  assert.equal(evictionDeadline([], [{ key: 'x', effect: 'NoSchedule' }], at), undefined, 'NoSchedule never evicts');
});
