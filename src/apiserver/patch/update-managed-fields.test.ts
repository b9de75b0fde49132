import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { updateManagedFields } from './update-managed-fields.ts';
import type { UpdateManagedFieldsArgs } from './update-managed-fields.ts';
import { podSchema } from './test-schemas.ts';

const T0 = '2026-11-23T10:00:00Z';
const T1 = '2026-11-23T11:00:00Z';

const pod = (labels: Record<string, string>, image = 'nginx:1'): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', uid: 'u', resourceVersion: '1', labels },
  spec: { containers: [{ name: 'c', image }] },
});

function record(old: KObject | undefined, updated: KObject, manager: string, extra: Partial<UpdateManagedFieldsArgs> = {}): KObject {
  updateManagedFields({ old, updated, manager, operation: 'Update', apiVersion: 'v1', now: T0, schema: podSchema, ...extra });
  return updated;
}

test('create records every set field except identity and bookkeeping', () => {
  const created = record(undefined, pod({ app: 'web' }), 'kubectl-create', { now: '2026-11-23T10:00:00.999Z' });
  assert.deepEqual(created.metadata.managedFields, [
    {
      manager: 'kubectl-create',
      operation: 'Update',
      apiVersion: 'v1',
      time: T0,
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': { 'f:containers': { '.': {}, 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
      },
    },
  ]);
});

test('an update moves changed fields to its manager and drops emptied entries', () => {
  const created = record(undefined, pod({ app: 'web' }), 'creator');
  const labelled = record(created, { ...structuredClone(created), metadata: { ...structuredClone(created.metadata), labels: { app: 'web', tier: 'db' } } }, 'labeller', { now: T1 });
  const labeller = labelled.metadata.managedFields?.find((m) => m.manager === 'labeller');
  assert.deepEqual(labeller?.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:tier': {} } } });
  assert.equal(labeller?.time, T1);

  // The labeller changes app too: app leaves the creator's set.
  const relabelled = structuredClone(labelled);
  (relabelled.metadata.labels as Record<string, string>)['app'] = 'api';
  record(labelled, relabelled, 'labeller', { now: T1 });
  const creator = relabelled.metadata.managedFields?.find((m) => m.manager === 'creator');
  assert.doesNotMatch(JSON.stringify(creator?.fieldsV1), /f:app/);
  assert.match(JSON.stringify(relabelled.metadata.managedFields?.find((m) => m.manager === 'labeller')?.fieldsV1), /f:app/);

  // Someone replaces the container image and removes all labels: the creator owns nothing
  // more that still exists apart from the container itself.
  const replaced = structuredClone(relabelled);
  delete replaced.metadata.labels;
  (replaced['spec'] as { containers: { image: string }[] }).containers[0]!.image = 'nginx:2';
  record(relabelled, replaced, 'editor', { now: T1 });
  assert.equal(replaced.metadata.managedFields?.find((m) => m.manager === 'labeller'), undefined, 'labeller entry emptied and dropped');
  assert.deepEqual(replaced.metadata.managedFields?.find((m) => m.manager === 'creator')?.fieldsV1, {
    'f:spec': { 'f:containers': { '.': {}, 'k:{"name":"c"}': { '.': {}, 'f:name': {} } } },
  });
});

test('a write that changes nothing leaves entries and times alone', () => {
  const created = record(undefined, pod({ app: 'web' }), 'creator');
  const same = record(created, structuredClone(created), 'someone-else', { now: T1 });
  assert.deepEqual(same.metadata.managedFields, created.metadata.managedFields);
});

test('[{}] clears managedFields; [] keeps the stored ones', () => {
  const created = record(undefined, pod({ app: 'web' }), 'creator');
  const cleared = structuredClone(created);
  cleared.metadata.managedFields = [{}];
  record(created, cleared, 'x');
  assert.equal(cleared.metadata.managedFields, undefined);

  const kept = structuredClone(created);
  kept.metadata.managedFields = [];
  record(created, kept, 'x');
  assert.deepEqual(kept.metadata.managedFields, created.metadata.managedFields);
});

test('status is owned only through the status subresource', () => {
  const created = record(undefined, pod({ app: 'web' }), 'creator');
  const withStatus = { ...structuredClone(created), status: { phase: 'Running' } };
  record(created, withStatus, 'kubelet', { subresource: 'status' });
  const kubelet = withStatus.metadata.managedFields?.find((m) => m.manager === 'kubelet');
  assert.deepEqual(kubelet?.fieldsV1, { 'f:status': { 'f:phase': {} } });
  assert.equal(kubelet?.subresource, 'status');

  const mainWrite = { ...structuredClone(created), status: { phase: 'Failed' } };
  record(created, mainWrite, 'someone');
  assert.equal(mainWrite.metadata.managedFields?.find((m) => m.manager === 'someone'), undefined);
});

test('a manager rewriting only fields it owns keeps every entry, refreshes its own time and re-sorts', () => {
  const T2 = '2026-11-23T12:00:00Z';
  const created = record(undefined, pod({ app: 'web' }), 'creator', { now: T1 });
  const labelled = structuredClone(created);
  (labelled.metadata.labels as Record<string, string>)['tier'] = 'db';
  record(created, labelled, 'labeller', { now: T0 }); // older than the creator's entry: sorted first
  assert.deepEqual(labelled.metadata.managedFields?.map((m) => m.manager), ['labeller', 'creator']);

  const again = structuredClone(labelled);
  (again.metadata.labels as Record<string, string>)['tier'] = 'cache';
  record(labelled, again, 'labeller', { now: T2 });
  const [first, second] = again.metadata.managedFields!;
  assert.deepEqual(first, labelled.metadata.managedFields![1]); // the creator's entry, untouched
  assert.deepEqual(second, { ...labelled.metadata.managedFields![0], time: T2 });

  // The same write with managedFields the client changed goes through the full bookkeeping
  // (the fast path only trusts entries identical to the stored ones).
  const sentOwn = structuredClone(labelled);
  (sentOwn.metadata.labels as Record<string, string>)['tier'] = 'cache';
  sentOwn.metadata.managedFields = [sentOwn.metadata.managedFields![1]!];
  record(labelled, sentOwn, 'labeller', { now: T2 });
  assert.deepEqual(sentOwn.metadata.managedFields?.map((m) => m.manager), ['creator', 'labeller']);
  assert.deepEqual(sentOwn.metadata.managedFields?.[1]?.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:tier': {} } } });

  // Changing a field another manager owns still moves it.
  const taken = structuredClone(again);
  (taken.metadata.labels as Record<string, string>)['app'] = 'api';
  record(again, taken, 'labeller', { now: T2 });
  assert.doesNotMatch(JSON.stringify(taken.metadata.managedFields?.find((m) => m.manager === 'creator')?.fieldsV1), /f:app/);
});
