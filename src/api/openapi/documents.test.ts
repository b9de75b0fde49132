import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RESOURCES } from '../scheme.ts';
import { openapiV3Document, openapiV3DocumentBytes, openapiV3Index } from './documents.ts';
import { collectRefs } from './definitions.ts';

type Json = { [key: string]: any };

const doc = (path: string): Json => openapiV3Document(path) as Json;
const gvkMatches = (ext: unknown, group: string, version: string, kind: string): boolean =>
  !!ext && typeof ext === 'object' && (ext as Json).group === group && (ext as Json).version === version && (ext as Json).kind === kind;

/** What kubectl's query-param check does: find the kind's PATCH operation by its GVK extension. */
function patchOperationFor(d: Json, group: string, version: string, kind: string): Json | undefined {
  for (const item of Object.values(d.paths as Record<string, Json>)) {
    if (item.patch && gvkMatches(item.patch['x-kubernetes-group-version-kind'], group, version, kind)) return item.patch;
  }
  return undefined;
}

/** What kubectl explain does: find the kind's schema by GVK, then follow a field path. */
function explain(d: Json, group: string, version: string, kind: string, fieldPath: string[]): Json | undefined {
  const schemas = d.components.schemas as Record<string, Json>;
  const deref = (s: Json): Json => {
    const ref = s.$ref ?? (s.allOf?.length === 1 ? s.allOf[0].$ref : undefined);
    return ref ? schemas[String(ref).replace('#/components/schemas/', '')]! : s;
  };
  let node = Object.values(schemas).find((s) => (s['x-kubernetes-group-version-kind'] ?? []).some((g: unknown) => gvkMatches(g, group, version, kind)));
  for (const field of fieldPath) {
    if (!node) return undefined;
    let current = deref(node);
    if (current.items) current = deref(current.items);
    const next = current.properties?.[field];
    node = next ? { ...next, resolved: deref(next.items ?? next) } : undefined;
  }
  return node;
}

test('the index lists every served group version with a hash of its document', () => {
  const index = openapiV3Index() as { paths: Record<string, { serverRelativeURL: string }> };
  const expected = new Set(RESOURCES.map((r) => (r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`)));
  assert.deepEqual(new Set(Object.keys(index.paths)), expected);
  for (const [path, entry] of Object.entries(index.paths)) {
    const bytes = openapiV3DocumentBytes(path)!;
    const hash = createHash('sha512').update(bytes.body).digest('hex').toUpperCase();
    assert.equal(entry.serverRelativeURL, `/openapi/v3/${path}?hash=${hash}`);
    assert.equal(bytes.etag, `"${hash}"`);
  }
  assert.deepEqual(openapiV3Index(), index, 'stable across calls');
});

test('document bytes are built once and parse back to the document', () => {
  const a = openapiV3DocumentBytes('apis/apps/v1')!;
  assert.equal(openapiV3DocumentBytes('apis/apps/v1'), a);
  assert.deepEqual(JSON.parse(a.body.toString('utf8')), openapiV3Document('apis/apps/v1'));
  assert.equal(openapiV3DocumentBytes('apis/nope/v1'), undefined);
  assert.equal(openapiV3Document('apis/apps/v2'), undefined);
});

test('every kind has a PATCH operation that offers fieldValidation and the patch media types', () => {
  for (const r of RESOURCES) {
    const d = doc(r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`);
    assert.equal(d.openapi, '3.0.0');
    const patch = patchOperationFor(d, r.group, r.version, r.kind);
    assert.ok(patch, `patch operation for ${r.kind}`);
    assert.equal(patch['x-kubernetes-action'], 'patch');
    const query = (patch.parameters as Json[]).filter((p) => p.in === 'query').map((p) => p.name);
    for (const name of ['fieldValidation', 'dryRun', 'fieldManager', 'force']) assert.ok(query.includes(name), `${r.kind} ${name}`);
    assert.deepEqual(Object.keys(patch.requestBody.content).sort(), [
      'application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json',
    ]);
  }
});

test('paths follow the Kubernetes layout', () => {
  const core = doc('api/v1');
  const pods = core.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
  assert.deepEqual(Object.keys(pods).sort(), ['delete', 'get', 'parameters', 'patch', 'put']);
  assert.equal(pods.get.operationId, 'readCoreV1NamespacedPod');
  assert.equal(pods.get.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/io.k8s.api.core.v1.Pod');
  assert.deepEqual(pods.parameters.map((p: Json) => p.name), ['name', 'namespace', 'pretty']);
  assert.equal(pods.delete.requestBody.content['*/*'].schema.$ref, '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions');
  const collection = core.paths['/api/v1/namespaces/{namespace}/pods'];
  assert.equal(collection.get['x-kubernetes-action'], 'list');
  assert.equal(collection.post['x-kubernetes-action'], 'post');
  assert.equal(collection.delete['x-kubernetes-action'], 'deletecollection');
  assert.equal(collection.delete.operationId, 'deleteCoreV1CollectionNamespacedPod');
  assert.ok((collection.get.parameters as Json[]).some((p) => p.name === 'watch'));
  assert.equal(core.paths['/api/v1/pods'].get.operationId, 'listCoreV1PodForAllNamespaces');
  assert.ok(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/status'].patch);
  assert.equal(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction'].post['x-kubernetes-group-version-kind'].kind, 'Eviction');
  assert.equal(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/exec'].get['x-kubernetes-action'], 'connect');
  // Cluster-scoped: no namespace segment or parameter.
  const nodes = core.paths['/api/v1/nodes/{name}'];
  assert.deepEqual(nodes.parameters.map((p: Json) => p.name), ['name', 'pretty']);
  assert.equal(core.paths['/api/v1/namespaces/{namespace}/nodes/{name}'], undefined);
  // Namespaces have no deletecollection in the scheme, so no collection DELETE.
  assert.equal(core.paths['/api/v1/namespaces'].delete, undefined);
  assert.ok(core.paths['/api/v1/namespaces'].post);
  const apps = doc('apis/apps/v1');
  const scale = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'];
  assert.equal(scale.get.operationId, 'readAppsV1NamespacedDeploymentScale');
  assert.deepEqual(scale.patch['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  const rbac = doc('apis/rbac.authorization.k8s.io/v1');
  assert.equal(rbac.paths['/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}'].get.operationId, 'readRbacAuthorizationV1ClusterRole');
  assert.deepEqual(rbac.paths['/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}'].get.tags, ['rbacAuthorization_v1']);
});

test('each document carries every schema it refers to, and only those', () => {
  for (const path of Object.keys((openapiV3Index() as Json).paths)) {
    const d = doc(path);
    const refs = collectRefs(d, new Set());
    for (const ref of refs) assert.ok(d.components.schemas[ref], `${path}: ${ref}`);
    assert.deepEqual(new Set(Object.keys(d.components.schemas)), refs, path);
  }
  assert.equal(doc('apis/coordination.k8s.io/v1').components.schemas['io.k8s.api.core.v1.PodSpec'], undefined);
});

test('kubectl explain finds kinds and fields with their types, descriptions and required lists', () => {
  const apps = doc('apis/apps/v1');
  const deployment = explain(apps, 'apps', 'v1', 'Deployment', []);
  assert.match(String(deployment?.description), /Deployment/);
  const containers = explain(apps, 'apps', 'v1', 'Deployment', ['spec', 'template', 'spec', 'containers'])!;
  assert.equal(containers.type, 'array');
  assert.match(String(containers.description), /containers/i);
  assert.deepEqual(containers.resolved.required, ['name']);
  const image = explain(apps, 'apps', 'v1', 'Deployment', ['spec', 'template', 'spec', 'containers', 'image'])!;
  assert.equal(image.type, 'string');
  assert.match(String(image.description), /Container image name/);
  assert.equal(explain(apps, 'apps', 'v1', 'Deployment', ['spec', 'nope']), undefined);
  const lease = explain(doc('apis/coordination.k8s.io/v1'), 'coordination.k8s.io', 'v1', 'Lease', ['spec', 'renewTime'])!;
  assert.equal(lease.resolved.format, 'date-time');
});
