import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize, recordScaleEvent, type Behavior } from './normalize.ts';

const base = { minReplicas: 1, maxReplicas: 10, recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };

test('without behavior: scale-up is limited to max(2×, 4), then maxReplicas', () => {
  const r = normalize({ ...base, currentReplicas: 1, proposed: 9, now: 0, recommendations: [] });
  assert.equal(r.replicas, 4);
  assert.equal(r.limited.reason, 'ScaleUpLimit');
  assert.equal(normalize({ ...base, maxReplicas: 3, currentReplicas: 1, proposed: 9, now: 0, recommendations: [] }).limited.reason, 'TooManyReplicas');
});

test('without behavior: a scale-down waits for the 300 s window', () => {
  const recommendations = [{ timestampMs: 0, replicas: 5 }];
  const held = normalize({ ...base, currentReplicas: 5, proposed: 2, now: 100_000, recommendations });
  assert.equal(held.replicas, 5);
  assert.equal(held.ableToScale.reason, 'ScaleDownStabilized');
  const later = normalize({ ...base, currentReplicas: 5, proposed: 2, now: 400_000, recommendations: [{ timestampMs: 0, replicas: 5 }] });
  assert.equal(later.replicas, 2);
});

test('with behavior: a short scale-down window and policies', () => {
  const behavior: Behavior = {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
    scaleDown: { stabilizationWindowSeconds: 5, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
  };
  const up = normalize({ ...base, behavior, currentReplicas: 2, proposed: 6, now: 0, recommendations: [] });
  assert.deepEqual([up.replicas, up.limited.reason], [3, 'ScaleUpLimit']);
  const down = normalize({ ...base, behavior, currentReplicas: 8, proposed: 1, now: 10_000, recommendations: [{ timestampMs: 0, replicas: 8 }] });
  assert.deepEqual([down.replicas, down.limited.reason], [4, 'ScaleDownLimit']);
  const ups: { timestampMs: number; change: number }[] = [];
  recordScaleEvent(ups, [], 2, 3, 0, behavior);
  const again = normalize({ ...base, behavior, currentReplicas: 3, proposed: 6, now: 30_000, recommendations: [], scaleUpEvents: ups });
  assert.equal(again.replicas, 3, 'one pod per minute already used');
});
