// autoscaling/v1 HorizontalPodAutoscalers, served by conversion from the autoscaling/v2
// objects Skiff stores: `kubectl autoscale` (which posts v1), reads and writes through
// both versions, watch, Table, discovery and OpenAPI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { startServer, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const V1 = '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers';
const V2 = '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers';

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: web, image: nginx:1.25, resources: {requests: {cpu: 50m}}}]
`;

const watch = (path: string, until: (events: any[]) => boolean, timeoutMs?: number) => s.watchEvents(path, until, timeoutMs);

test('kubectl autoscale creates an HPA through autoscaling/v1; both versions read it', async () => {
  await s.kubectlOk(['apply', '-f', '-'], { input: deployment('web') });
  const out = await s.kubectlOk(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=3']);
  assert.match(out, /horizontalpodautoscaler.autoscaling\/web autoscaled/);

  // The HPA controller may write status between two reads: read both versions until they
  // show the same revision.
  let v2: any;
  let v1: any;
  for (let i = 0; i < 20; i++) {
    v2 = YAML.parse(await s.kubectlOk(['get', 'hpa', 'web', '-o', 'yaml']));
    v1 = JSON.parse(await s.kubectlOk(['get', 'horizontalpodautoscalers.v1.autoscaling', 'web', '-o', 'json']));
    if (v1.metadata.resourceVersion === v2.metadata.resourceVersion) break;
  }
  assert.equal(v2.apiVersion, 'autoscaling/v2');
  assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  assert.deepEqual(v2.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' });
  assert.equal(v2.spec.minReplicas, 1);
  assert.equal(v2.spec.maxReplicas, 3);

  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.equal(v1.spec.targetCPUUtilizationPercentage, 50);
  assert.equal(v1.spec.maxReplicas, 3);
  // v1 status carries the v2 status's replica counts (0 before the controller's first pass).
  assert.equal(v1.status.currentReplicas, v2.status.currentReplicas ?? 0);
  assert.equal(v1.status.desiredReplicas, v2.status.desiredReplicas ?? 0);
  // Same object: uid, resourceVersion and managedFields carried over.
  assert.equal(v1.metadata.uid, v2.metadata.uid);
  assert.equal(v1.metadata.resourceVersion, v2.metadata.resourceVersion);
  assert.deepEqual(v1.metadata.managedFields, v2.metadata.managedFields);
  // v1 has no field for conditions: once the controller has written some, they ride in an annotation.
  if (v2.status?.conditions?.length) {
    assert.deepEqual(Object.keys(v1.metadata.annotations), ['autoscaling.alpha.kubernetes.io/conditions']);
    assert.deepEqual(JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/conditions']).map((c: any) => c.type), v2.status.conditions.map((c: any) => c.type));
  } else {
    assert.equal(v1.metadata.annotations, undefined);
  }

  const table = await s.kubectlOk(['get', 'horizontalpodautoscalers.v1.autoscaling']);
  assert.match(table, /NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE/);
  assert.match(table, /web\s+Deployment\/web\s+cpu: (<unknown>|\d+%)\/50%\s+1\s+3\s+[01]\s/);
  const list = (await s.request('GET', V1)).json;
  assert.equal(list.kind, 'HorizontalPodAutoscalerList');
  assert.equal(list.apiVersion, 'autoscaling/v1');
  assert.equal(list.items[0].spec.targetCPUUtilizationPercentage, 50);
  const paged = (await s.request('GET', `${V1}?limit=5`)).json;
  assert.equal(paged.items[0].apiVersion, 'autoscaling/v1');
});

test('v1 PUT and patches change the stored object; v2 writes show through v1', async () => {
  // The HPA controller writes status too: PUT without a resourceVersion (unconditional).
  const v1 = (await s.request('GET', `${V1}/web`)).json;
  delete v1.metadata.resourceVersion;
  v1.spec.maxReplicas = 5;
  const put = await s.request('PUT', `${V1}/web`, { body: v1 });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.apiVersion, 'autoscaling/v1');
  assert.equal(put.json.spec.maxReplicas, 5);
  assert.equal((await s.request('GET', `${V2}/web`)).json.spec.maxReplicas, 5);

  const stale = await s.request('PUT', `${V1}/web`, { body: { ...v1, metadata: { ...v1.metadata, resourceVersion: '1' } } });
  assert.equal(stale.status, 409, 'an old resourceVersion is a conflict');

  await s.kubectlOk(['patch', 'horizontalpodautoscalers.v1.autoscaling', 'web', '--type=merge', '-p', '{"spec":{"maxReplicas":6,"targetCPUUtilizationPercentage":70}}']);
  let stored = (await s.request('GET', `${V2}/web`)).json;
  assert.equal(stored.spec.maxReplicas, 6);
  assert.deepEqual(stored.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);

  await s.kubectlOk(['patch', 'horizontalpodautoscalers.v1.autoscaling', 'web', '-p', '{"spec":{"minReplicas":2}}']); // strategic
  await s.kubectlOk(['patch', 'horizontalpodautoscalers.v1.autoscaling', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/maxReplicas","value":4}]']);
  stored = (await s.request('GET', `${V2}/web`)).json;
  assert.equal(stored.spec.minReplicas, 2);
  assert.equal(stored.spec.maxReplicas, 4);

  // A v2-only metric added through v2 survives a v1 write (it travels in the annotation).
  const memory = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } };
  await s.kubectlOk(['patch', 'hpa', 'web', '--type=merge', '-p', JSON.stringify({ spec: { metrics: [memory, stored.spec.metrics[0]] } })]);
  const viaV1 = (await s.request('GET', `${V1}/web`)).json;
  assert.deepEqual(JSON.parse(viaV1.metadata.annotations['autoscaling.alpha.kubernetes.io/metrics']), [{ type: 'Resource', resource: { name: 'memory', targetAverageValue: '100Mi' } }]);
  await s.kubectlOk(['patch', 'horizontalpodautoscalers.v1.autoscaling', 'web', '--type=merge', '-p', '{"spec":{"maxReplicas":8}}']);
  stored = (await s.request('GET', `${V2}/web`)).json;
  assert.equal(stored.spec.maxReplicas, 8);
  assert.deepEqual(stored.spec.metrics[0], memory);
  assert.equal(stored.metadata.annotations, undefined, 'round-trip annotations are not stored');

  // Server-side apply in v1 terms.
  const applied = await s.kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 9
  targetCPUUtilizationPercentage: 60
` });
  assert.match(applied, /serverside-applied/);
  stored = (await s.request('GET', `${V2}/web`)).json;
  assert.equal(stored.spec.maxReplicas, 9);
  assert.deepEqual(stored.spec.metrics.at(-1), { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } });
});

test('the v1 status subresource writes status only', async () => {
  // Its target does not exist, so the HPA controller keeps the status fields it finds.
  await s.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'st' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'missing' }, maxReplicas: 9 } }) });
  const v1 = (await s.request('GET', `${V1}/st`)).json;
  delete v1.metadata.resourceVersion;
  v1.status = { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 77 };
  v1.spec.maxReplicas = 1; // ignored by a status write
  const r = await s.request('PUT', `${V1}/st/status`, { body: v1 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status.currentCPUUtilizationPercentage, 77);
  const stored = (await s.request('GET', `${V2}/st`)).json;
  assert.deepEqual(stored.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }], 'v1 without a target: cpu 80%');
  assert.equal(stored.spec.maxReplicas, 9);
  assert.equal(stored.status.desiredReplicas, 3);
  assert.deepEqual(stored.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 77 } } }]);
  await s.kubectlOk(['delete', 'horizontalpodautoscalers.v1.autoscaling', 'st']);
});

test('a watch on v1 gets v1 objects; delete through v1', async () => {
  const rv = (await s.request('GET', `${V1}/web`)).json.metadata.resourceVersion;
  const events = watch(`${V1}?watch=true&fieldSelector=metadata.name%3Dweb&resourceVersion=${rv}`, (evs) => evs.some((e) => e.type === 'DELETED'));
  await new Promise((r) => setTimeout(r, 200));
  await s.kubectlOk(['patch', 'hpa', 'web', '--type=merge', '-p', '{"spec":{"maxReplicas":10}}']);
  const del = await s.request('DELETE', `${V1}/web`);
  assert.equal(del.status, 200, del.text);
  // The HPA controller may write status in between: look at the last change before the delete.
  const evs = await events;
  assert.equal(evs.at(-1).type, 'DELETED');
  assert.ok(evs.slice(0, -1).every((e) => e.type === 'MODIFIED'), JSON.stringify(evs.map((e) => e.type)));
  for (const e of evs) assert.equal(e.object.apiVersion, 'autoscaling/v1');
  assert.equal(evs.at(-2).object.spec.maxReplicas, 10);
  assert.equal(evs.at(-2).object.spec.targetCPUUtilizationPercentage, 60);
  assert.equal((await s.request('GET', `${V2}/web`)).status, 404);

  const initial = await watch(`${V1}?watch=true`, (e) => e.length >= 0, 2000).catch(() => []);
  assert.deepEqual(initial, []);
});

test('a bad v1 HPA is refused with v1 field paths', async () => {
  const r = await s.request('POST', V1, {
    body: { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 0, maxReplicas: 2 } },
  });
  assert.equal(r.status, 422, r.text);
  assert.deepEqual(r.json.details.causes.map((c: any) => c.field), ['spec.minReplicas']);
  const r2 = await s.request('POST', V1, {
    body: { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 3, maxReplicas: 2 } },
  });
  assert.equal(r2.status, 422, r2.text);
  assert.deepEqual(r2.json.details.causes.map((c: any) => c.field), ['spec.maxReplicas']);
  assert.match(r2.json.message, /HorizontalPodAutoscaler.autoscaling "bad" is invalid/);
  // Unknown fields are checked against the v1 schema.
  const strict = await s.request('POST', `${V1}?fieldValidation=Strict`, {
    body: { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 2, metrics: [] } },
  });
  assert.equal(strict.status, 400, strict.text);
  assert.match(strict.json.message, /unknown field "spec.metrics"/);
});

test('discovery lists autoscaling/v1 with v2 preferred; OpenAPI v3 describes v1', async () => {
  const group = (await s.request('GET', '/apis/autoscaling')).json;
  assert.deepEqual(group.versions.map((v: any) => v.version), ['v2', 'v1']);
  assert.equal(group.preferredVersion.version, 'v2');
  const v1 = (await s.request('GET', '/apis/autoscaling/v1')).json;
  const hpa = v1.resources.find((r: any) => r.name === 'horizontalpodautoscalers');
  assert.equal(hpa.kind, 'HorizontalPodAutoscaler');
  assert.ok(v1.resources.some((r: any) => r.name === 'horizontalpodautoscalers/status'));
  const v2 = (await s.request('GET', '/apis/autoscaling/v2')).json;
  assert.equal(hpa.storageVersionHash, v2.resources.find((r: any) => r.name === 'horizontalpodautoscalers').storageVersionHash);
  const agg = (await s.request('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } })).json;
  const autoscaling = agg.items.find((g: any) => g.metadata.name === 'autoscaling');
  assert.deepEqual(autoscaling.versions.map((v: any) => v.version), ['v2', 'v1']);
  assert.equal(autoscaling.versions[1].resources[0].responseKind.version, 'v1');
  const resources = await s.kubectlOk(['api-resources', '--api-group=autoscaling']);
  assert.match(resources, /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m);

  const index = (await s.request('GET', '/openapi/v3')).json;
  assert.ok(index.paths['apis/autoscaling/v1'], 'the index lists autoscaling/v1');
  const doc = (await s.request('GET', '/openapi/v3/apis/autoscaling/v1')).json;
  assert.ok(doc.components.schemas['io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler']);
  assert.ok(doc.paths['/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers/{name}']);
  const explain = await s.kubectlOk(['explain', 'hpa.spec.targetCPUUtilizationPercentage', '--api-version=autoscaling/v1']);
  assert.match(explain, /targetCPUUtilizationPercentage/);
});
