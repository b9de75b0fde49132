import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../object.ts';
import { BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, CURRENT_METRICS_ANNOTATION, METRICS_ANNOTATION, hpaV1ToV2, hpaV2ToV1 } from './autoscaling-v1.ts';

const meta = { name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '42', labels: { app: 'web' }, managedFields: [{ manager: 'kubectl', operation: 'Update' as const, apiVersion: 'autoscaling/v2' }] };
const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const cpu = (u: number) => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: u } } });

test('the cpu target becomes targetCPUUtilizationPercentage and back', () => {
  const v2: KObject = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta, spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 3, metrics: [cpu(50)] }, status: {} };
  const v1 = hpaV2ToV1(v2);
  assert.deepEqual(v1, {
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: meta,
    spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 50 },
    status: { currentReplicas: 0, desiredReplicas: 0 },
  });
  assert.deepEqual(hpaV1ToV2(v1), v2);
  assert.notEqual(v1.metadata, v2.metadata, 'metadata is copied');
});

test('a v1 object without a cpu target gets the 80% cpu metric; status cpu becomes a current metric', () => {
  const v2 = hpaV1ToV2({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'a' }, spec: { scaleTargetRef: ref, maxReplicas: 2 }, status: { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 91, observedGeneration: 4 } });
  assert.deepEqual(v2.spec, { scaleTargetRef: ref, maxReplicas: 2, metrics: [cpu(80)] });
  assert.deepEqual(v2.status, { observedGeneration: 4, currentReplicas: 2, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 91 } } }] });
});

test('other metrics, current metrics, behavior and conditions travel in annotations and come back', () => {
  const memory = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } };
  const pods = { type: 'Pods', pods: { metric: { name: 'qps', selector: { matchLabels: { a: 'b' } } }, target: { type: 'AverageValue', averageValue: '10' } } };
  const object = { type: 'Object', object: { describedObject: { kind: 'Service', name: 's', apiVersion: 'v1' }, target: { type: 'Value', value: '5' }, metric: { name: 'hits' } } };
  const external = { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } };
  const container = { type: 'ContainerResource', containerResource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 }, container: 'app' } };
  const behavior = {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
    scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
  };
  const currentMetrics = [
    { type: 'Resource', resource: { name: 'cpu', current: { averageValue: '120m', averageUtilization: 40 } } },
    { type: 'Pods', pods: { metric: { name: 'qps' }, current: { averageValue: '7' } } },
  ];
  const conditions = [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'ReadyForNewScale', message: 'ok' }];
  const v2: KObject = {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', annotations: { keep: 'me' } },
    spec: { scaleTargetRef: ref, minReplicas: 2, maxReplicas: 9, metrics: [memory, pods, object, external, container, cpu(50)], behavior },
    status: { observedGeneration: 3, lastScaleTime: '2026-01-01T00:00:00Z', currentReplicas: 2, desiredReplicas: 4, currentMetrics, conditions },
  };
  const v1 = hpaV2ToV1(v2);
  const a = v1.metadata.annotations!;
  assert.equal(a.keep, 'me');
  assert.equal((v1.spec as any).targetCPUUtilizationPercentage, 50);
  assert.deepEqual(v1.status, { observedGeneration: 3, lastScaleTime: '2026-01-01T00:00:00Z', currentReplicas: 2, desiredReplicas: 4, currentCPUUtilizationPercentage: 40 });
  // v1's metric shapes, as upstream writes them.
  assert.deepEqual(JSON.parse(a[METRICS_ANNOTATION]!), [
    { type: 'Resource', resource: { name: 'memory', targetAverageValue: '100Mi' } },
    { type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '10', selector: { matchLabels: { a: 'b' } } } },
    { type: 'Object', object: { target: { kind: 'Service', name: 's', apiVersion: 'v1' }, metricName: 'hits', targetValue: '5' } },
    { type: 'External', external: { metricName: 'queue', targetAverageValue: '30' } },
    { type: 'ContainerResource', containerResource: { name: 'cpu', targetAverageUtilization: 60, container: 'app' } },
  ]);
  assert.equal(a[BEHAVIOR_ANNOTATION], '{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[{"Type":"Pods","Value":4,"PeriodSeconds":15},{"Type":"Percent","Value":100,"PeriodSeconds":15}]},"ScaleDown":{"StabilizationWindowSeconds":300,"SelectPolicy":"Max","Policies":[{"Type":"Percent","Value":100,"PeriodSeconds":15}]}}');
  assert.deepEqual(JSON.parse(a[CURRENT_METRICS_ANNOTATION]!), [
    { type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 40, currentAverageValue: '120m' } },
    { type: 'Pods', pods: { metricName: 'qps', currentAverageValue: '7' } },
  ]);
  assert.deepEqual(JSON.parse(a[CONDITIONS_ANNOTATION]!), conditions);
  // Back to v2: everything returns, annotations are gone, the cpu metric stays last.
  assert.deepEqual(hpaV1ToV2(v1), v2);
});

test('the cpu metric comes back after the other metrics (as upstream orders them)', () => {
  const memory = { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 70 } } };
  const v2: KObject = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { scaleTargetRef: ref, maxReplicas: 3, metrics: [cpu(50), memory] }, status: {} };
  assert.deepEqual((hpaV1ToV2(hpaV2ToV1(v2)).spec as any).metrics, [memory, cpu(50)]);
});

test('a v1 write changing the cpu target keeps the other metrics from the annotation', () => {
  const memory = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Gi' } } };
  const v1 = hpaV2ToV1({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { scaleTargetRef: ref, maxReplicas: 3, metrics: [memory, cpu(50)] }, status: {} });
  (v1.spec as any).targetCPUUtilizationPercentage = 65;
  (v1.spec as any).maxReplicas = 7;
  const v2 = hpaV1ToV2(v1);
  assert.deepEqual(v2.spec, { scaleTargetRef: ref, maxReplicas: 7, metrics: [memory, cpu(65)] });
  assert.equal(v2.metadata.annotations, undefined);
});

test('stale round-trip annotations on a v2 object are replaced; unreadable ones are ignored on the way in', () => {
  const v1 = hpaV2ToV1({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x', annotations: { [METRICS_ANNOTATION]: 'stale', [BEHAVIOR_ANNOTATION]: 'stale' } }, spec: { scaleTargetRef: ref, maxReplicas: 3, metrics: [cpu(50)] }, status: {} });
  assert.equal(v1.metadata.annotations, undefined);
  const v2 = hpaV1ToV2({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x', annotations: { [METRICS_ANNOTATION]: '{not json', [BEHAVIOR_ANNOTATION]: '{}', other: 'y' } }, spec: { scaleTargetRef: ref, maxReplicas: 3, targetCPUUtilizationPercentage: 30 } });
  assert.deepEqual(v2.spec, { scaleTargetRef: ref, maxReplicas: 3, metrics: [cpu(30)] });
  assert.deepEqual(v2.metadata.annotations, { other: 'y' });
});

test('a behavior annotation is read with Go field names, case-insensitively', () => {
  const v2 = hpaV1ToV2({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x', annotations: { [BEHAVIOR_ANNOTATION]: '{"ScaleUp":null,"scaleDown":{"stabilizationWindowSeconds":60,"Policies":[{"Type":"Pods","Value":1,"PeriodSeconds":30}]}}' } }, spec: { scaleTargetRef: ref, maxReplicas: 3 } });
  assert.deepEqual((v2.spec as any).behavior, { scaleDown: { stabilizationWindowSeconds: 60, policies: [{ type: 'Pods', value: 1, periodSeconds: 30 }] } });
});

test('conversion never changes its argument', () => {
  const v2: KObject = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x', annotations: { a: 'b' } }, spec: { scaleTargetRef: ref, maxReplicas: 3, metrics: [cpu(50), { type: 'Pods', pods: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '1' } } }] }, status: {} };
  const before = structuredClone(v2);
  const v1 = hpaV2ToV1(v2);
  const v1Before = structuredClone(v1);
  hpaV1ToV2(v1);
  assert.deepEqual(v2, before);
  assert.deepEqual(v1, v1Before);
});
