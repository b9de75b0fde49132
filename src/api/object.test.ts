import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepFreeze } from './object.ts';

test('deepFreeze freezes every level and keeps the JSON', () => {
  const text = '{"metadata":{"name":"p","labels":{},"annotations":{}},"spec":{"schedulerName":"default-scheduler","containers":[{"name":"c","args":[],"image":"' + 'x'.repeat(200) + '"}]}}';
  const pod = deepFreeze(JSON.parse(text));
  assert.equal(JSON.stringify(pod), text);
  assert.ok(Object.isFrozen(pod.spec.containers[0]) && Object.isFrozen(pod.spec.containers[0].args));
  assert.throws(() => { pod.spec.containers[0].name = 'x'; }, TypeError);
  const again = deepFreeze(JSON.parse(text));
  assert.deepEqual(again, pod);
});

test('a copy of a frozen object made with structuredClone has no shared parts', () => {
  const copy = structuredClone(deepFreeze(JSON.parse('{"metadata":{"labels":{},"annotations":{}},"a":[],"b":[]}')));
  copy.metadata.labels.app = 'web';
  copy.a.push(1);
  assert.deepEqual(copy, { metadata: { labels: { app: 'web' }, annotations: {} }, a: [1], b: [] });
});
