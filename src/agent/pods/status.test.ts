import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { buildPodStatus, podPhase } from './status.ts';
import type { RtContainer, Waiting } from './types.ts';

const NOW = Date.parse('2026-11-23T10:00:00Z');

function pod(spec: Record<string, unknown>): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'a', image: 'img' }], ...spec } };
}

function ctr(name: string, over: Partial<RtContainer> = {}): RtContainer {
  return { id: `${name}-${over.attempt ?? 0}`, sandboxId: 's1', uid: 'u1', name, kind: 'regular', attempt: 0, state: 'running', createdAt: NOW - 5000, startedAt: NOW - 4000, ...over };
}

const sandbox = { id: 's1', uid: 'u1', name: 'p', namespace: 'default', attempt: 0, ready: true, createdAt: NOW - 6000, ips: ['10.1.0.5'] };

function status(p: KObject, containers: RtContainer[], opts: { waiting?: Map<string, Waiting>; ready?: boolean; failed?: boolean } = {}) {
  return buildPodStatus(p, {
    sandbox, containers, waiting: opts.waiting ?? new Map(), ready: () => opts.ready ?? true, started: () => true,
    hostIP: '192.0.2.2', now: NOW, ...(opts.failed ? { failed: {} } : {}),
  });
}

test('a running, ready container: Running, Ready, pod IPs, container ID', () => {
  const s = status(pod({}), [ctr('a')]);
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '10.1.0.5');
  assert.deepEqual(s.podIPs, [{ ip: '10.1.0.5' }]);
  assert.equal(s.hostIP, '192.0.2.2');
  assert.equal(s.containerStatuses[0].containerID, 'containerd://a-0');
  assert.equal(s.containerStatuses[0].ready, true);
  assert.deepEqual(s.conditions.map((c: any) => [c.type, c.status]), [
    ['PodReadyToStartContainers', 'True'], ['Initialized', 'True'], ['Ready', 'True'], ['ContainersReady', 'True']]);
  assert.equal(s.qosClass, 'BestEffort');
});

test('an unready container makes the pod not Ready, naming it', () => {
  const s = status(pod({}), [ctr('a')], { ready: false });
  const r = s.conditions.find((c: any) => c.type === 'Ready');
  assert.equal(r.status, 'False');
  assert.equal(r.reason, 'ContainersNotReady');
  assert.equal(r.message, 'containers with unready status: [a]');
});

test('exited under Never: Failed with the exit code; exit 0: Succeeded with Completed', () => {
  const failed = status(pod({ restartPolicy: 'Never' }), [ctr('a', { state: 'exited', exitCode: 3, finishedAt: NOW - 1000 })]);
  assert.equal(failed.phase, 'Failed');
  assert.equal(failed.containerStatuses[0].state.terminated.exitCode, 3);
  assert.equal(failed.containerStatuses[0].state.terminated.reason, 'Error');
  const ok = status(pod({ restartPolicy: 'Never' }), [ctr('a', { state: 'exited', exitCode: 0, finishedAt: NOW - 1000 })]);
  assert.equal(ok.phase, 'Succeeded');
  assert.equal(ok.containerStatuses[0].state.terminated.reason, 'Completed');
  assert.equal(ok.conditions.find((c: any) => c.type === 'Ready').reason, 'PodCompleted');
});

test('a crash waiting to restart: CrashLoopBackOff with the exit as lastState, restartCount = attempt', () => {
  const waiting = new Map([['a', { reason: 'CrashLoopBackOff', message: 'back-off 10s' }]]);
  const s = status(pod({}), [ctr('a', { attempt: 2, state: 'exited', exitCode: 1, finishedAt: NOW - 1000 }), ctr('a', { attempt: 1, state: 'exited', exitCode: 1 })], { waiting });
  assert.equal(s.phase, 'Running');
  assert.equal(s.containerStatuses[0].restartCount, 2);
  assert.equal(s.containerStatuses[0].state.waiting.reason, 'CrashLoopBackOff');
  assert.equal(s.containerStatuses[0].lastState.terminated.exitCode, 1);
  assert.equal(s.containerStatuses[0].lastState.terminated.containerID, 'containerd://a-2');
});

test('init containers: Pending while one runs, app containers PodInitializing; OOMKilled reason kept', () => {
  const p = pod({ initContainers: [{ name: 'i1', image: 'img' }, { name: 'i2', image: 'img' }] });
  const s = status(p, [ctr('i1', { kind: 'init', state: 'exited', exitCode: 0 }), ctr('i2', { kind: 'init' })]);
  assert.equal(s.phase, 'Pending');
  assert.equal(s.containerStatuses[0].state.waiting.reason, 'PodInitializing');
  const init = s.conditions.find((c: any) => c.type === 'Initialized');
  assert.equal(init.status, 'False');
  assert.equal(init.message, 'containers with incomplete status: [i2]');
  const oom = status(pod({ restartPolicy: 'Never' }), [ctr('a', { state: 'exited', exitCode: 137, reason: 'OOMKilled' })]);
  assert.equal(oom.containerStatuses[0].state.terminated.reason, 'OOMKilled');
});

test('a failed init container under Never fails the pod', () => {
  const p = pod({ restartPolicy: 'Never', initContainers: [{ name: 'i1', image: 'img' }] });
  const s = status(p, [ctr('i1', { kind: 'init', state: 'exited', exitCode: 2 })], { failed: true });
  assert.equal(s.phase, 'Failed');
});

test('podPhase follows the kubelet: Always with everything exited is still Running', () => {
  const exited = { state: { terminated: { exitCode: 0 } }, lastState: {} };
  assert.equal(podPhase({ restartPolicy: 'Always' }, [], [exited], false), 'Running');
  assert.equal(podPhase({ restartPolicy: 'OnFailure' }, [], [exited], false), 'Succeeded');
  assert.equal(podPhase({}, [], [{ state: { waiting: {} }, lastState: {} }], false), 'Pending');
});

test('the start time and transition times of unchanged conditions are kept', () => {
  const p = pod({});
  p.status = { startTime: '2026-11-23T09:00:00Z', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-23T09:00:05Z' }] };
  const s = status(p, [ctr('a')]);
  assert.equal(s.startTime, '2026-11-23T09:00:00Z');
  assert.equal(s.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime, '2026-11-23T09:00:05Z');
});
