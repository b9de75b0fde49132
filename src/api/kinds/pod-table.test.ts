import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../object.ts';
import { strategyFor } from './index.ts';

const table = strategyFor('', 'Pod').table!;
const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (s: number): string => new Date(NOW - s * 1000).toISOString();

function pod(status: Record<string, unknown>, extra: { spec?: Record<string, unknown>; meta?: Record<string, unknown> } = {}): KObject {
  return {
    metadata: { name: 'p', namespace: 'default', creationTimestamp: ago(300), ...extra.meta },
    spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }], ...extra.spec },
    status,
  };
}

const cells = (p: KObject): unknown[] => table.cells(p, NOW);

test('columns are kubectl\'s, wide ones at priority 1', () => {
  assert.deepEqual(table.columns.map((c) => [c.name, c.priority]), [
    ['Ready', 0], ['Status', 0], ['Restarts', 0], ['Age', 0], ['IP', 1], ['Node', 1], ['Nominated Node', 1], ['Readiness Gates', 1],
  ]);
});

test('a new pod is Pending with nothing ready', () => {
  assert.deepEqual(cells(pod({ phase: 'Pending' })), ['0/2', 'Pending', '0', '5m', '<none>', '<none>', '<none>', '<none>']);
});

test('waiting containers show their reason', () => {
  const p = pod({
    phase: 'Pending',
    containerStatuses: [
      { name: 'a', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
      { name: 'b', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
    ],
  });
  assert.equal(cells(p)[1], 'ContainerCreating');
});

test('running and ready, with restarts and the time since the last one', () => {
  const p = pod({
    phase: 'Running', podIPs: [{ ip: '10.42.0.7' }],
    containerStatuses: [
      { name: 'a', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { finishedAt: ago(90) } } },
      { name: 'b', ready: true, restartCount: 1, state: { running: {} } },
    ],
  }, { spec: { nodeName: 'node-1' } });
  assert.deepEqual(cells(p), ['2/2', 'Running', '3 (90s ago)', '5m', '10.42.0.7', 'node-1', '<none>', '<none>']);
});

test('crash looping container wins over a running one', () => {
  const p = pod({
    phase: 'Running',
    containerStatuses: [
      { name: 'a', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } },
      { name: 'b', ready: true, restartCount: 0, state: { running: {} } },
    ],
  });
  const [ready, status, restarts] = cells(p);
  assert.equal(ready, '1/2');
  assert.equal(status, 'CrashLoopBackOff');
  assert.equal(restarts, '5');
});

test('completed, error and exit code statuses', () => {
  const done = pod({ phase: 'Succeeded', containerStatuses: [{ name: 'a', state: { terminated: { reason: 'Completed', exitCode: 0 } } }] });
  assert.equal(cells(done)[1], 'Completed');
  const noReason = pod({ phase: 'Failed', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 3 } } }] });
  assert.equal(cells(noReason)[1], 'ExitCode:3');
  const stillRunning = pod({
    phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }],
    containerStatuses: [
      { name: 'a', ready: false, state: { terminated: { reason: 'Completed', exitCode: 0 } } },
      { name: 'b', ready: true, state: { running: {} } },
    ],
  });
  assert.equal(cells(stillRunning)[1], 'NotReady');
});

test('init containers report progress', () => {
  const spec = { initContainers: [{ name: 'i1', image: 'x' }, { name: 'i2', image: 'x' }] };
  const p = pod({
    phase: 'Pending',
    initContainerStatuses: [
      { name: 'i1', state: { terminated: { exitCode: 0 } } },
      { name: 'i2', state: { running: {} } },
    ],
  }, { spec });
  assert.equal(cells(p)[1], 'Init:1/2');
  const failing = pod({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }, { spec });
  assert.equal(cells(failing)[1], 'Init:CrashLoopBackOff');
});

test('deleting pods show Terminating unless already finished', () => {
  assert.equal(cells(pod({ phase: 'Running' }, { meta: { deletionTimestamp: ago(1) } }))[1], 'Terminating');
  assert.equal(cells(pod({ phase: 'Succeeded' }, { meta: { deletionTimestamp: ago(1) } }))[1], 'Succeeded');
});

test('readiness gates count true conditions', () => {
  const p = pod({ phase: 'Running', conditions: [{ type: 'example.com/lb', status: 'True' }] }, { spec: { readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'other' }] } });
  assert.equal(cells(p)[7], '1/2');
});
