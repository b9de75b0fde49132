import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtobufObject } from './index.ts';
import { bool, bytes, entry, envelope, int, map, msg, str } from './test-encoder.ts';

// ObjectMeta as Go writes it: empty non-pointer strings and a zero creationTimestamp are on the wire.
const meta = (name: string, ...extra: Buffer[]): Buffer =>
  msg(1, str(1, name), str(2, ''), str(3, ''), msg(8), ...extra);

test('Deployment from kubectl create deployment web --image=nginx --replicas=2 --port=80', () => {
  const labels = map(11, { app: 'web' });
  const container = Buffer.concat([
    str(1, 'nginx'),
    str(2, 'nginx'),
    str(5, ''),
    msg(6, str(1, ''), int(2, 0), int(3, 80), str(4, ''), str(5, '')),
    msg(8),
    bool(16, false),
  ]);
  const body = envelope(
    'apps/v1',
    'Deployment',
    meta('web', labels),
    msg(
      2,
      int(1, 2),
      msg(2, map(1, { app: 'web' })),
      msg(3, msg(1, msg(8), map(11, { app: 'web' })), msg(2, msg(2, container))),
      msg(4),
      int(5, 0),
    ),
    msg(3),
  );
  assert.deepEqual(decodeProtobufObject(body), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }], resources: {} }] },
      },
      strategy: {},
    },
    status: {},
  });
});

test('Deployment keeps an explicit replicas: 0 (pointer field)', () => {
  const out = decodeProtobufObject(envelope('apps/v1', 'Deployment', meta('z'), msg(2, int(1, 0))));
  assert.deepEqual(out.spec, { replicas: 0 });
});

test('ConfigMap with data, binaryData and immutable', () => {
  const out = decodeProtobufObject(
    envelope('v1', 'ConfigMap', meta('x'), map(2, { a: 'b', c: '' }), entry(3, 'bin', Buffer.from([1, 2])), bool(4, false)),
  );
  assert.deepEqual(out, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'x' },
    data: { a: 'b', c: '' },
    binaryData: { bin: 'AQI=' },
    immutable: false,
  });
});

test('Secret data bytes become base64; stringData and type stay strings', () => {
  const out = decodeProtobufObject(
    envelope('v1', 'Secret', meta('s'), entry(2, 'k', Buffer.from([0, 1, 255])), str(3, 'Opaque'), map(4, { p: 'q' })),
  );
  assert.deepEqual(out, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    data: { k: 'AAH/' },
    type: 'Opaque',
    stringData: { p: 'q' },
  });
});

test('Namespace', () => {
  const out = decodeProtobufObject(envelope('v1', 'Namespace', meta('n'), msg(2), msg(3)));
  assert.deepEqual(out, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' }, spec: {}, status: {} });
});

test('Service ports with int and string targetPort', () => {
  const port = (name: string, p: number, target: Buffer): Buffer =>
    msg(1, str(1, name), str(2, 'TCP'), int(3, p), msg(4, ...[target]), int(5, 0));
  const out = decodeProtobufObject(
    envelope(
      'v1',
      'Service',
      meta('svc'),
      msg(
        2,
        port('80-8080', 80, Buffer.concat([int(1, 0), int(2, 8080), str(3, '')])),
        port('web', 443, Buffer.concat([int(1, 1), int(2, 0), str(3, 'https')])),
        map(2, { app: 'svc' }),
        str(3, 'None'),
        str(4, 'ClusterIP'),
      ),
    ),
  );
  assert.deepEqual(out.spec, {
    ports: [
      { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 },
      { name: 'web', protocol: 'TCP', port: 443, targetPort: 'https' },
    ],
    selector: { app: 'svc' },
    clusterIP: 'None',
    type: 'ClusterIP',
  });
});

test('RoleBinding, Role rules, PriorityClass and negative ints', () => {
  const rb = decodeProtobufObject(
    envelope(
      'rbac.authorization.k8s.io/v1',
      'RoleBinding',
      meta('rb'),
      msg(2, str(1, 'User'), str(2, ''), str(3, 'alice'), str(4, '')),
      msg(3, str(1, 'rbac.authorization.k8s.io'), str(2, 'Role'), str(3, 'r')),
    ),
  );
  assert.deepEqual(rb.subjects, [{ kind: 'User', name: 'alice' }]);
  assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' });

  const role = decodeProtobufObject(
    envelope('rbac.authorization.k8s.io/v1', 'Role', meta('r'), msg(2, str(1, 'get'), str(1, 'list'), str(3, 'pods'))),
  );
  assert.deepEqual(role.rules, [{ verbs: ['get', 'list'], resources: ['pods'] }]);

  const pc = decodeProtobufObject(envelope('scheduling.k8s.io/v1', 'PriorityClass', meta('pc'), int(2, -5)));
  assert.equal(pc.value, -5);
});

test('timestamps, quantities and unknown fields', () => {
  const out = decodeProtobufObject(
    envelope(
      'v1',
      'ResourceQuota',
      msg(1, str(1, 'q'), msg(8, int(1, 1700000000), int(2, 0)), str(99, 'ignored')),
      msg(2, entry(1, 'pods', str(1, '10')), int(77, 1)),
      bytes(42, Buffer.from('whatever')),
    ),
  );
  assert.deepEqual(out.metadata, { name: 'q', creationTimestamp: '2023-11-14T22:13:20Z' });
  assert.deepEqual(out.spec, { hard: { pods: '10' } });
});

test('errors: missing magic, truncated data, unsupported kind', () => {
  assert.throws(() => decodeProtobufObject(Buffer.from('{"kind":"x"}')), /magic prefix/);
  const good = envelope('v1', 'ConfigMap', meta('x'), map(2, { a: 'b' }));
  assert.throws(() => decodeProtobufObject(good.subarray(0, good.length - 3)), /truncated/);
  assert.throws(
    () => decodeProtobufObject(envelope('example.com/v1', 'Widget', meta('w'))),
    /protobuf encoding is not supported for example.com\/v1\/Widget; send JSON/,
  );
});
