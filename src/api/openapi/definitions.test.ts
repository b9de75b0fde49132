import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RESOURCES } from '../scheme.ts';
import { PatchMetadataMismatchError, applyPatchMetadata, collectRefs, definition, definitions } from './definitions.ts';
import type { JsonSchema } from './definitions.ts';
import { FIELD_PATCH_METADATA, TYPE_PATCH_METADATA } from './patch-metadata.ts';

const props = (name: string): Record<string, JsonSchema> => definition(name)!.properties as Record<string, JsonSchema>;

test('Pod spec.containers is an array of Container, and Container requires name', () => {
  const pod = definition('io.k8s.api.core.v1.Pod')!;
  assert.match(String(pod.description), /collection of containers/);
  assert.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  const containers = props('io.k8s.api.core.v1.PodSpec').containers!;
  assert.equal(containers.type, 'array');
  assert.deepEqual(containers.items, { $ref: '#/components/schemas/io.k8s.api.core.v1.Container' });
  assert.match(String(containers.description), /containers/i);
  const container = definition('io.k8s.api.core.v1.Container')!;
  assert.deepEqual(container.required, ['name']);
  assert.equal(props('io.k8s.api.core.v1.Container').image!.type, 'string');
  assert.match(String(props('io.k8s.api.core.v1.Container').imagePullPolicy!.description), /Always, Never, IfNotPresent/);
});

test('Kubernetes scalars keep their real shapes', () => {
  const limits = props('io.k8s.api.core.v1.ResourceRequirements').limits!;
  assert.deepEqual(limits.additionalProperties, { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' });
  const created = props('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').creationTimestamp!;
  assert.deepEqual((created.allOf as JsonSchema[])[0], { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time' });
  assert.equal(definition('io.k8s.apimachinery.pkg.apis.meta.v1.Time')!.format, 'date-time');
  assert.equal(definition('io.k8s.apimachinery.pkg.util.intstr.IntOrString')!.format, 'int-or-string');
  assert.equal(props('io.k8s.api.core.v1.ContainerPort').containerPort!.format, 'int32');
  assert.equal((props('io.k8s.api.core.v1.Secret').data!.additionalProperties as JsonSchema).format, 'byte');
});

test('every served kind, its list and the shared kinds have a definition with their group-version-kind', () => {
  const gvks = new Set<string>();
  for (const schema of definitions().values()) {
    for (const g of (schema['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined) ?? []) gvks.add(`${g.group}/${g.version}/${g.kind}`);
  }
  for (const r of RESOURCES) {
    assert.ok(gvks.has(`${r.group}/${r.version}/${r.kind}`), `${r.kind}`);
    assert.ok(gvks.has(`${r.group}/${r.version}/${r.kind}List`), `${r.kind}List`);
  }
  for (const k of ['/v1/Status', '/v1/Binding', 'autoscaling/v1/Scale', 'policy/v1/Eviction', 'apps/v1/DeleteOptions']) assert.ok(gvks.has(k), k);
  assert.ok(definition('io.k8s.api.events.v1.Event'));
  assert.ok(definition('io.k8s.api.core.v1.Event'));
  assert.ok(definition('io.k8s.api.apps.v1.Deployment'));
});

test('every $ref in the generated file names a generated definition', () => {
  const refs = new Set<string>();
  for (const schema of definitions().values()) collectRefs(schema, refs);
  for (const ref of refs) assert.ok(definitions().has(ref), ref);
});

test('patch metadata is merged into the definitions', () => {
  const spec = props('io.k8s.api.core.v1.PodSpec');
  assert.equal(spec.containers!['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(spec.containers!['x-kubernetes-patch-strategy'], 'merge');
  assert.deepEqual(spec.containers!['x-kubernetes-list-map-keys'], ['name']);
  assert.equal(spec.volumes!['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  assert.equal(spec.tolerations!['x-kubernetes-list-type'], 'atomic');
  assert.deepEqual(spec.topologySpreadConstraints!['x-kubernetes-list-map-keys'], ['topologyKey', 'whenUnsatisfiable']);
  assert.deepEqual(props('io.k8s.api.core.v1.Container').ports!['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  assert.equal(props('io.k8s.api.core.v1.Container').env!['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(props('io.k8s.api.core.v1.ServiceSpec').ports!['x-kubernetes-patch-merge-key'], 'port');
  assert.equal(props('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').finalizers!['x-kubernetes-list-type'], 'set');
  assert.equal(props('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').ownerReferences!['x-kubernetes-patch-merge-key'], 'uid');
  assert.equal(props('io.k8s.api.apps.v1.DeploymentStatus').conditions!['x-kubernetes-patch-merge-key'], 'type');
  assert.equal(definition('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector')!['x-kubernetes-map-type'], 'atomic');
  // A $ref property gains siblings only through allOf.
  const strategy = props('io.k8s.api.apps.v1.DeploymentSpec').strategy!;
  assert.equal(strategy['x-kubernetes-patch-strategy'], 'retainKeys');
  assert.deepEqual(strategy.allOf, [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' }]);
});

test('every patch metadata entry names a generated definition and property', () => {
  const raw = JSON.parse(readFileSync(new URL('./generated/definitions.json', import.meta.url), 'utf8')) as Record<string, JsonSchema>;
  assert.doesNotThrow(() => applyPatchMetadata(raw, FIELD_PATCH_METADATA, TYPE_PATCH_METADATA, true));
  assert.throws(() => applyPatchMetadata(raw, { 'io.k8s.api.core.v1.PodSpec': { containerz: {} } }, {}, true), PatchMetadataMismatchError);
  assert.throws(() => applyPatchMetadata(raw, {}, { 'io.k8s.api.core.v1.Nope': {} }, true), PatchMetadataMismatchError);
  // Not strict: the stale entry is skipped.
  assert.doesNotThrow(() => applyPatchMetadata(raw, { 'io.k8s.api.core.v1.Nope': { x: {} } }, {}, false));
});
