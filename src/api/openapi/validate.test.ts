import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaForKind } from './resolve.ts';
import { validateAgainstSchema } from './validate.ts';
import type { SchemaNode } from './types.ts';

const pod = (): SchemaNode => schemaForKind('', 'v1', 'Pod')!;

function podWith(container: Record<string, unknown>, spec: Record<string, unknown> = {}): unknown {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx', ...container }], ...spec } };
}

const VALID_POD = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, annotations: { note: 'x' }, creationTimestamp: null, finalizers: ['a/b'] },
  spec: {
    restartPolicy: 'Always', terminationGracePeriodSeconds: 30, nodeSelector: { disk: 'ssd' },
    containers: [{
      name: 'web', image: 'nginx:1.25', args: ['-g', 'daemon off;'],
      env: [{ name: 'A', value: '1' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: 0.1, memory: 64 } },
      readinessProbe: { httpGet: { port: 'http', path: '/' }, periodSeconds: 5 },
      livenessProbe: { tcpSocket: { port: 80 } },
      volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
    }],
    volumes: [{ name: 'data', emptyDir: { sizeLimit: '1Gi' } }],
    tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 10 }],
  },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
};

test('a valid pod has no findings', () => {
  assert.deepEqual(validateAgainstSchema(VALID_POD, pod()), { unknownFields: [], typeErrors: [] });
});

test('unknown fields are reported with their path, inside lists and maps', () => {
  const obj = podWith(
    { imagePullPolicyy: 'Always', ports: [{ containerPort: 80 }, { containerPort: 81, hostPortt: 1 }] },
    { volumes: [{ name: 'v', emptyDir: { medium: '', size: 1 } }], extra: true },
  );
  (obj as { metadata: Record<string, unknown> }).metadata.lables = { a: 'b' };
  const { unknownFields, typeErrors } = validateAgainstSchema(obj, pod());
  assert.deepEqual(typeErrors, []);
  assert.deepEqual(unknownFields.sort(), [
    'metadata.lables',
    'spec.containers[0].imagePullPolicyy',
    'spec.containers[0].ports[1].hostPortt',
    'spec.extra',
    'spec.volumes[0].emptyDir.size',
  ]);
});

test('unknown fields in map values of structs are found', () => {
  const schema: SchemaNode = {
    type: 'object',
    properties: {
      byName: { type: 'object', additionalProperties: { type: 'object', properties: { port: { type: 'integer', format: 'int32' } } } },
    },
  };
  const { unknownFields } = validateAgainstSchema({ byName: { a: { port: 1 }, b: { prot: 2 } } }, schema);
  assert.deepEqual(unknownFields, ['byName.b.prot']);
});

test('apiVersion, kind and metadata are known at the top even when the schema omits them', () => {
  const schema: SchemaNode = { type: 'object', properties: { spec: { type: 'object', properties: {} } } };
  const { unknownFields } = validateAgainstSchema({ apiVersion: 'x/v1', kind: 'X', metadata: {}, spec: { kind: 1 }, other: 1 }, schema);
  assert.deepEqual(unknownFields, ['spec.kind', 'other']);
});

test('type mismatches are reported in the Go decoder\'s words', () => {
  const obj = podWith({ ports: [{ containerPort: '80' }], stdin: 'yes', args: [1], image: { name: 'x' } });
  const { typeErrors } = validateAgainstSchema(obj, pod());
  // Findings come in the object's key order: name and image first, then the rest.
  assert.deepEqual(typeErrors, [
    { field: 'spec.containers[0].image', message: 'json: cannot unmarshal object into Go struct field Container.spec.containers.image of type string' },
    { field: 'spec.containers[0].ports[0].containerPort', message: 'json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32' },
    { field: 'spec.containers[0].stdin', message: 'json: cannot unmarshal string into Go struct field Container.spec.containers.stdin of type bool' },
    { field: 'spec.containers[0].args[0]', message: 'json: cannot unmarshal number into Go struct field Container.spec.containers.args of type string' },
  ]);
});

test('wrong container shapes: object for list, list for object, fractional and overflowing ints', () => {
  const notAList = validateAgainstSchema({ spec: { containers: { name: 'c' } } }, pod());
  assert.deepEqual(notAList.typeErrors, [{ field: 'spec.containers', message: 'json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container' }]);
  const notAnObject = validateAgainstSchema({ spec: [] }, pod());
  assert.deepEqual(notAnObject.typeErrors, [{ field: 'spec', message: 'json: cannot unmarshal array into Go struct field Pod.spec of type v1.PodSpec' }]);
  const fractional = validateAgainstSchema(podWith({ ports: [{ containerPort: 1.5 }] }), pod());
  assert.match(fractional.typeErrors[0]!.message, /cannot unmarshal number 1\.5 into Go struct field ContainerPort\.spec\.containers\.ports\.containerPort of type int32/);
  const overflow = validateAgainstSchema(podWith({ ports: [{ containerPort: 2 ** 31 }] }), pod());
  assert.equal(overflow.typeErrors.length, 1);
  const labels = validateAgainstSchema({ metadata: { labels: { a: 1 } } }, pod());
  assert.deepEqual(labels.typeErrors, [{ field: 'metadata.labels.a', message: 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string' }]);
  const top = validateAgainstSchema([], pod());
  assert.deepEqual(top.typeErrors, [{ field: '', message: 'json: cannot unmarshal array into Go value of type v1.Pod' }]);
});

test('int-or-string accepts integers and strings only', () => {
  const ok = podWith({ readinessProbe: { httpGet: { port: 8080 } }, livenessProbe: { httpGet: { port: 'http' } } });
  assert.deepEqual(validateAgainstSchema(ok, pod()).typeErrors, []);
  const bad = validateAgainstSchema(podWith({ readinessProbe: { httpGet: { port: true } }, livenessProbe: { tcpSocket: { port: 1.5 } } }), pod());
  assert.deepEqual(bad.typeErrors.map((e) => e.field), ['spec.containers[0].readinessProbe.httpGet.port', 'spec.containers[0].livenessProbe.tcpSocket.port']);
  assert.match(bad.typeErrors[0]!.message, /cannot unmarshal bool into Go struct field HTTPGetAction\.spec\.containers\.readinessProbe\.httpGet\.port of type int32/);
});

test('quantities accept numbers and well-formed strings', () => {
  const ok = podWith({ resources: { limits: { cpu: 2, memory: '1.5Gi', 'nvidia.com/gpu': '1', storage: '1e3', tiny: '100n' } } });
  assert.deepEqual(validateAgainstSchema(ok, pod()).typeErrors, []);
  const bad = validateAgainstSchema(podWith({ resources: { limits: { cpu: 'lots', memory: '1Gb', disk: true, x: '' } } }), pod());
  assert.deepEqual(bad.typeErrors.map((e) => e.field), [
    'spec.containers[0].resources.limits.cpu',
    'spec.containers[0].resources.limits.memory',
    'spec.containers[0].resources.limits.disk',
    'spec.containers[0].resources.limits.x',
  ]);
  assert.match(bad.typeErrors[0]!.message, /^quantities must match the regular expression/);
});

test('null is accepted anywhere, and free-form fields accept anything', () => {
  const obj = podWith({ ports: null, resources: { limits: null } }, { volumes: [null], affinity: null });
  assert.deepEqual(validateAgainstSchema(obj, pod()), { unknownFields: [], typeErrors: [] });
  const managed = { metadata: { managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }] } };
  assert.deepEqual(validateAgainstSchema(managed, pod()), { unknownFields: [], typeErrors: [] });
  const preserve: SchemaNode = { type: 'object', properties: { raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } };
  assert.deepEqual(validateAgainstSchema({ raw: { any: [1, { thing: true }] } }, preserve).unknownFields, []);
});

test('Secret data must be base64', () => {
  const secret = schemaForKind('', 'v1', 'Secret')!;
  assert.deepEqual(validateAgainstSchema({ data: { a: 'aGVsbG8=', b: 'YQ==', c: '' }, stringData: { d: 'plain' } }, secret).typeErrors, []);
  const bad = validateAgainstSchema({ data: { a: 'not base64!' } }, secret);
  assert.deepEqual(bad.typeErrors, [{ field: 'data.a', message: 'illegal base64 data at input byte 3' }]);
});

test('pathPrefix is put in front of every path', () => {
  const spec = pod().properties!.spec!;
  const { unknownFields, typeErrors } = validateAgainstSchema({ containers: [{ name: 'c', bogus: 1, tty: 'no' }] }, spec, { pathPrefix: 'spec.template.spec' });
  assert.deepEqual(unknownFields, ['spec.template.spec.containers[0].bogus']);
  assert.equal(typeErrors[0]!.field, 'spec.template.spec.containers[0].tty');
  assert.match(typeErrors[0]!.message, /Go struct field Container\.spec\.template\.spec\.containers\.tty of type bool/);
});

test('fields named like Object.prototype members are still unknown', () => {
  const { unknownFields } = validateAgainstSchema(JSON.parse('{"spec":{"constructor":1,"toString":2,"__proto__":{"x":1}}}'), pod());
  assert.deepEqual(unknownFields.sort(), ['spec.__proto__', 'spec.constructor', 'spec.toString']);
});
