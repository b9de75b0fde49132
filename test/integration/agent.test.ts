// The node agent end to end: a real `skiff server` with its agent (containerd + runc +
// CNI, started by the test in its own data dir), driven with kubectl 1.32 the way a user
// drives it. Pods run from the project's own busybox image; nothing is pulled from a registry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { agentUnavailable, eventually, KUBECTL, startServer, type TestServer } from '../helpers/cluster.ts';
import { isReady, isRunning, podWaiter, TEST_IMAGE } from '../helpers/pods.ts';

const skip = agentUnavailable();
const IMAGE = TEST_IMAGE;
let s: TestServer;

before(async () => {
  if (skip) return;
  s = await startServer({ agent: true });
});
after(async () => {
  await s?.stop();
});

// ---- helpers ----------------------------------------------------------------------------

async function apply(yaml: string): Promise<void> {
  await s.kubectlOk(['apply', '-f', '-'], { input: yaml });
}

const { pod, waitPod } = podWaiter(() => s);
const running = isRunning;
const ready = isReady;

function podYaml(name: string, command: string, extra = ''): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 2
${extra}  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, ${JSON.stringify(command)}]
`;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error(`GET ${url}: no answer in 5 s`)));
  });
}

// ---- tests ------------------------------------------------------------------------------

test('the node registers Ready with the machine capacity, its runtime and a pod CIDR', { skip }, async () => {
  const node = (await s.request('GET', `/api/v1/nodes/${s.nodeName}`)).json;
  const readyCond = node.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal(readyCond.status, 'True', JSON.stringify(readyCond));
  assert.equal(node.status.capacity.cpu, String(os.availableParallelism()));
  assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\./);
  assert.equal(node.status.nodeInfo.kernelVersion, os.release());
  assert.ok(node.spec.podCIDR, 'pod CIDR assigned');
  for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
    assert.ok(node.status.conditions.find((c: any) => c.type === t), `${t} reported`);
  }
  const lease = (await s.request('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${s.nodeName}`)).json;
  assert.equal(lease.spec.holderIdentity, s.nodeName);
});

test('a pod runs with an IP from the node CIDR, serves traffic to the node, and kubectl logs and exec reach it', { skip }, async () => {
  await apply(podYaml('web', 'echo started; mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www'));
  const p = await waitPod('web', running, 'running');
  const node = (await s.request('GET', `/api/v1/nodes/${s.nodeName}`)).json;
  const prefix = node.spec.podCIDR.split('.').slice(0, 3).join('.');
  assert.ok(p.status.podIP.startsWith(prefix + '.'), `${p.status.podIP} in ${node.spec.podCIDR}`);
  assert.ok(p.status.startTime);
  assert.match(p.status.containerStatuses[0].containerID, /^containerd:\/\//);
  const res = await eventually(async () => get(`http://${p.status.podIP}:8080/`).catch(() => undefined), 10_000, 'httpd answering');
  assert.equal(res.body.trim(), 'hello-from-pod');

  assert.equal((await s.kubectlOk(['logs', 'web'])).trim(), 'started');
  assert.equal((await s.kubectlOk(['exec', 'web', '--', 'sh', '-c', 'echo $((40+2))'])).trim(), '42');
  assert.equal(await s.kubectlOk(['exec', '-i', 'web', '--', 'cat'], { input: 'piped through stdin\n' }), 'piped through stdin\n');
  const failed = await s.kubectl(['exec', 'web', '--', 'sh', '-c', 'exit 7']);
  assert.equal(failed.code, 7, failed.stderr);
});

test('kubectl port-forward reaches a port of the pod', { skip }, async () => {
  await waitPod('web', running, 'running');
  const pf = spawn(KUBECTL, ['port-forward', 'pod/web', ':8080'], { env: { ...process.env, KUBECONFIG: s.kubeconfig } });
  try {
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`port-forward did not start: ${out}`)), 15_000);
      pf.stdout.on('data', (d) => { out += d; const m = /127\.0\.0\.1:(\d+)/.exec(out); if (m) { clearTimeout(t); resolve(Number(m[1])); } });
      pf.stderr.on('data', (d) => { out += d; });
    });
    const res = await get(`http://127.0.0.1:${port}/`);
    assert.equal(res.body.trim(), 'hello-from-pod');
  } finally {
    pf.kill();
  }
});

test('exit codes and reasons: Never → Failed with the exit code, OnFailure crash → CrashLoopBackOff with --previous logs', { skip }, async () => {
  await apply(podYaml('exit3', 'exit 3', '  restartPolicy: Never\n'));
  await apply(podYaml('done', 'echo finished', '  restartPolicy: Never\n'));
  await apply(podYaml('crash', 'echo boom; exit 1', '  restartPolicy: OnFailure\n'));
  const failed = await waitPod('exit3', (p) => p.status?.phase === 'Failed', 'Failed');
  assert.deepEqual(
    { code: failed.status.containerStatuses[0].state.terminated.exitCode, reason: failed.status.containerStatuses[0].state.terminated.reason },
    { code: 3, reason: 'Error' });
  const ok = await waitPod('done', (p) => p.status?.phase === 'Succeeded', 'Succeeded');
  assert.equal(ok.status.containerStatuses[0].state.terminated.reason, 'Completed');
  const crash = await waitPod('crash', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff', 'CrashLoopBackOff');
  assert.ok(crash.status.containerStatuses[0].restartCount >= 1);
  assert.equal(crash.status.containerStatuses[0].lastState.terminated.exitCode, 1);
  assert.equal((await s.kubectlOk(['logs', 'crash', '--previous'])).trim(), 'boom');
});

test('a bad command: RunContainerError then CrashLoopBackOff; the termination message is reported', { skip }, async () => {
  await apply(`apiVersion: v1
kind: Pod
metadata: {name: badcmd}
spec:
  containers:
  - {name: main, image: ${IMAGE}, command: [/no/such/program]}
`);
  const p = await waitPod('badcmd', (x) => ['RunContainerError', 'CrashLoopBackOff'].includes(x.status?.containerStatuses?.[0]?.state?.waiting?.reason), 'RunContainerError');
  assert.match(JSON.stringify(p.status.containerStatuses[0].state), /no such file|not found/i);
  const events = await s.kubectlOk(['get', 'events', '--field-selector', 'involvedObject.name=badcmd']);
  assert.match(events, /Failed/);

  await apply(podYaml('goodbye', 'printf "bye now" > /dev/termination-log; exit 4', '  restartPolicy: Never\n'));
  const g = await waitPod('goodbye', (x) => x.status?.phase === 'Failed', 'Failed');
  assert.equal(g.status.containerStatuses[0].state.terminated.message, 'bye now');
});

test('activeDeadlineSeconds fails the pod with DeadlineExceeded and stops it', { skip }, async () => {
  await apply(podYaml('deadline', 'trap "exit 0" TERM; while true; do sleep 1; done', '  activeDeadlineSeconds: 2\n'));
  const p = await waitPod('deadline', (x) => x.status?.phase === 'Failed', 'Failed', 20_000);
  assert.equal(p.status.reason, 'DeadlineExceeded');
  await waitPod('deadline', (x) => x.status.containerStatuses?.[0]?.state?.terminated, 'container stopped', 15_000);
});

test('hostNetwork pods use the node address; hostPort maps a node port to the pod', { skip }, async () => {
  await apply(podYaml('hostnet', 'trap "exit 0" TERM; while true; do sleep 1; done', '  hostNetwork: true\n'));
  await apply(`apiVersion: v1
kind: Pod
metadata: {name: hostport}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, 'mkdir -p /www && echo via-hostport > /www/index.html && exec httpd -f -p 8080 -h /www']
    ports: [{containerPort: 8080, hostPort: 31888}]
`);
  const hn = await waitPod('hostnet', running, 'running');
  assert.equal(hn.status.podIP, hn.status.hostIP);
  const hp = await waitPod('hostport', running, 'running');
  const res = await eventually(async () => get(`http://${hp.status.hostIP}:31888/`).catch(() => undefined), 10_000, 'hostPort answering');
  assert.equal(res.body.trim(), 'via-hostport');
});

test('init containers run in order before the app, sharing an emptyDir', { skip }, async () => {
  await apply(`apiVersion: v1
kind: Pod
metadata: {name: inits}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  volumes: [{name: work, emptyDir: {}}, {name: mem, emptyDir: {medium: Memory}}]
  initContainers:
  - {name: first, image: ${IMAGE}, command: [sh, -c, 'echo one > /work/log'], volumeMounts: [{name: work, mountPath: /work}]}
  - {name: second, image: ${IMAGE}, command: [sh, -c, 'echo two >> /work/log'], volumeMounts: [{name: work, mountPath: /work}]}
  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, 'cat /work/log; grep " /mem " /proc/mounts | cut -d" " -f3']
    volumeMounts: [{name: work, mountPath: /work}, {name: mem, mountPath: /mem}]
`);
  const p = await waitPod('inits', (x) => x.status?.phase === 'Succeeded', 'Succeeded');
  assert.deepEqual(p.status.initContainerStatuses.map((c: any) => c.state.terminated?.reason), ['Completed', 'Completed']);
  assert.equal((await s.kubectlOk(['logs', 'inits'])).trim(), 'one\ntwo\ntmpfs');
});

test('configMap and secret volumes and env, updated in place when the ConfigMap changes', { skip }, async () => {
  await s.kubectlOk(['create', 'configmap', 'settings', '--from-literal=color=blue', '--from-literal=size=10']);
  await s.kubectlOk(['create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret']);
  await apply(`apiVersion: v1
kind: Pod
metadata: {name: config, labels: {app: cfg}}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: cfg, configMap: {name: settings}}
  - {name: sec, secret: {secretName: creds}}
  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, 'echo "$COLOR $PASSWORD $POD_NAME $MY_IP"; trap "exit 0" TERM; while true; do sleep 1; done']
    env:
    - {name: COLOR, valueFrom: {configMapKeyRef: {name: settings, key: color}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MY_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    volumeMounts: [{name: cfg, mountPath: /etc/cfg}, {name: sec, mountPath: /etc/sec, readOnly: true}]
`);
  const p = await waitPod('config', running, 'running');
  assert.equal((await s.kubectlOk(['logs', 'config'])).trim(), `blue s3cret config ${p.status.podIP}`);
  assert.equal((await s.kubectlOk(['exec', 'config', '--', 'cat', '/etc/cfg/size', '/etc/sec/password'])), '10s3cret');
  await s.kubectlOk(['patch', 'configmap', 'settings', '-p', '{"data":{"size":"20"}}']);
  await eventually(async () => (await s.kubectl(['exec', 'config', '--', 'cat', '/etc/cfg/size'])).stdout === '20', 40_000, 'configMap volume updated');

  await apply(podYaml('missing-cm', 'echo $X', `  restartPolicy: Never\n`).replace('    command:', '    env: [{name: X, valueFrom: {configMapKeyRef: {name: nope, key: x}}}]\n    command:'));
  const m = await waitPod('missing-cm', (x) => x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError', 'CreateContainerConfigError');
  assert.match(m.status.containerStatuses[0].state.waiting.message, /configmap "nope" not found/);
});

test('probes: a failing liveness probe restarts the container; readiness follows an httpGet probe', { skip }, async () => {
  await apply(`apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, 'touch /tmp/healthy; mkdir -p /www; echo ok > /www/index.html; httpd -p 8080 -h /www; sleep 2; rm /tmp/healthy; trap "exit 0" TERM; while true; do sleep 1; done']
    livenessProbe: {exec: {command: [test, -f, /tmp/healthy]}, periodSeconds: 1, failureThreshold: 2}
    readinessProbe: {httpGet: {path: /index.html, port: 8080}, periodSeconds: 1}
`);
  await waitPod('probed', ready, 'Ready (readiness probe passed)', 20_000);
  const restarted = await waitPod('probed', (p) => p.status?.containerStatuses?.[0]?.restartCount >= 1, 'restarted by liveness', 30_000);
  assert.ok(restarted.status.containerStatuses[0].restartCount >= 1);
  const events = await s.kubectlOk(['get', 'events', '--field-selector', 'involvedObject.name=probed']);
  assert.match(events, /Liveness probe failed/);
});

test('a container over its memory limit is OOMKilled and says so', { skip }, async () => {
  await apply(`apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, 'head -c 200000000 /dev/zero | tail']
    resources: {limits: {memory: 20Mi}}
`);
  const p = await waitPod('hog', (x) => x.status?.phase === 'Failed', 'Failed', 40_000);
  assert.equal(p.status.containerStatuses[0].state.terminated.reason, 'OOMKilled');
  assert.equal(p.status.containerStatuses[0].state.terminated.exitCode, 137);
});

test('a missing image: ErrImagePull, then ImagePullBackOff', { skip }, async () => {
  await apply(podYaml('noimage', 'true').replace(IMAGE, '127.0.0.1:1/skiff/nope:1'));
  await waitPod('noimage', (p) => ['ErrImagePull', 'ImagePullBackOff'].includes(p.status?.containerStatuses?.[0]?.state?.waiting?.reason), 'ErrImagePull');
  await waitPod('noimage', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff', 'ImagePullBackOff');
});

test('deleting a pod stops its containers within the grace period and removes it', { skip }, async () => {
  await apply(podYaml('doomed', 'trap "exit 0" TERM; while true; do sleep 1; done'));
  await waitPod('doomed', running, 'running');
  const t0 = Date.now();
  await s.kubectlOk(['delete', 'pod', 'doomed', '--wait=true']);
  assert.ok(Date.now() - t0 < 15_000, `deleted in ${Date.now() - t0} ms`);
  assert.equal((await s.request('GET', '/api/v1/namespaces/default/pods/doomed')).status, 404);
});

test('containerd killed: it is restarted and the pods keep running', { skip }, async () => {
  const before = await waitPod('web', running, 'running');
  const pidFile = path.join(s.dataDir, 'agent', 'containerd', 'containerd.pid');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  process.kill(pid, 'SIGKILL');
  await eventually(async () => { const n = Number(readFileSync(pidFile, 'utf8')); return n !== pid && n > 0; }, 20_000, 'containerd restarted');
  await apply(podYaml('after-restart', 'echo after'));
  await waitPod('after-restart', (p) => p.status?.containerStatuses?.[0]?.restartCount >= 0 && (p.status.phase === 'Running' || p.status.containerStatuses?.[0]?.lastState?.terminated), 'ran after the restart', 30_000);
  const after = await pod('web');
  assert.equal(after.status.containerStatuses[0].containerID, before.status.containerStatuses[0].containerID);
  assert.equal(after.status.containerStatuses[0].restartCount, before.status.containerStatuses[0].restartCount);
});
