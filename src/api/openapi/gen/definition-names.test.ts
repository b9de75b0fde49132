import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignDefinitionNames, classForKind, packageForGroup, parseClassName } from './definition-names.ts';
import type { Model } from './client-node-models.ts';

function model(className: string, ...types: string[]): Model {
  return { className, attributes: types.map((type, i) => ({ jsonName: `f${i}`, type, format: '', required: false })) };
}

test('parseClassName splits prefix, version and kind', () => {
  assert.deepEqual(parseClassName('V1Pod'), { prefix: undefined, version: 'v1', kind: 'Pod' });
  assert.deepEqual(parseClassName('CoreV1Event'), { prefix: 'Core', version: 'v1', kind: 'Event' });
  assert.deepEqual(parseClassName('V1beta2DeviceClass'), { prefix: undefined, version: 'v1beta2', kind: 'DeviceClass' });
  assert.equal(parseClassName('ObjectSerializer'), undefined);
});

test('packageForGroup follows the Go package layout', () => {
  assert.equal(packageForGroup('', 'v1'), 'io.k8s.api.core.v1');
  assert.equal(packageForGroup('rbac.authorization.k8s.io', 'v1'), 'io.k8s.api.rbac.v1');
  assert.equal(packageForGroup('apps', 'v1'), 'io.k8s.api.apps.v1');
});

test('the first group to reach a class owns it; meta and prefixed classes keep their own package', () => {
  const models = new Map<string, Model>([
    ['V1Pod', model('V1Pod', 'V1ObjectMeta', 'V1PodSpec')],
    ['V1PodSpec', model('V1PodSpec', 'Array<V1Container>')],
    ['V1Container', model('V1Container', 'string')],
    ['V1ObjectMeta', model('V1ObjectMeta', 'Array<V1OwnerReference>')],
    ['V1OwnerReference', model('V1OwnerReference', 'string')],
    ['V1Deployment', model('V1Deployment', 'V1DeploymentSpec')],
    ['V1DeploymentSpec', model('V1DeploymentSpec', 'V1PodSpec', '{ [key: string]: V1RollingUpdateDeployment; }')],
    ['V1RollingUpdateDeployment', model('V1RollingUpdateDeployment', 'IntOrString')],
    ['EventsV1Event', model('EventsV1Event', 'EventsV1EventSeries')],
    ['EventsV1EventSeries', model('EventsV1EventSeries', 'string')],
  ]);
  const names = assignDefinitionNames(models, [
    { className: 'V1Pod', group: '' },
    { className: 'V1Deployment', group: 'apps' },
    { className: 'EventsV1Event', group: 'events.k8s.io' },
  ]);
  assert.equal(names.get('V1Pod'), 'io.k8s.api.core.v1.Pod');
  assert.equal(names.get('V1PodSpec'), 'io.k8s.api.core.v1.PodSpec');
  assert.equal(names.get('V1Container'), 'io.k8s.api.core.v1.Container');
  assert.equal(names.get('V1ObjectMeta'), 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  assert.equal(names.get('V1OwnerReference'), 'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference');
  assert.equal(names.get('V1DeploymentSpec'), 'io.k8s.api.apps.v1.DeploymentSpec');
  assert.equal(names.get('V1RollingUpdateDeployment'), 'io.k8s.api.apps.v1.RollingUpdateDeployment');
  assert.equal(names.get('EventsV1EventSeries'), 'io.k8s.api.events.v1.EventSeries');
});

test('classForKind prefers the group-prefixed class when a kind name is shared', () => {
  const models = new Map<string, Model>([
    ['CoreV1Event', model('CoreV1Event')],
    ['EventsV1Event', model('EventsV1Event')],
    ['V1Pod', model('V1Pod')],
  ]);
  assert.equal(classForKind(models, '', 'v1', 'Event'), 'CoreV1Event');
  assert.equal(classForKind(models, 'events.k8s.io', 'v1', 'Event'), 'EventsV1Event');
  assert.equal(classForKind(models, '', 'v1', 'Pod'), 'V1Pod');
  assert.equal(classForKind(models, '', 'v1', 'Nope'), undefined);
});
