import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { strategyFor } from './index.ts';

const deployments = strategyFor('apps', 'Deployment');

function deployment(spec: Record<string, unknown>): KObject {
  const d: KObject = {
    metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z' },
    spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } }, ...spec },
  };
  deployments.defaults!(d);
  deployments.prepareForCreate!(d);
  return d;
}

const errors = (d: KObject): string[] => deployments.validate!(d).map(formatFieldError);

test('defaults: replicas, rolling update 25%/25%, history, deadline, template', () => {
  const spec = deployment({ selector: { matchLabels: { app: 'web' } } }).spec as Record<string, any>;
  assert.equal(spec.replicas, 1);
  assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(spec.revisionHistoryLimit, 10);
  assert.equal(spec.progressDeadlineSeconds, 600);
  assert.equal(spec.template.spec.restartPolicy, 'Always');
  assert.equal(spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.equal(spec.template.spec.serviceAccountName, undefined, 'admission defaults are for pods only');
});

test('Recreate gets no rollingUpdate', () => {
  const spec = deployment({ selector: { matchLabels: { app: 'web' } }, strategy: { type: 'Recreate' } }).spec as Record<string, any>;
  assert.deepEqual(spec.strategy, { type: 'Recreate' });
});

test('selector must be present and match the template labels', () => {
  assert.deepEqual(errors(deployment({ selector: { matchLabels: { app: 'web' } } })), []);
  assert.deepEqual(errors(deployment({ selector: { matchLabels: { app: 'other' } } })), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
  ]);
  assert.deepEqual(errors(deployment({})), [
    'spec.selector: Required value',
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
  ]);
  assert.match(errors(deployment({ selector: {} }))[0]!, /^spec.selector: Invalid value: .*: empty selector is invalid for deployment$/);
});

test('replicas, template restart policy and rolling update bounds', () => {
  const d = deployment({
    replicas: -1,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '0%' } },
  });
  (d.spec as any).template.spec.restartPolicy = 'OnFailure';
  assert.deepEqual(errors(d), [
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
  ]);
});

test('selector is immutable; generation bumps only on spec changes', () => {
  const old = deployment({ selector: { matchLabels: { app: 'web' } } });
  assert.equal(old.metadata.generation, 1);
  const scaled = structuredClone(old);
  (scaled.spec as any).replicas = 3;
  deployments.prepareForUpdate!(scaled, old);
  assert.equal(scaled.metadata.generation, 2);
  assert.deepEqual(deployments.validateUpdate!(scaled, old), []);
  const relabelled = structuredClone(old);
  (relabelled.spec as any).selector = { matchLabels: { app: 'web', v: '2' } };
  assert.deepEqual(deployments.validateUpdate!(relabelled, old).map((e) => e.field), ['spec.selector']);
  const statusOnly = structuredClone(old);
  statusOnly.status = { replicas: 1 };
  deployments.prepareForUpdate!(statusOnly, old);
  assert.equal(statusOnly.metadata.generation, 1);
});

test('table and scale', () => {
  const d = deployment({ replicas: 3, selector: { matchLabels: { app: 'web' } } });
  d.status = { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 };
  assert.deepEqual(deployments.table!.columns.map((c) => c.name), ['Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(deployments.table!.cells(d, Date.parse('2024-05-01T12:00:00Z')), ['2/3', 3, 2, '60m', 'c', 'nginx:1.25', 'app=web']);
  const scale = deployments.scale!;
  assert.equal(scale.specReplicas(d), 3);
  scale.setSpecReplicas(d, 5);
  assert.equal((d.spec as any).replicas, 5);
  assert.equal(scale.selector(d), 'app=web');
});

test('other workloads: tables and scale selectors', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const template = { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:16' }], nodeSelector: { disk: 'ssd' } } };
  const rc = strategyFor('', 'ReplicationController');
  const rcObj: KObject = { metadata: { name: 'db', namespace: 'default' }, spec: { template } };
  rc.defaults!(rcObj);
  assert.deepEqual((rcObj.spec as any).selector, { app: 'db' });
  assert.deepEqual(rc.validate!(rcObj), []);
  assert.equal(rc.scale!.selector(rcObj), 'app=db');

  const ds = strategyFor('apps', 'DaemonSet');
  const dsObj: KObject = { metadata: { name: 'agent', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'db' } }, template: structuredClone(template) } };
  ds.defaults!(dsObj);
  dsObj.status = { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 };
  assert.deepEqual(ds.table!.cells(dsObj, now).slice(0, 6), [3, 3, 2, 3, 2, 'disk=ssd']);
  assert.deepEqual((dsObj.spec as any).updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });

  const sts = strategyFor('apps', 'StatefulSet');
  const stsObj: KObject = { metadata: { name: 'db', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'db' } }, template: structuredClone(template) } };
  sts.defaults!(stsObj);
  assert.deepEqual(sts.validate!(stsObj), []);
  const changed = structuredClone(stsObj);
  (changed.spec as any).serviceName = 'other';
  assert.deepEqual(sts.validateUpdate!(changed, stsObj).map((e) => e.field), ['spec']);
  assert.equal(strategyFor('apps', 'ReplicaSet').scale!.statusReplicas({ metadata: {}, status: { replicas: 4 } }), 4);
});
