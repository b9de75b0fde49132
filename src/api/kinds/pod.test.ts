import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { strategyFor } from './index.ts';
import { POD_UPDATE_FORBIDDEN } from './pod.ts';

const pods = strategyFor('', 'Pod');

function makePod(spec: Record<string, unknown>): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec };
}

function created(spec: Record<string, unknown>): KObject {
  const pod = makePod(spec);
  pods.defaults!(pod);
  pods.prepareForCreate!(pod);
  return pod;
}

const errors = (pod: KObject): string[] => pods.validate!(pod).map(formatFieldError);

test('pod defaults match what Kubernetes fills in', () => {
  const pod = created({ containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 80 }] }, { name: 'side', image: 'busybox:1.36' }] });
  const spec = pod.spec as Record<string, any>;
  assert.equal(spec.restartPolicy, 'Always');
  assert.equal(spec.dnsPolicy, 'ClusterFirst');
  assert.equal(spec.schedulerName, 'default-scheduler');
  assert.equal(spec.terminationGracePeriodSeconds, 30);
  assert.deepEqual(spec.securityContext, {});
  assert.equal(spec.enableServiceLinks, true);
  assert.equal(spec.serviceAccountName, 'default');
  assert.equal(spec.priority, 0);
  assert.equal(spec.preemptionPolicy, 'PreemptLowerPriority');
  assert.equal(spec.containers[0].imagePullPolicy, 'Always');
  assert.equal(spec.containers[1].imagePullPolicy, 'IfNotPresent');
  assert.equal(spec.containers[0].terminationMessagePath, '/dev/termination-log');
  assert.equal(spec.containers[0].terminationMessagePolicy, 'File');
  assert.equal(spec.containers[0].ports[0].protocol, 'TCP');
  assert.deepEqual(spec.tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]);
  assert.deepEqual(pod.status, { phase: 'Pending', qosClass: 'BestEffort' });
  assert.deepEqual(errors(pod), []);
});

test('defaults keep user choices and existing tolerations', () => {
  const pod = created({
    restartPolicy: 'Never',
    containers: [{ name: 'a', image: 'nginx:latest', imagePullPolicy: 'Never' }],
    tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }],
  });
  const spec = pod.spec as Record<string, any>;
  assert.equal(spec.restartPolicy, 'Never');
  assert.equal(spec.containers[0].imagePullPolicy, 'Never');
  assert.equal(spec.tolerations.length, 2);
  assert.equal(spec.tolerations[0].tolerationSeconds, 10);
  assert.equal(spec.tolerations[1].key, 'node.kubernetes.io/not-ready');
});

test('QoS class follows requests and limits', () => {
  const guaranteed = created({ containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '500m', memory: '128Mi' } } }] });
  assert.equal((guaranteed.status as any).qosClass, 'Guaranteed');
  const burstable = created({ containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '100m' } } }] });
  assert.equal((burstable.status as any).qosClass, 'Burstable');
  const mixed = created({ containers: [
    { name: 'a', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' } } },
    { name: 'b', image: 'x' },
  ] });
  assert.equal((mixed.status as any).qosClass, 'Burstable');
});

test('validation messages for broken containers', () => {
  assert.deepEqual(errors(created({ containers: [] })), ['spec.containers: Required value']);
  const pod = created({
    restartPolicy: 'Sometimes',
    containers: [
      { name: 'app', image: '', ports: [{ containerPort: 70000, name: 'http' }, { containerPort: 81, name: 'http' }] },
      { name: 'app', image: 'x', volumeMounts: [{ name: 'missing', mountPath: '/data' }] },
      { name: 'Bad_Name', image: 'x', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } },
    ],
  });
  assert.deepEqual(errors(pod), [
    'spec.containers[0].image: Required value',
    'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.containers[0].ports[1].name: Duplicate value: "http"',
    'spec.containers[1].name: Duplicate value: "app"',
    'spec.containers[1].volumeMounts[0].name: Not found: "missing"',
    'spec.containers[2].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')',
    'spec.containers[2].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  ]);
});

test('volumes: names unique, mounts resolve, quantities well-formed', () => {
  const pod = created({
    volumes: [{ name: 'data', emptyDir: {} }, { name: 'data', configMap: { name: 'c' } }],
    containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'data', mountPath: '/d' }], resources: { limits: { memory: 'lots' } } }],
  });
  const errs = errors(pod);
  assert.ok(errs.includes('spec.volumes[1].name: Duplicate value: "data"'));
  assert.ok(errs.some((e) => e.startsWith('spec.containers[0].resources.limits[memory]: Invalid value: "lots": quantities must match')));
  assert.equal(errs.length, 3); // + the copied request
});

test('update: image and tolerations additions allowed, other spec changes forbidden', () => {
  const old = created({ containers: [{ name: 'a', image: 'nginx:1.0' }] });
  const withImage = structuredClone(old);
  (withImage.spec as any).containers[0].image = 'nginx:1.1';
  (withImage.spec as any).tolerations.push({ key: 'k', operator: 'Exists', effect: 'NoSchedule' });
  pods.defaults!(withImage);
  assert.deepEqual(pods.validateUpdate!(withImage, old), []);

  const withNode = structuredClone(old);
  (withNode.spec as any).nodeName = 'node-1';
  assert.deepEqual(pods.validateUpdate!(withNode, old).map(formatFieldError), [`spec: Forbidden: ${POD_UPDATE_FORBIDDEN}`]);

  const removedToleration = structuredClone(old);
  (removedToleration.spec as any).tolerations = [];
  assert.deepEqual(pods.validateUpdate!(removedToleration, old).map((e) => e.field), ['spec.tolerations', 'spec']);
});

test('field selectors read pod fields', () => {
  const pod = created({ nodeName: 'n1', containers: [{ name: 'a', image: 'x' }] });
  const f = pods.selectableFields!;
  assert.equal(f['spec.nodeName']!(pod), 'n1');
  assert.equal(f['status.phase']!(pod), 'Pending');
  assert.equal(f['spec.serviceAccountName']!(pod), 'default');
  assert.equal(f['status.podIP']!({ ...pod, status: { podIPs: [{ ip: '10.0.0.5' }] } }), '10.0.0.5');
});
