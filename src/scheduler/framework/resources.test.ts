import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podRequests, toResources } from './resources.ts';

const c = (requests: Record<string, string>, extra: Record<string, unknown> = {}) => ({ name: 'c', resources: { requests }, ...extra });

test('quantities become millicores and bytes; extended resources kept', () => {
  assert.deepEqual(toResources({ cpu: '1.5', memory: '1Gi', 'ephemeral-storage': '1k', 'nvidia.com/gpu': '2', pods: '110' }),
    { cpu: 1500, memory: 2 ** 30, ephemeralStorage: 1000, scalar: { 'nvidia.com/gpu': 2 } });
  assert.equal(toResources({ cpu: '100m' }).cpu, 100);
  assert.equal(toResources({ cpu: '0.0001' }).cpu, 1, 'rounds up like MilliValue');
});

test('app containers add up; the init container max rule; overhead on top', () => {
  const spec = {
    containers: [c({ cpu: '200m', memory: '100Mi' }), c({ cpu: '300m' })],
    initContainers: [c({ cpu: '1', memory: '10Mi' }), c({ cpu: '100m', memory: '500Mi' })],
    overhead: { cpu: '50m' },
  };
  const r = podRequests(spec);
  assert.equal(r.cpu, 1050); // max(500, 1000) + 50
  assert.equal(r.memory, 500 * 2 ** 20);
});

test('sidecars run beside the app and the later init containers', () => {
  const spec = {
    containers: [c({ cpu: '500m' })],
    initContainers: [c({ cpu: '200m' }, { restartPolicy: 'Always' }), c({ cpu: '600m' })],
  };
  assert.equal(podRequests(spec).cpu, 800); // max(500 + 200, 200 + 600)
});

test('nonZero counts empty requests as 100m / 200Mi', () => {
  const r = podRequests({ containers: [{ name: 'a' }, c({ cpu: '0' })] }, true);
  assert.equal(r.cpu, 100);
  assert.equal(r.memory, 400 * 2 ** 20);
});
