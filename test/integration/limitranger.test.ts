// LimitRanger admission through kubectl: defaults filled in from a LimitRange, and pods
// outside its min/max/ratio refused with kube-apiserver's messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const pod = (name: string, resources: object) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'limited' }, spec: { containers: [{ name: 'c', image: 'busybox', resources }] } });

test('LimitRange defaults and bounds', async () => {
  await s.kubectlOk(['create', 'namespace', 'limited']);
  await s.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: v1
kind: LimitRange
metadata: { name: bounds, namespace: limited }
spec:
  limits:
    - type: Container
      max: { cpu: "1", memory: 512Mi }
      min: { cpu: 50m }
      default: { memory: 256Mi }
      defaultRequest: { cpu: 100m }
      maxLimitRequestRatio: { cpu: "10" }
` });
  // Kubernetes' LimitRange defaulting: default ← max, defaultRequest ← default, then ← min.
  const lr = JSON.parse(await s.kubectlOk(['get', 'limitrange', 'bounds', '-n', 'limited', '-o', 'json']));
  assert.deepEqual(lr.spec.limits[0].default, { cpu: '1', memory: '256Mi' });
  assert.deepEqual(lr.spec.limits[0].defaultRequest, { cpu: '100m', memory: '256Mi' });

  // A pod with nothing set gets the defaults and the annotation saying so (the cache may lag a moment).
  let created: any;
  for (let i = 0; i < 50 && !created?.metadata?.annotations?.['kubernetes.io/limit-ranger']; i++) {
    await s.kubectl(['delete', 'pod', 'plain', '-n', 'limited', '--wait=false']);
    created = JSON.parse(await s.kubectlOk(['create', '-f', '-', '-o', 'json'], { input: pod('plain', {}) }));
  }
  assert.deepEqual(created.spec.containers[0].resources, { limits: { cpu: '1', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
  assert.equal(created.metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c');

  const tooBig = await s.kubectl(['create', '-f', '-'], { input: pod('big', { limits: { cpu: '2' }, requests: { cpu: '1' } }) });
  assert.notEqual(tooBig.code, 0);
  assert.match(tooBig.stderr, /pods "big" is forbidden: \[maximum cpu usage per Container is 1, but limit is 2/);

  const tooSmall = await s.kubectl(['create', '-f', '-'], { input: pod('small', { requests: { cpu: '10m' }, limits: { cpu: '20m' } }) });
  assert.match(tooSmall.stderr, /minimum cpu usage per Container is 50m, but request is 10m/);

  const ratio = await s.kubectl(['create', '-f', '-'], { input: pod('ratio', { requests: { cpu: '50m' }, limits: { cpu: '800m' } }) });
  assert.match(ratio.stderr, /cpu max limit to request ratio per Container is 10, but provided ratio is 16\.000000/);
  for (const name of ['big', 'small', 'ratio']) assert.equal((await s.kubectl(['get', 'pod', name, '-n', 'limited'])).code, 1);

  // Other namespaces are not touched.
  const free = JSON.parse(await s.kubectlOk(['run', 'free', '--image=busybox', '-o', 'json']));
  assert.deepEqual(free.spec.containers[0].resources, {});
});
