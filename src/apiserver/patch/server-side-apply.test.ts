import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { applyServerSide } from './server-side-apply.ts';
import type { ApplyArgs } from './server-side-apply.ts';
import { updateManagedFields } from './update-managed-fields.ts';
import { ApplyConflictError, PatchError } from './errors.ts';
import { deploymentSchema, serviceSchema } from './test-schemas.ts';

const T0 = '2026-11-23T10:00:00Z';
const T1 = '2026-11-23T11:00:00Z';

interface Container { name: string; image?: string; env?: { name: string; value: string }[] }

function deployment(spec: Record<string, unknown> | undefined, metadata: Record<string, unknown> = {}): KObject {
  const obj: KObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', ...metadata } };
  if (spec) obj['spec'] = spec;
  return obj;
}

const template = (...containers: Container[]) => ({ metadata: { labels: { app: 'web' } }, spec: { containers } });

function apply(live: KObject | undefined, applied: KObject, manager: string, extra: Partial<ApplyArgs> = {}): KObject {
  return applyServerSide({ live, applied, manager, force: false, schema: deploymentSchema, apiVersion: 'apps/v1', now: T0, ...extra });
}

const spec = (obj: KObject) => obj['spec'] as { replicas?: number; template: { spec: { containers: Container[] } } };
const entry = (obj: KObject, manager: string, operation = 'Apply') =>
  obj.metadata.managedFields?.find((m) => m.manager === manager && m.operation === operation);

function conflictOf(fn: () => unknown): ApplyConflictError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApplyConflictError) return err;
    throw err;
  }
  assert.fail('expected an ApplyConflictError');
}

test('create via apply records an Apply entry and ignores status', () => {
  const applied = deployment({ replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template({ name: 'nginx', image: 'nginx:1' }) });
  applied['status'] = { replicas: 99 };
  const created = apply(undefined, applied, 'kubectl', { now: '2026-11-23T10:00:00.734Z' });

  assert.equal(created.metadata.name, 'web');
  assert.equal(created['status'], undefined);
  assert.deepEqual(spec(created).template.spec.containers, [{ name: 'nginx', image: 'nginx:1' }]);
  assert.deepEqual(created.metadata.managedFields, [
    {
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: T0,
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
          },
        },
      },
    },
  ]);
});

test('re-applying without a field removes it from the object and from the entry', () => {
  const first = apply(
    undefined,
    deployment({ replicas: 2, template: template({ name: 'web', image: 'nginx:1' }, { name: 'sidecar', image: 'envoy:1' }) }, { labels: { team: 'a' } }),
    'kubectl',
  );
  const second = apply(first, deployment({ template: template({ name: 'web', image: 'nginx:1' }) }), 'kubectl', { now: T1 });

  assert.equal(spec(second).replicas, undefined);
  assert.deepEqual(spec(second).template.spec.containers, [{ name: 'web', image: 'nginx:1' }]);
  assert.equal(second.metadata.labels, undefined, 'a struct field whose contents are all gone goes too');
  const fields = JSON.stringify(entry(second, 'kubectl')?.fieldsV1);
  assert.doesNotMatch(fields, /replicas|sidecar|team/);
  assert.equal(entry(second, 'kubectl')?.time, T1);
  assert.equal(second.metadata.name, 'web', 'identity is never pruned');
});

test('two managers applying the same value share it; it stays until both drop it', () => {
  const a = apply(undefined, deployment({ replicas: 3, template: template({ name: 'web', image: 'nginx:1' }) }), 'team-a');
  const b = apply(a, deployment({ replicas: 3 }), 'team-b');
  assert.ok(entry(b, 'team-a')?.fieldsV1?.['f:spec']);
  assert.deepEqual(entry(b, 'team-b')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });

  const aDrops = apply(b, deployment({ template: template({ name: 'web', image: 'nginx:1' }) }), 'team-a');
  assert.equal(spec(aDrops).replicas, 3, 'team-b still owns replicas');

  const bDrops = apply(aDrops, deployment(undefined), 'team-b');
  assert.equal(spec(bDrops).replicas, undefined);
  assert.equal(entry(bDrops, 'team-b'), undefined, 'an empty entry is dropped');
});

test('changing a field another applier owns conflicts; force moves ownership', () => {
  const a = apply(undefined, deployment({ replicas: 3 }), 'team-a');
  const err = conflictOf(() => apply(a, deployment({ replicas: 5 }), 'team-b'));
  assert.equal(err.code, 409);
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "team-a": .spec.replicas');
  assert.deepEqual(err.conflicts.map((c) => [c.manager, c.field, c.message]), [['team-a', '.spec.replicas', 'conflict with "team-a"']]);

  const forced = apply(a, deployment({ replicas: 5 }), 'team-b', { force: true });
  assert.equal(spec(forced).replicas, 5);
  assert.equal(entry(forced, 'team-a'), undefined, 'team-a owned nothing else');
  assert.deepEqual(entry(forced, 'team-b')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
});

test('kubectl create then apply --server-side conflicts against "kubectl-create"', () => {
  const created = deployment({ replicas: 1, template: template({ name: 'nginx', image: 'nginx:1.25' }) });
  updateManagedFields({ old: undefined, updated: created, manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', now: T0, schema: deploymentSchema });
  const create = entry(created, 'kubectl-create', 'Update');
  assert.equal(create?.time, T0);
  assert.deepEqual(create?.fieldsV1, {
    'f:spec': {
      'f:replicas': {},
      'f:template': {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': { 'f:containers': { '.': {}, 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
      },
    },
  });

  // Same values: no conflict, ownership is shared.
  const shared = apply(created, deployment({ replicas: 1 }), 'kubectl');
  assert.ok(entry(shared, 'kubectl-create', 'Update')?.fieldsV1?.['f:spec']);

  const err = conflictOf(() =>
    apply(created, deployment({ replicas: 3, template: template({ name: 'nginx', image: 'nginx:1.26' }) }), 'kubectl'),
  );
  assert.equal(
    err.message,
    'Apply failed with 2 conflicts: conflicts with "kubectl-create" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
  );
  assert.deepEqual(err.conflicts.map((c) => c.message), ['conflict with "kubectl-create" using apps/v1', 'conflict with "kubectl-create" using apps/v1']);
});

test('an update (kubectl scale) takes a field away from the applier, so the applier then conflicts', () => {
  const applied = apply(undefined, deployment({ replicas: 2, template: template({ name: 'web', image: 'nginx:1' }) }), 'kubectl');
  const scaled = structuredClone(applied);
  spec(scaled).replicas = 6;
  updateManagedFields({ old: applied, updated: scaled, manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', now: T1, subresource: 'scale', schema: deploymentSchema });

  assert.doesNotMatch(JSON.stringify(entry(scaled, 'kubectl', 'Apply')?.fieldsV1), /replicas/);
  const scaleEntry = entry(scaled, 'kubectl', 'Update');
  assert.deepEqual(scaleEntry?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  assert.equal(scaleEntry?.subresource, 'scale');
  assert.equal(scaleEntry?.time, T1);

  const err = conflictOf(() => apply(scaled, deployment({ replicas: 2, template: template({ name: 'web', image: 'nginx:1' }) }), 'kubectl'));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas');
});

test('associative lists merge by key: another manager adds to one container without touching the rest', () => {
  const a = apply(undefined, deployment({ template: template({ name: 'web', image: 'nginx:1' }, { name: 'sidecar', image: 'envoy:1' }) }), 'team-a');
  const b = apply(a, deployment({ template: { spec: { containers: [{ name: 'web', env: [{ name: 'MODE', value: 'prod' }] }] } } }), 'team-b');

  assert.deepEqual(spec(b).template.spec.containers, [
    { name: 'web', image: 'nginx:1', env: [{ name: 'MODE', value: 'prod' }] },
    { name: 'sidecar', image: 'envoy:1' },
  ]);
  assert.deepEqual(entry(b, 'team-b')?.fieldsV1, {
    'f:spec': {
      'f:template': {
        'f:spec': {
          'f:containers': {
            'k:{"name":"web"}': { '.': {}, 'f:env': { 'k:{"name":"MODE"}': { '.': {}, 'f:name': {}, 'f:value': {} } }, 'f:name': {} },
          },
        },
      },
    },
  });

  // team-a stops applying "web": the container stays, since team-b still owns it, but
  // team-a's image goes, as nobody else owns it.
  const aDropsWeb = apply(b, deployment({ template: template({ name: 'sidecar', image: 'envoy:1' }) }), 'team-a');
  assert.deepEqual(spec(aDropsWeb).template.spec.containers, [
    { name: 'web', env: [{ name: 'MODE', value: 'prod' }] },
    { name: 'sidecar', image: 'envoy:1' },
  ]);
});

test('service ports are keyed by port and protocol', () => {
  const service = (ports: Record<string, unknown>[]): KObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'dns' }, spec: { ports } });
  const args = { force: false, schema: serviceSchema, apiVersion: 'v1', now: T0 };
  const a = applyServerSide({ ...args, live: undefined, applied: service([{ port: 53, protocol: 'TCP', targetPort: 5353 }]), manager: 'a' });
  const b = applyServerSide({ ...args, live: a, applied: service([{ port: 53, protocol: 'UDP', targetPort: 5353 }]), manager: 'b' });
  assert.deepEqual((b['spec'] as { ports: unknown[] }).ports, [
    { port: 53, protocol: 'TCP', targetPort: 5353 },
    { port: 53, protocol: 'UDP', targetPort: 5353 },
  ]);
  assert.ok(JSON.stringify(entry(b, 'b')?.fieldsV1).includes('k:{\\"port\\":53,\\"protocol\\":\\"UDP\\"}'));
});

test('a no-op apply keeps its timestamp', () => {
  const cfg = deployment({ replicas: 2 });
  const first = apply(undefined, cfg, 'kubectl');
  const again = apply(first, cfg, 'kubectl', { now: T1 });
  assert.deepEqual(again, first);
  const changed = apply(first, deployment({ replicas: 4 }), 'kubectl', { now: T1 });
  assert.equal(entry(changed, 'kubectl')?.time, T1);
});

test('server-set metadata survives an apply, and managedFields in the configuration are refused', () => {
  const live = apply(undefined, deployment({ replicas: 1 }), 'kubectl');
  live.metadata.uid = 'u-1';
  live.metadata.resourceVersion = '42';
  const next = apply(live, deployment({ replicas: 1 }, { uid: 'forged', resourceVersion: '1' }), 'kubectl');
  assert.equal(next.metadata.uid, 'u-1');
  assert.equal(next.metadata.resourceVersion, '42');

  assert.throws(
    () => apply(live, deployment({}, { managedFields: [] }), 'kubectl'),
    (e: unknown) => e instanceof PatchError && e.code === 400 && /managedFields must be nil/.test(e.message),
  );
});

test('status is applied only through the status subresource', () => {
  const live = apply(undefined, deployment({ replicas: 1 }), 'kubectl');
  const withStatus = applyServerSide({
    live,
    applied: { ...deployment({ replicas: 50 }), status: { readyReplicas: 1 } },
    manager: 'controller',
    force: false,
    schema: deploymentSchema,
    apiVersion: 'apps/v1',
    now: T1,
    subresource: 'status',
  });
  assert.deepEqual(withStatus['status'], { readyReplicas: 1 });
  assert.equal(spec(withStatus).replicas, 1, 'spec is not applied through /status');
  const statusEntry = entry(withStatus, 'controller');
  assert.equal(statusEntry?.subresource, 'status');
  assert.deepEqual(statusEntry?.fieldsV1, { 'f:status': { 'f:readyReplicas': {} } });
});
