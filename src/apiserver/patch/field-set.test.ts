import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet } from './field-set.ts';
import { fieldSetOf } from './field-set-of.ts';
import { diffFields } from './field-diff.ts';
import { formatPath } from './path-element.ts';
import { PatchError } from './errors.ts';
import { deploymentSchema, serviceSchema } from './test-schemas.ts';

test('fieldSetOf writes fieldsV1 the way an Apply entry looks', () => {
  const set = fieldSetOf(
    {
      metadata: { labels: { app: 'web' }, finalizers: ['example.com/a'] },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1', args: ['-g'], ports: [{ containerPort: 80, protocol: 'TCP' }] }] } },
      },
    },
    deploymentSchema,
  );
  assert.deepEqual(set.toFieldsV1(), {
    'f:metadata': { 'f:finalizers': { 'v:"example.com/a"': {} }, 'f:labels': { 'f:app': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:selector': {},
      'f:template': {
        'f:spec': {
          'f:containers': {
            'k:{"name":"nginx"}': {
              '.': {},
              'f:args': {},
              'f:image': {},
              'f:name': {},
              'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
            },
          },
        },
      },
    },
  });
});

test('fieldsV1 round-trips and set algebra works on paths', () => {
  const json = { 'f:spec': { 'f:replicas': {}, 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } } } };
  const a = FieldSet.fromFieldsV1(json);
  assert.deepEqual(a.toFieldsV1(), json);
  assert.ok(a.has(['f:spec', 'f:replicas']));
  assert.ok(a.has(['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}']));
  assert.ok(!a.has(['f:spec']), 'intermediate nodes are not members');

  const b = FieldSet.fromPaths([['f:spec', 'f:replicas'], ['f:spec', 'f:type']]);
  assert.deepEqual(a.intersection(b).paths(), [['f:spec', 'f:replicas']]);
  assert.deepEqual(a.difference(b).toFieldsV1(), { 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } } } });
  assert.equal(a.union(b).paths().length, 4);
  assert.ok(a.difference(a).isEmpty());
});

test('paths print as Kubernetes prints them in conflicts', () => {
  assert.equal(formatPath(['f:spec', 'f:replicas']), '.spec.replicas');
  assert.equal(formatPath(['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:image']), '.spec.template.spec.containers[name="nginx"].image');
  assert.equal(formatPath(['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}']), '.spec.ports[port=80,protocol="TCP"]');
  assert.equal(formatPath(['f:metadata', 'f:finalizers', 'v:"a"']), '.metadata.finalizers[="a"]');
});

test('associative items without keys, or duplicated, are rejected in an apply configuration', () => {
  assert.throws(() => fieldSetOf({ spec: { ports: [{ targetPort: 80 }] } }, serviceSchema), (e: unknown) => e instanceof PatchError && e.code === 422);
  assert.throws(
    () => fieldSetOf({ spec: { ports: [{ port: 80, protocol: 'TCP' }, { port: 80, protocol: 'TCP' }] } }, serviceSchema),
    /duplicate entries/,
  );
});

test('diffFields reports changed leaves, added items with their contents, and removals', () => {
  const before = { spec: { replicas: 1, template: { spec: { containers: [{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }] } } } };
  const after = { spec: { replicas: 2, template: { spec: { containers: [{ name: 'a', image: 'a:1' }, { name: 'c', image: 'c:1' }] } } } };
  const diff = diffFields(before, after, deploymentSchema);
  const containers = ['f:spec', 'f:template', 'f:spec', 'f:containers'];
  assert.deepEqual(diff.changed.paths().map(formatPath), [
    '.spec.replicas',
    '.spec.template.spec.containers[name="c"]',
    '.spec.template.spec.containers[name="c"].image',
    '.spec.template.spec.containers[name="c"].name',
  ]);
  assert.ok(diff.removed.has([...containers, 'k:{"name":"b"}', 'f:image']));
  assert.ok(!diff.changed.has([...containers, 'k:{"name":"a"}', 'f:image']), 'unchanged fields are not reported');
});
