import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import type { DesiredGroup } from './desired.ts';
import { portsKey } from './desired.ts';
import { CONTROLLER_NAME, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, reconcileSlices } from './reconciler.ts';

type Json = Record<string, any>;

const svc: KObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', uid: 'svc-uid' }, spec: { selector: { app: 'web' } } };
const ports = [{ name: 'http', port: 8080, protocol: 'TCP' }];

const ep = (i: number, ready = true): Json => ({
  addresses: [`10.0.${Math.floor(i / 250)}.${i % 250}`],
  conditions: { ready, serving: ready, terminating: false },
  targetRef: { kind: 'Pod', namespace: 'default', name: `p${String(i).padStart(4, '0')}`, uid: `u${i}` },
});

function group(eps: Json[], p = ports): Map<string, DesiredGroup> {
  const key = portsKey(p);
  return new Map([[key, { key, ports: p, endpoints: new Map(eps.map((e) => [`default/${e.targetRef.name}`, e])) }]]);
}

/** Applies a plan the way the API would, naming created slices. */
function apply(existing: KObject[], plan: ReturnType<typeof reconcileSlices>): KObject[] {
  let n = existing.length;
  const gone = new Set(plan.delete.map((s) => s.metadata.name));
  const updated = new Map(plan.update.map((s) => [s.metadata.name, s]));
  const out = existing.filter((s) => !gone.has(s.metadata.name)).map((s) => updated.get(s.metadata.name) ?? s);
  for (const s of plan.create) out.push({ ...s, metadata: { ...s.metadata, name: `web-${n++}` } });
  return out;
}

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => i + from);

test('splits above 100 endpoints, labels and owner', () => {
  const plan = reconcileSlices(svc, group(range(250).map((i) => ep(i))), []);
  assert.equal(plan.create.length, 3);
  assert.deepEqual(plan.create.map((s) => (s.endpoints as unknown[]).length), [100, 100, 50]);
  const s = plan.create[0]!;
  assert.equal(s.addressType, 'IPv4');
  assert.equal(s.metadata.labels?.[SERVICE_NAME_LABEL], 'web');
  assert.equal(s.metadata.labels?.[MANAGED_BY_LABEL], CONTROLLER_NAME);
  assert.deepEqual(s.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(s.ports, ports);
});

test('minimal churn: one new endpoint, one changed, one removed', () => {
  let slices = apply([], reconcileSlices(svc, group(range(250).map((i) => ep(i))), []));
  // Unchanged world: no writes.
  const same = reconcileSlices(svc, group(range(250).map((i) => ep(i))), slices);
  assert.deepEqual([same.create.length, same.update.length, same.delete.length], [0, 0, 0]);

  // One new endpoint fits in the slice with room: one update, no create.
  const plus = reconcileSlices(svc, group(range(251).map((i) => ep(i))), slices);
  assert.deepEqual([plus.create.length, plus.update.length, plus.delete.length], [0, 1, 0]);
  slices = apply(slices, plus);

  // One endpoint turns not ready and one goes: only the slices holding them change.
  const eps = range(251).map((i) => ep(i, i !== 5)).filter((_, i) => i !== 6);
  const change = reconcileSlices(svc, group(eps), slices);
  assert.equal(change.update.length, 1);
  assert.equal(change.create.length + change.delete.length, 0);
  const updated = change.update[0]!.endpoints as Json[];
  assert.equal(updated.length, 99);
  assert.equal(updated.find((e) => e.targetRef.name === 'p0005')!.conditions.ready, false);
});

test('placeholder slice when there are no endpoints, reused when they come', () => {
  const empty = reconcileSlices(svc, new Map(), []);
  assert.equal(empty.create.length, 1);
  assert.deepEqual(empty.create[0]!.endpoints, []);
  assert.deepEqual(empty.create[0]!.ports, []);
  let slices = apply([], empty);
  assert.deepEqual(reconcileSlices(svc, new Map(), slices), { create: [], update: [], delete: [] });

  const filled = reconcileSlices(svc, group([ep(1)]), slices);
  assert.deepEqual([filled.create.length, filled.update.length, filled.delete.length], [0, 1, 0]);
  slices = apply(slices, filled);
  assert.equal((slices[0]!.endpoints as unknown[]).length, 1);

  // Everything gone: the slice becomes the placeholder again.
  const drained = reconcileSlices(svc, new Map(), slices);
  assert.equal(drained.update.length, 1);
  assert.deepEqual(drained.update[0]!.endpoints, []);
  assert.deepEqual(drained.update[0]!.ports, []);
});

test('a port change moves endpoints into a reused slice', () => {
  const slices = apply([], reconcileSlices(svc, group([ep(1), ep(2)]), []));
  const other = [{ name: 'http', port: 9090, protocol: 'TCP' }];
  const plan = reconcileSlices(svc, group([ep(1), ep(2)], other), slices);
  assert.deepEqual([plan.create.length, plan.update.length, plan.delete.length], [0, 1, 0]);
  assert.deepEqual(plan.update[0]!.ports, other);
});
