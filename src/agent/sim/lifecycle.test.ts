// The lifecycle as a table: pod spec + time since start → phase, container states and
// when the status next changes (KWOK-style golden cases).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KObject } from '../../api/object.ts';
import { containerRunAt, isoSeconds, mergePodStatus, podStatusAt } from './lifecycle.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const backoff = { initialMs: 10_000, maxMs: 300_000 };

function pod(spec: Record<string, unknown>): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u-1' }, spec };
}
const c = (name: string, command?: string[]) => ({ name, image: 'busybox:1.36', ...(command ? { command } : {}) });
const stateOf = (s: Record<string, unknown>): string => Object.keys(s.state as object)[0]!;

interface Case {
  name: string;
  spec: Record<string, unknown>;
  atMs: number;
  phase: string;
  states: string[];
  restarts?: number[];
  ready?: boolean;
  nextInMs?: number;
}

const cases: Case[] = [
  { name: 'server runs forever', spec: { containers: [c('web')] }, atMs: 5_000, phase: 'Running', states: ['running'], ready: true },
  { name: 'true completes at once (Never)', spec: { restartPolicy: 'Never', containers: [c('a', ['true'])] }, atMs: 0, phase: 'Succeeded', states: ['terminated'], ready: false },
  { name: 'false fails (Never)', spec: { restartPolicy: 'Never', containers: [c('a', ['false'])] }, atMs: 0, phase: 'Failed', states: ['terminated'] },
  { name: 'sleep 1 runs for a second', spec: { restartPolicy: 'Never', containers: [c('a', ['sleep', '1'])] }, atMs: 999, phase: 'Running', states: ['running'], nextInMs: 1 },
  { name: 'sleep 1 then Succeeded', spec: { restartPolicy: 'Never', containers: [c('a', ['sleep', '1'])] }, atMs: 1000, phase: 'Succeeded', states: ['terminated'] },
  { name: 'OnFailure retries a failure', spec: { restartPolicy: 'OnFailure', containers: [c('a', ['false'])] }, atMs: 5_000, phase: 'Running', states: ['waiting'], restarts: [1], nextInMs: 5_000 },
  { name: 'OnFailure finishes a success', spec: { restartPolicy: 'OnFailure', containers: [c('a', ['true'])] }, atMs: 0, phase: 'Succeeded', states: ['terminated'] },
  { name: 'Always restarts a completed container', spec: { containers: [c('a', ['sleep', '1'])] }, atMs: 1_500, phase: 'Running', states: ['running'], restarts: [1], nextInMs: 500 },
  { name: 'Never with one of two failed keeps Running', spec: { restartPolicy: 'Never', containers: [c('a', ['false']), c('b')] }, atMs: 10, phase: 'Running', states: ['terminated', 'running'], ready: false },
  { name: 'Never with all exited, one failed, is Failed', spec: { restartPolicy: 'Never', containers: [c('a', ['false']), c('b', ['sleep', '2'])] }, atMs: 2_000, phase: 'Failed', states: ['terminated', 'terminated'] },
  { name: 'init container runs first', spec: { initContainers: [c('init', ['sleep', '2'])], containers: [c('a')] }, atMs: 1_000, phase: 'Pending', states: ['waiting'], nextInMs: 1_000 },
  { name: 'after init, containers run', spec: { initContainers: [c('init', ['sleep', '2'])], containers: [c('a', ['sleep', '3'])] }, atMs: 4_000, phase: 'Running', states: ['running'], nextInMs: 1_000 },
  { name: 'failed init fails the pod (Never)', spec: { restartPolicy: 'Never', initContainers: [c('init', ['false'])], containers: [c('a')] }, atMs: 0, phase: 'Failed', states: ['waiting'] },
];

for (const k of cases) {
  test(`lifecycle: ${k.name}`, () => {
    const r = podStatusAt(pod(k.spec), { startAt: T0, hostIP: '172.30.0.2', podIP: '10.42.0.2' }, T0 + k.atMs);
    const statuses = r.status.containerStatuses as Record<string, unknown>[];
    assert.equal(r.phase, k.phase);
    assert.equal(r.status.phase, k.phase);
    assert.deepEqual(statuses.map(stateOf), k.states);
    if (k.restarts) assert.deepEqual(statuses.map((s) => s.restartCount), k.restarts);
    if (k.ready !== undefined) {
      const ready = (r.status.conditions as { type: string; status: string }[]).find((x) => x.type === 'Ready');
      assert.equal(ready?.status, k.ready ? 'True' : 'False');
    }
    assert.equal(r.nextChangeAt === undefined ? undefined : r.nextChangeAt - T0 - k.atMs, k.nextInMs);
  });
}

test('a running pod reports IPs, start time, container IDs and image IDs', () => {
  const r = podStatusAt(pod({ containers: [c('web')] }), { startAt: T0, hostIP: '172.30.0.2', podIP: '10.42.0.7' }, T0 + 100);
  assert.equal(r.status.podIP, '10.42.0.7');
  assert.deepEqual(r.status.podIPs, [{ ip: '10.42.0.7' }]);
  assert.equal(r.status.hostIP, '172.30.0.2');
  assert.equal(r.status.startTime, '2025-01-01T00:00:00Z');
  const [s] = r.status.containerStatuses as Record<string, unknown>[];
  assert.match(String(s!.containerID), /^sim:\/\/[0-9a-f]{64}$/);
  assert.match(String(s!.imageID), /^busybox:1\.36@sha256:[0-9a-f]{64}$/);
  assert.equal(s!.ready, true);
  assert.equal(s!.started, true);
  assert.deepEqual(s!.state, { running: { startedAt: '2025-01-01T00:00:00Z' } });
  assert.deepEqual((r.status.conditions as { type: string; status: string }[]).map((x) => `${x.type}=${x.status}`),
    ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True']);
});

test('hostNetwork pods take the node address', () => {
  const r = podStatusAt(pod({ hostNetwork: true, containers: [c('a')] }), { startAt: T0, hostIP: '172.30.0.2' }, T0);
  assert.equal(r.status.podIP, '172.30.0.2');
});

test('the same inputs give the same status (pure)', () => {
  const p = pod({ containers: [c('a', ['sleep', '1'])] });
  const run = { startAt: T0, hostIP: '172.30.0.2', podIP: '10.42.0.2' };
  assert.deepEqual(podStatusAt(p, run, T0 + 12_345), podStatusAt(p, run, T0 + 12_345));
});

test('CrashLoopBackOff: restart at once, then 10 s, 20 s, 40 s ... capped at 5 min', () => {
  const fail = { durationMs: 0, exitCode: 1 };
  assert.equal(containerRunAt(fail, 'Always', T0, T0, backoff).restartCount, 1); // first restart immediate
  const r = containerRunAt(fail, 'Always', T0, T0 + 5_000, backoff);
  assert.equal(r.restartCount, 1);
  assert.deepEqual(r.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container' } });
  assert.equal(r.nextChangeAt, T0 + 10_000);
  assert.equal((r.lastState.terminated as { exitCode: number }).exitCode, 1);
  assert.equal(containerRunAt(fail, 'Always', T0, T0 + 10_000, backoff).restartCount, 2);
  assert.equal(containerRunAt(fail, 'Always', T0, T0 + 30_000, backoff).restartCount, 3);
  const day = containerRunAt(fail, 'Always', T0, T0 + 86_400_000, backoff);
  assert.ok(day.restartCount > 280 && day.restartCount < 300, String(day.restartCount));
});

test('mergePodStatus keeps what others own and adds PodScheduled', () => {
  const ours = podStatusAt(pod({ containers: [c('a')] }), { startAt: T0, hostIP: 'h', podIP: '10.0.0.2' }, T0).status;
  const merged = mergePodStatus({ phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'DisruptionTarget', status: 'True' }] }, ours);
  assert.equal(merged.qosClass, 'BestEffort');
  assert.deepEqual((merged.conditions as { type: string }[]).map((x) => x.type),
    ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'DisruptionTarget', 'PodScheduled']);
  assert.equal(isoSeconds(T0 + 999), '2025-01-01T00:00:00Z');
});
