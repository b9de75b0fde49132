// Services end to end on a real node: `skiff server` with its agent (containerd, runc, CNI,
// the nftables service proxy), busybox pods serving their hostname over HTTP, and the
// traffic users send: from a pod (wget through kubectl exec), from the node itself, to a
// NodePort at the node's address. DNS is not used (another component's); Services are
// reached by IP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { agentUnavailable, eventually, startServer, type TestServer } from '../helpers/cluster.ts';
import { isReady, podWaiter, TEST_IMAGE } from '../helpers/pods.ts';
import { agentDirOf } from '../../src/agent/agent.ts';
import { agentNames } from '../../src/agent/containerd/names.ts';
import { proxyTableName } from '../../src/proxy/index.ts';

const run = promisify(execFile);
const skip = agentUnavailable();
let s: TestServer;
let table: string;

before(async () => {
  if (skip) return;
  s = await startServer({ agent: true });
  table = proxyTableName(agentNames(agentDirOf(s.dataDir)));
});
after(async () => {
  await s?.stop();
});

const { waitPod } = podWaiter(() => s);

const SERVE = 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www';

function pod(name: string, labels: Record<string, string>, command: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: ${JSON.stringify(labels)}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: ${TEST_IMAGE}
    command: [sh, -c, ${JSON.stringify(command)}]
`;
}

function service(name: string, selector: Record<string, string>, type = 'ClusterIP'): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  type: ${type}
  selector: ${JSON.stringify(selector)}
  ports: [{port: 80, targetPort: 8080}]
`;
}

async function clusterIP(name: string): Promise<string> {
  return (await s.request('GET', `/api/v1/namespaces/default/services/${name}`)).json.spec.clusterIP;
}

/** GET from this process (the node's root namespace): the body, or the error code. */
function get(url: string): Promise<{ body?: string; err?: string; ms: number }> {
  const t = Date.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ body: body.trim(), ms: Date.now() - t }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ err: e.code ?? e.message, ms: Date.now() - t }));
    req.setTimeout(3000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
  });
}

async function getMany(url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await get(url);
    out.push(r.body ?? `error:${r.err}`);
  }
  return out;
}

/**
 * n HTTP GETs from inside a pod, one kubectl exec; the last line of each answer. (busybox
 * nc, not wget: this image's static wget crashes with SIGSEGV in pods.)
 */
async function getFrom(podName: string, ip: string, n: number): Promise<string[]> {
  const script = `for i in $(seq ${n}); do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 80 | tail -n 1 || echo failed; done`;
  const r = await s.kubectl(['exec', podName, '--', 'sh', '-c', script], { timeoutMs: 60_000 });
  return r.stdout.trim().split('\n');
}

async function nftTable(): Promise<string | undefined> {
  return run('nft', ['list', 'table', 'ip', table]).then((r) => r.stdout, () => undefined);
}

const webPods = ['web-0', 'web-1', 'web-2'];
let webIP = '';

test('a ClusterIP Service spreads over its ready pods, from a pod and from the node', { skip }, async () => {
  // Ready only while /tmp/unready does not exist.
  const probe = `    readinessProbe: {exec: {command: [sh, -c, 'test ! -e /tmp/unready']}, periodSeconds: 1, failureThreshold: 1}\n`;
  const pods = webPods.map((n) => pod(n, { app: 'web' }, SERVE) + probe).join('---\n');
  await s.kubectlOk(['apply', '-f', '-'], { input: `${pods}---\n${pod('client', { app: 'client' }, 'exec sleep 3600')}---\n${service('web', { app: 'web' })}` });
  for (const n of [...webPods, 'client']) await waitPod(n, isReady, 'ready', 60_000);
  webIP = await clusterIP('web');
  const url = `http://${webIP}/`;
  // The endpoints may lag the pods' readiness by a moment.
  const seen = await eventually(async () => {
    const got = new Set(await getFrom('client', webIP, 30));
    return webPods.every((p) => got.has(p)) && got;
  }, 30_000, 'every web pod answers through the ClusterIP from a pod');
  assert.deepEqual([...seen].sort(), webPods);
  const fromNode = new Set(await getMany(url, 30));
  assert.deepEqual([...fromNode].sort(), webPods, 'from the node');
});

test('a NodePort Service answers at the node address', { skip }, async () => {
  await s.kubectlOk(['apply', '-f', '-'], { input: service('web-np', { app: 'web' }, 'NodePort') });
  const svc = (await s.request('GET', '/api/v1/namespaces/default/services/web-np')).json;
  const nodePort = svc.spec.ports[0].nodePort;
  const node = (await s.request('GET', `/api/v1/nodes/${s.nodeName}`)).json;
  const nodeIP = node.status.addresses.find((a: any) => a.type === 'InternalIP').address;
  const got = await eventually(async () => {
    const r = new Set(await getMany(`http://${nodeIP}:${nodePort}/`, 20));
    return webPods.every((p) => r.has(p)) && r.size === webPods.length && r;
  }, 20_000, 'every web pod answers through the NodePort');
  assert.deepEqual([...got].sort(), webPods);
});

test('a Service without endpoints refuses at once', { skip }, async () => {
  await s.kubectlOk(['apply', '-f', '-'], { input: service('nothing', { app: 'nothing' }) });
  const ip = await clusterIP('nothing');
  const r = await eventually(async () => { const g = await get(`http://${ip}/`); return g.err === 'ECONNREFUSED' && g; }, 10_000, 'refused');
  assert.ok(r.ms < 1000, `${r.ms} ms`);
  const fromPod = await s.kubectl(['exec', 'client', '--', 'sh', '-c', `nc -w 3 ${ip} 80 </dev/null; echo rc=$?`]);
  assert.match(fromPod.stdout, /rc=1/);
  assert.match(fromPod.stderr, /refused/i);
});

test('a pod that turns unready stops getting traffic', { skip }, async () => {
  await s.kubectlOk(['exec', 'web-0', '--', 'touch', '/tmp/unready']);
  await waitPod('web-0', (p) => !isReady(p), 'unready', 20_000);
  await eventually(async () => !(await getMany(`http://${webIP}/`, 10)).includes('web-0'), 10_000, 'web-0 out of rotation');
  const after = await getMany(`http://${webIP}/`, 30);
  assert.ok(!after.includes('web-0'), after.join(' '));
  assert.deepEqual([...new Set(after)].sort(), ['web-1', 'web-2']);
});

test('a pod reaches itself through its own Service (hairpin)', { skip }, async () => {
  await s.kubectlOk(['apply', '-f', '-'], { input: `${pod('solo', { app: 'solo' }, SERVE)}---\n${service('solo', { app: 'solo' })}` });
  await waitPod('solo', isReady, 'ready', 60_000);
  const ip = await clusterIP('solo');
  const got = await eventually(async () => { const r = await getFrom('solo', ip, 3); return r.every((l) => l === 'solo') && r; }, 20_000, 'solo answers itself');
  assert.deepEqual(got, ['solo', 'solo', 'solo']);
});

test('the kubernetes Service reaches the API server from a pod and from the node', { skip }, async () => {
  const ip = (await s.request('GET', '/api/v1/namespaces/default/services/kubernetes')).json.spec.clusterIP;
  const status = await new Promise<number | string>((resolve) => {
    const req = https.get({ host: ip, port: 443, path: '/version', rejectUnauthorized: false, agent: false }, (res) => { res.resume(); resolve(res.statusCode!); });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.setTimeout(3000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
  });
  assert.ok(typeof status === 'number', `from the node: ${status}`);
  const fromPod = await s.kubectl(['exec', 'client', '--', 'sh', '-c', `nc -w 3 ${ip} 443 </dev/null; echo rc=$?`]);
  assert.match(fromPod.stdout, /rc=0/, fromPod.stderr);
});

test('deleting a Service removes its rules; killall removes the table', { skip }, async () => {
  assert.match((await nftTable()) ?? '', new RegExp(webIP.replaceAll('.', '\\.')));
  await s.kubectlOk(['delete', 'service', 'web', 'web-np']);
  await eventually(async () => !(await nftTable())?.includes(webIP), 10_000, 'rules for web gone');
  await s.stop();
  assert.equal(await nftTable(), undefined, 'table removed by killall');
});
