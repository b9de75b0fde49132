import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES } from '../scheme.ts';
import { KINDS_WITH_OWN_BEHAVIOUR, strategyFor } from './index.ts';

test('every served kind has a strategy that validates metadata', () => {
  for (const r of RESOURCES) {
    const s = strategyFor(r.group, r.kind);
    const errs = s.validate!({ metadata: {} });
    assert.ok(errs.some((e) => e.field === 'metadata.name'), `${r.group}/${r.kind} requires a name`);
    assert.equal(errs.some((e) => e.field === 'metadata.namespace'), r.namespaced, `${r.group}/${r.kind} namespace rule`);
  }
});

test('every kind with its own behaviour is one the scheme serves', () => {
  for (const key of KINDS_WITH_OWN_BEHAVIOUR) {
    const [group, kind] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    assert.ok(RESOURCES.some((r) => r.group === group && r.kind === kind), key);
  }
});

test('table cells line up with columns, even for an empty object', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  for (const r of RESOURCES) {
    const table = strategyFor(r.group, r.kind).table;
    if (!table) continue;
    const obj = { metadata: { name: 'x', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z' } };
    strategyFor(r.group, r.kind).defaults?.(obj);
    assert.equal(table.cells(obj, now).length, table.columns.length, `${r.group}/${r.kind}`);
    assert.ok(table.columns.every((c) => c.priority === 0 || c.priority === 1));
  }
});

test('defaults are idempotent (they run again on every update)', () => {
  for (const r of RESOURCES) {
    const s = strategyFor(r.group, r.kind);
    if (!s.defaults) continue;
    const obj = { metadata: { name: 'x', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }], template: { spec: { containers: [{ name: 'c', image: 'nginx' }] } } } };
    s.defaults(obj);
    const once = structuredClone(obj);
    s.defaults(obj);
    assert.deepEqual(obj, once, `${r.group}/${r.kind}`);
  }
});

test('unknown kinds get metadata validation without a namespace rule', () => {
  const s = strategyFor('example.com', 'Widget');
  assert.deepEqual(s.validate!({ metadata: { name: 'ok' } }), []);
  assert.deepEqual(s.validate!({ metadata: { name: 'ok', namespace: 'ns' } }), []);
  assert.equal(s.validate!({ metadata: { name: 'Not OK' } }).length, 1);
  assert.equal(s.table, undefined);
});

test('namespace, secret and configmap specifics', () => {
  const ns = strategyFor('', 'Namespace');
  const nsObj = { metadata: { name: 'team-a' } };
  ns.prepareForCreate!(nsObj);
  ns.defaults!(nsObj);
  assert.deepEqual(nsObj, {
    metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  });
  assert.equal(ns.validate!({ metadata: { name: 'a.b' } })[0]!.message, 'Invalid value: "a.b": must not contain dots');

  const secrets = strategyFor('', 'Secret');
  const secret: Record<string, any> = { metadata: { name: 's', namespace: 'default' }, data: { a: 'eA==' }, stringData: { b: 'hi' } };
  secrets.defaults!(secret as never);
  assert.equal(secret.type, 'Opaque');
  assert.deepEqual(secret.data, { a: 'eA==', b: 'aGk=' });
  assert.equal(secret.stringData, undefined);
  assert.deepEqual(secrets.validate!(secret as never), []);
  (secret.data as Record<string, string>).c = 'not base64!';
  assert.deepEqual(secrets.validate!(secret as never).map((e) => e.field), ['data[c]']);
  const tls = { metadata: { name: 't', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } };
  assert.deepEqual(secrets.validate!(tls as never).map((e) => `${e.field}: ${e.message}`), ['data[tls.key]: Required value']);
  assert.equal(secrets.selectableFields!.type!(tls as never), 'kubernetes.io/tls');

  const cms = strategyFor('', 'ConfigMap');
  assert.deepEqual(cms.validate!({ metadata: { name: 'c', namespace: 'd' }, data: { 'bad/key': 'v' } } as never).map((e) => e.field), ['data[bad/key]']);
  const frozen = { metadata: { name: 'c', namespace: 'd' }, immutable: true, data: { a: '1' } };
  assert.deepEqual(cms.validateUpdate!({ ...frozen, data: { a: '2' } } as never, frozen as never).map((e) => e.message), ['Forbidden: field is immutable when `immutable` is set']);
});

test('node table and field selector', () => {
  const nodes = strategyFor('', 'Node');
  const node = {
    metadata: { name: 'n1', creationTimestamp: '2024-05-01T11:00:00Z', labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/master': 'true' } },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [{ type: 'InternalIP', address: '192.168.1.10' }],
      nodeInfo: { kubeletVersion: 'v1.31.0', osImage: 'Ubuntu 24.04', kernelVersion: '6.8.0', containerRuntimeVersion: 'containerd://1.7' },
    },
  };
  assert.deepEqual(nodes.table!.cells(node, Date.parse('2024-05-01T12:00:00Z')), [
    'Ready,SchedulingDisabled', 'control-plane,master', '60m', 'v1.31.0', '192.168.1.10', '<none>', 'Ubuntu 24.04', '6.8.0', 'containerd://1.7',
  ]);
  assert.equal(nodes.selectableFields!['spec.unschedulable']!(node), 'true');
});

test('events: table and field selectors for both API groups', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const core = strategyFor('', 'Event');
  const ev = {
    metadata: { name: 'web.1', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
    reason: 'Scheduled', message: 'Successfully assigned default/web to n1', type: 'Normal',
    source: { component: 'default-scheduler' }, firstTimestamp: '2024-05-01T11:59:00Z', lastTimestamp: '2024-05-01T11:59:30Z', count: 2,
  };
  assert.deepEqual(core.table!.cells(ev, now), ['30s', 'Normal', 'Scheduled', 'pod/web', '', 'default-scheduler', 'Successfully assigned default/web to n1', '60s', 2]);
  assert.equal(core.selectableFields!['involvedObject.name']!(ev), 'web');
  assert.equal(core.selectableFields!.source!(ev), 'default-scheduler');
  const v1 = strategyFor('events.k8s.io', 'Event');
  const nev = { metadata: { name: 'e', namespace: 'default' }, regarding: { kind: 'Node', name: 'n1' }, reason: 'Ready', note: 'ok', type: 'Normal', eventTime: '2024-05-01T11:59:00.000000Z', reportingController: 'kubelet', reportingInstance: 'n1', action: 'Status' };
  assert.deepEqual(v1.validate!(nev), []);
  assert.equal(v1.table!.cells(nev, now)[3], 'node/n1');
  assert.equal(v1.selectableFields!['regarding.kind']!(nev), 'Node');
});

test('bindings: roleRef required and immutable; subjects defaulted', () => {
  const rb = strategyFor('rbac.authorization.k8s.io', 'RoleBinding');
  const b = { metadata: { name: 'system:x', namespace: 'default' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'jane' }, { kind: 'ServiceAccount', name: 'sa', namespace: 'default' }] };
  rb.defaults!(b);
  assert.deepEqual(rb.validate!(b), []);
  assert.equal((b.subjects[0] as any).apiGroup, 'rbac.authorization.k8s.io');
  assert.deepEqual(rb.table!.cells(b, 0).slice(2), ['jane', '', 'default:sa']);
  const changed = { ...b, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' } };
  assert.deepEqual(rb.validateUpdate!(changed, b).map((e) => `${e.field}: ${e.message}`), [
    'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
  ]);
  const crb = strategyFor('rbac.authorization.k8s.io', 'ClusterRoleBinding');
  const bad = { metadata: { name: 'x' }, roleRef: { kind: 'Role' } };
  crb.defaults!(bad);
  assert.deepEqual(crb.validate!(bad).map((e) => `${e.field}: ${e.message}`), ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"', 'roleRef.name: Required value']);
});

test('storage and scheduling kinds: required fields', () => {
  const msgs = (group: string, kind: string, o: Record<string, unknown>): string[] => {
    const s = strategyFor(group, kind);
    const obj = { metadata: { name: 'x', ...(o.namespace ? { namespace: 'd' } : {}) }, ...o };
    delete (obj as Record<string, unknown>).namespace;
    s.defaults?.(obj as never);
    return s.validate!(obj as never).map((e) => `${e.field}: ${e.message}`);
  };
  assert.deepEqual(msgs('', 'PersistentVolume', { spec: { hostPath: { path: '/d' } } }), ['spec.accessModes: Required value', 'spec.capacity: Required value']);
  assert.deepEqual(msgs('', 'PersistentVolumeClaim', { namespace: true, spec: {} }), ['spec.accessModes: Required value: at least 1 access mode is required', 'spec.resources[storage]: Required value']);
  assert.deepEqual(msgs('storage.k8s.io', 'StorageClass', {}), ['provisioner: Required value']);
  assert.deepEqual(msgs('scheduling.k8s.io', 'PriorityClass', {}), ['value: Required value']);
  assert.deepEqual(msgs('apps', 'ControllerRevision', { namespace: true }), ['revision: Required value']);
  assert.deepEqual(msgs('discovery.k8s.io', 'EndpointSlice', { namespace: true }), ['addressType: Required value']);
});
