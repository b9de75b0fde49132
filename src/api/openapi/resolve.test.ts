import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goTypeOf, schemaForDefinition, schemaForKind } from './resolve.ts';

test('schemaForKind resolves refs into shared nodes', () => {
  const pod = schemaForKind('', 'v1', 'Pod');
  assert.ok(pod);
  assert.equal(pod, schemaForKind('', 'v1', 'Pod'), 'built once and cached');
  const spec = pod.properties!.spec!;
  const container = schemaForDefinition('io.k8s.api.core.v1.Container');
  assert.equal(spec.properties!.containers!.items, container);
  assert.equal(spec.properties!.initContainers!.items, container);
  assert.deepEqual(container!.required, ['name']);
  assert.equal(spec.properties!.containers!['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(goTypeOf(container!), 'v1.Container');
});

test('kinds are found by group, version and kind', () => {
  assert.match(String(schemaForKind('events.k8s.io', 'v1', 'Event')!.description), /Event/);
  assert.notEqual(schemaForKind('events.k8s.io', 'v1', 'Event'), schemaForKind('', 'v1', 'Event'));
  assert.ok(schemaForKind('apps', 'v1', 'DeploymentList')!.properties!.items);
  assert.ok(schemaForKind('autoscaling', 'v1', 'Scale'));
  assert.equal(schemaForKind('apps', 'v1', 'Pod'), undefined);
  assert.equal(schemaForKind('', 'v2', 'Pod'), undefined);
});

test('special scalars become flags', () => {
  const container = schemaForDefinition('io.k8s.api.core.v1.Container')!;
  const limit = container.properties!.resources!.properties!.limits!.additionalProperties!;
  assert.equal(limit['x-kubernetes-int-or-string'], true);
  assert.equal(limit.format, 'quantity');
  const port = schemaForDefinition('io.k8s.api.core.v1.HTTPGetAction')!.properties!.port!;
  assert.equal(port['x-kubernetes-int-or-string'], true);
  assert.equal(port.format, 'int-or-string');
  const created = schemaForKind('', 'v1', 'Pod')!.properties!.metadata!.properties!.creationTimestamp!;
  assert.equal(created.type, 'string');
  assert.equal(created.format, 'date-time');
  assert.match(String(created.description), /CreationTimestamp/);
  const fieldsV1 = schemaForDefinition('io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry')!.properties!.fieldsV1!;
  assert.equal(fieldsV1['x-kubernetes-preserve-unknown-fields'], true);
});

test('a ref with its own extensions becomes a copy carrying them', () => {
  const strategy = schemaForKind('apps', 'v1', 'Deployment')!.properties!.spec!.properties!.strategy!;
  assert.equal(strategy['x-kubernetes-patch-strategy'], 'retainKeys');
  assert.ok(strategy.properties!.rollingUpdate);
  const shared = schemaForDefinition('io.k8s.api.apps.v1.DeploymentStrategy')!;
  assert.equal(shared['x-kubernetes-patch-strategy'], undefined, 'the shared definition is untouched');
  assert.equal(strategy.properties, shared.properties);
});
