// Resource metrics end to end: a real `skiff server` with its agent; `kubectl top` reads
// metrics.k8s.io (scraped from the agent's /metrics/resource), the agent's own /metrics is
// Prometheus text, and `kubectl autoscale` scales a CPU-bound Deployment up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { agentUnavailable, eventually, startServer, type TestServer } from '../helpers/cluster.ts';

const skip = agentUnavailable();
const IMAGE = 'skiff.local/busybox:1';
let s: TestServer;

before(async () => {
  if (skip) return;
  s = await startServer({ agent: true });
});
after(async () => {
  await s?.stop();
});

const busyPod = (name: string, labels: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {${labels}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: spin
    image: ${IMAGE}
    command: [sh, -c, 'while true; do :; done']
    resources: {limits: {cpu: 200m, memory: 64Mi}}
`;

/** "busy   123m   1Mi" → millicores and bytes-ish numbers of the row for `name`. */
function row(out: string, name: string): string[] | undefined {
  return out.split('\n').map((l) => l.trim().split(/\s+/)).find((cols) => cols.includes(name));
}
const milli = (cpu: string) => (cpu.endsWith('m') ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000);
const mem = (m: string) => Number(m.replace(/[A-Za-z]+$/, ''));

test('kubectl top pods and nodes show a busy pod using CPU and memory', { skip, timeout: 90_000 }, async () => {
  await s.kubectlOk(['apply', '-f', '-'], { input: busyPod('busy', 'app: busy') });
  await eventually(async () => (await s.request('GET', '/api/v1/namespaces/default/pods/busy')).json?.status?.phase === 'Running', 30_000, 'busy running');

  const top = await eventually(async () => {
    const r = await s.kubectl(['top', 'pods']);
    const cols = r.code === 0 ? row(r.stdout, 'busy') : undefined;
    return cols && milli(cols[1]!) > 0 && /^\d+Mi$/.test(cols[2]!) && r.stdout;
  }, 45_000, 'kubectl top pods to show busy using CPU');
  console.log(top);
  const cpu = milli(row(top, 'busy')![1]!);
  assert.ok(cpu > 50 && cpu <= 260, `busy loop under a 200m limit uses about 200m, got ${cpu}m`);

  const nodes = await s.kubectlOk(['top', 'nodes']);
  console.log(nodes);
  const n = row(nodes, s.nodeName!);
  assert.ok(n, nodes);
  assert.ok(milli(n[1]!) > 0 && mem(n[3]!) > 0, nodes);
  assert.match(n[2]!, /^\d+%$/);

  const all = await s.kubectlOk(['top', 'pods', '-A', '-l', 'app=busy', '--containers']);
  console.log(all);
  assert.ok(row(all, 'spin'), all);
  void mem;
  assert.match(all, /NAMESPACE\s+POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
  const none = await s.kubectl(['top', 'pods', '-l', 'app=nothing']);
  assert.match(none.stdout + none.stderr, /No resources found/);

  // The raw objects are shaped as metrics-server's.
  const pm = (await s.request('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy')).json;
  assert.equal(pm.kind, 'PodMetrics');
  assert.equal(pm.metadata.labels.app, 'busy');
  assert.match(pm.window, /^\d+(\.\d+)?s$/);
  assert.match(pm.containers[0].usage.cpu, /^\d+[num]?$/);
  assert.match(pm.containers[0].usage.memory, /^\d+(Ki|Mi)?$/);
  assert.ok(parseInt(pm.containers[0].usage.memory, 10) > 0, 'memory working set > 0');
  const missing = await s.request('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope');
  assert.equal(missing.status, 404);
  await s.kubectl(['delete', 'pod', 'busy', '--wait=false']);
});

test('the agent serves Prometheus text on /metrics and /metrics/resource', { skip }, async () => {
  const node = (await s.request('GET', `/api/v1/nodes/${s.nodeName}`)).json;
  const port = node.status.daemonEndpoints.kubeletEndpoint.Port;
  const kc = YAML.parse(readFileSync(s.kubeconfig, 'utf8'));
  const cert = Buffer.from(kc.users[0].user['client-certificate-data'], 'base64');
  const key = Buffer.from(kc.users[0].user['client-key-data'], 'base64');
  const get = (path: string) => new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, cert, key, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
  const own = await get('/metrics');
  assert.equal(own.status, 200);
  assert.match(own.type, /^text\/plain; version=0\.0\.4/);
  assert.match(own.body, /^# TYPE process_resident_memory_bytes gauge$/m);
  assert.match(own.body, /^process_resident_memory_bytes \d+/m);
  assert.match(own.body, /^skiff_agent_pods_running \d+/m);
  const res = await get('/metrics/resource');
  assert.equal(res.status, 200);
  assert.match(res.body, /^node_cpu_usage_seconds_total [\d.e+]+ \d{13}$/m);
  assert.match(res.body, /^node_memory_working_set_bytes [\d.e+]+ \d{13}$/m);
  assert.match(res.body, /^resource_scrape_error 0$/m);
});

test('kubectl autoscale makes an HPA that scales a CPU-bound Deployment up', { skip, timeout: 90_000 }, async () => {
  await s.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: apps/v1
kind: Deployment
metadata: {name: hog}
spec:
  replicas: 1
  selector: {matchLabels: {app: hog}}
  template:
    metadata: {labels: {app: hog}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: spin
        image: ${IMAGE}
        command: [sh, -c, 'while true; do :; done']
        resources: {requests: {cpu: 50m}, limits: {cpu: 100m}}
` });
  // kubectl 1.32 posts an autoscaling/v1 HPA; the server stores it as autoscaling/v2.
  const created = await s.kubectlOk(['autoscale', 'deployment', 'hog', '--cpu-percent=50', '--min=1', '--max=3']);
  assert.match(created, /horizontalpodautoscaler.autoscaling\/hog autoscaled/);
  const hpa = (await s.request('GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/hog')).json;
  assert.deepEqual(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  const started = Date.now();
  await eventually(async () => (await s.request('GET', '/apis/apps/v1/namespaces/default/deployments/hog')).json?.spec?.replicas === 3, 60_000, 'hog scaled to 3')
    .catch(async (err) => { throw new Error(`${(err as Error).message}\n${await s.kubectlOk(['describe', 'hpa', 'hog'])}`); });
  console.log(`scaled to 3 in ${Date.now() - started} ms`);
  const table = await s.kubectlOk(['get', 'hpa']);
  console.log(table);
  assert.match(table, /NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE/);
  assert.match(table, /hog\s+Deployment\/hog\s+cpu: \d+%\/50%\s+1\s+3\s+\d/);
  const st = (await s.request('GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/hog')).json.status;
  assert.equal(st.desiredReplicas, 3);
  assert.ok(st.currentMetrics[0].resource.current.averageUtilization > 50, JSON.stringify(st));
  const cond = (t: string) => st.conditions.find((c: any) => c.type === t);
  assert.equal(cond('ScalingActive').status, 'True');
  assert.equal(cond('AbleToScale').status, 'True');
  await s.kubectl(['delete', 'hpa', 'hog']);
  await s.kubectl(['delete', 'deployment', 'hog', '--wait=false']);
});

test('a bad HorizontalPodAutoscaler is refused with field causes', { skip }, async () => {
  const r = await s.request('POST', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', {
    body: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' }, spec: { minReplicas: 0, maxReplicas: 0, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }] } },
  });
  assert.equal(r.status, 422, r.text);
  const fields = r.json.details.causes.map((c: any) => c.field).sort();
  assert.deepEqual(fields, ['spec.maxReplicas', 'spec.metrics[0].resource.target.averageUtilization', 'spec.minReplicas', 'spec.scaleTargetRef'].sort());
});
