// More of the pod lifecycle on a real node: lifecycle hooks, startup probes, cgroup
// limits, and API data volumes that follow their sources (downward API labels, Secrets).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agentUnavailable, eventually, startServer, type TestServer } from '../helpers/cluster.ts';
import { podWaiter, TEST_IMAGE } from '../helpers/pods.ts';

const skip = agentUnavailable();
const IMAGE = TEST_IMAGE;
let s: TestServer;
let hostDir: string;

before(async () => {
  if (skip) return;
  hostDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-hooks-'));
  s = await startServer({ agent: true });
});
after(async () => {
  await s?.stop();
  if (hostDir) rmSync(hostDir, { recursive: true, force: true });
});

const { waitPod } = podWaiter(() => s);

const exec = async (name: string, ...cmd: string[]) => (await s.kubectlOk(['exec', name, '--', ...cmd])).trim();

test('postStart runs before the container counts as started; preStop runs on deletion', { skip }, async () => {
  await s.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  terminationGracePeriodSeconds: 10
  volumes: [{name: out, hostPath: {path: ${hostDir}, type: Directory}}]
  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
    volumeMounts: [{name: out, mountPath: /out}]
    lifecycle:
      postStart: {exec: {command: [sh, -c, 'echo poststart > /tmp/started']}}
      preStop: {exec: {command: [sh, -c, 'echo prestop > /out/prestop']}}
` });
  await waitPod('hooks', (p) => p.status?.containerStatuses?.[0]?.ready, 'ready');
  assert.equal(await exec('hooks', 'cat', '/tmp/started'), 'poststart');
  await s.kubectlOk(['delete', 'pod', 'hooks', '--wait=true']);
  assert.equal(readFileSync(path.join(hostDir, 'prestop'), 'utf8').trim(), 'prestop');
});

test('a startup probe holds readiness back until it passes', { skip }, async () => {
  await s.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: v1
kind: Pod
metadata: {name: slowstart}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, 'sleep 3; touch /tmp/up; trap "exit 0" TERM; while true; do sleep 1; done']
    startupProbe: {exec: {command: [test, -f, /tmp/up]}, periodSeconds: 1, failureThreshold: 20}
` });
  const early = await waitPod('slowstart', (p) => p.status?.containerStatuses?.[0]?.state?.running, 'running');
  assert.equal(early.status.containerStatuses[0].started, false);
  assert.equal(early.status.containerStatuses[0].ready, false);
  const later = await waitPod('slowstart', (p) => p.status?.containerStatuses?.[0]?.ready, 'ready after startup', 20_000);
  assert.equal(later.status.containerStatuses[0].started, true);
  assert.equal(later.status.containerStatuses[0].restartCount, 0);
});

test('CPU and memory limits are applied to the container cgroup', { skip }, async () => {
  await s.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: v1
kind: Pod
metadata: {name: limited}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
    resources: {requests: {cpu: 250m, memory: 32Mi}, limits: {cpu: 500m, memory: 64Mi}}
` });
  const p = await waitPod('limited', (x) => x.status?.containerStatuses?.[0]?.state?.running, 'running');
  assert.equal(p.status.qosClass, 'Burstable');
  assert.equal(await exec('limited', 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'), '50000');
  assert.equal(await exec('limited', 'cat', '/sys/fs/cgroup/cpu/cpu.shares'), '256');
  assert.equal(await exec('limited', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'), String(64 * 1024 * 1024));
});

test('downwardAPI and secret volumes follow label and Secret changes in place', { skip }, async () => {
  await s.kubectlOk(['create', 'secret', 'generic', 'rotating', '--from-literal=key=v1']);
  await s.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: v1
kind: Pod
metadata: {name: downward, labels: {tier: one}}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}, {path: cpu, resourceFieldRef: {containerName: main, resource: limits.cpu, divisor: 1m}}]}}
  - {name: sec, secret: {secretName: rotating}}
  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
    resources: {limits: {cpu: 300m}}
    volumeMounts: [{name: info, mountPath: /info}, {name: sec, mountPath: /sec}]
` });
  await waitPod('downward', (x) => x.status?.containerStatuses?.[0]?.state?.running, 'running');
  assert.equal(await exec('downward', 'cat', '/info/labels'), 'tier="one"');
  assert.equal(await exec('downward', 'cat', '/info/cpu'), '300');
  assert.equal(await exec('downward', 'cat', '/sec/key'), 'v1');
  await s.kubectlOk(['label', 'pod', 'downward', 'tier=two', '--overwrite']);
  await s.kubectlOk(['create', 'secret', 'generic', 'rotating', '--from-literal=key=v2', '--dry-run=client', '-o', 'yaml'])
    .then((y) => s.kubectlOk(['apply', '-f', '-'], { input: y }));
  await eventually(async () => (await exec('downward', 'cat', '/info/labels')) === 'tier="two"', 40_000, 'labels file updated');
  await eventually(async () => (await exec('downward', 'cat', '/sec/key')) === 'v2', 40_000, 'secret file updated');
});
