import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { ApiError } from '../errors.ts';
import { admitPodPriority, type PriorityClassSource } from './priority.ts';

const pc = (name: string, value: number, extra: Record<string, unknown> = {}): KObject =>
  ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, preemptionPolicy: 'PreemptLowerPriority', ...extra }) as KObject;
const source = (classes: KObject[]): PriorityClassSource => ({
  get: async (name) => classes.find((c) => c.metadata.name === name),
  list: async () => classes,
});
type Pod = KObject & { spec: Record<string, unknown> };
const pod = (spec: Record<string, unknown> = {}): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } }) as Pod;

test('a named class gives the pod its value and preemption policy', async () => {
  const p = pod({ priorityClassName: 'high' });
  await admitPodPriority(p, source([pc('high', 1000, { preemptionPolicy: 'Never' })]));
  assert.equal(p.spec.priority, 1000);
  assert.equal(p.spec.preemptionPolicy, 'Never');
});

test('no class: the global default, else 0', async () => {
  const p = pod();
  await admitPodPriority(p, source([pc('a', 5, { globalDefault: true }), pc('b', 3, { globalDefault: true }), pc('c', 1)]));
  assert.equal(p.spec.priority, 3);
  assert.equal(p.spec.priorityClassName, 'b');
  const q = pod();
  await admitPodPriority(q, source([pc('c', 1)]));
  assert.equal(q.spec.priority, 0);
  assert.equal(q.spec.priorityClassName, undefined);
});

test('built-in classes resolve without objects; unknown classes and mismatched values are forbidden', async () => {
  const p = pod({ priorityClassName: 'system-node-critical' });
  await admitPodPriority(p, source([]));
  assert.equal(p.spec.priority, 2_000_001_000);
  await assert.rejects(admitPodPriority(pod({ priorityClassName: 'nope' }), source([])),
    (e: unknown) => e instanceof ApiError && e.code === 403 && /no PriorityClass with name nope was found/.test(e.message));
  await assert.rejects(admitPodPriority(pod({ priorityClassName: 'high', priority: 7 }), source([pc('high', 1000)])),
    (e: unknown) => e instanceof ApiError && /must not be provided in pod spec/.test(e.message));
  const same = pod({ priorityClassName: 'high', priority: 1000 });
  await admitPodPriority(same, source([pc('high', 1000)]));
  assert.equal(same.spec.priority, 1000);
});
