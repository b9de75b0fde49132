// kubectl logs, exec and port-forward through a real `skiff server` to a node agent's
// kubelet-like server (src/agent/server) with a fake runtime behind it: CRI log files
// written by the test, and a stand-in for containerd's streaming server that records the
// upgrade it receives. The Node object points at the fake agent; pods are bound to it and
// given a status through the status subresource.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import YAML from 'yaml';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { startServer, eventually, KUBECTL, type TestServer } from '../helpers/cluster.ts';
import { startKubeletServer, type KubeletServer, type PodStreamBackend, type ContainerRef, type StreamFlags } from '../../src/agent/server/index.ts';
import { silentLogger } from '../../src/util/log.ts';
import { issueServingCertificate } from '../../src/apiserver/pki/issue-certificates.ts';

let s: TestServer;
let agent: KubeletServer;
let upstream: http.Server;
let upstreamUrl = '';
const upstreamSockets = new Set<Socket>();
const dir = mkdtempSync(join(tmpdir(), 'pod-streams-'));
const calls: { op: string; args: unknown[] }[] = [];
const upstreamSeen: { url: string; method: string; headers: Record<string, string | string[] | undefined>; bytes: Buffer[] }[] = [];

const log = (name: string, lines: string[]) => {
  const p = join(dir, name);
  writeFileSync(p, lines.map((l) => `${l}\n`).join(''));
  return p;
};
const ref = (id: string, logPath: string, previousLogPath?: string): ContainerRef =>
  ({ containerId: id, podSandboxId: `sb-${id}`, logPath, previousLogPath, tty: false, stdin: false, running: true });

let containers: Record<string, ContainerRef> = {};
const backend: PodStreamBackend = {
  container: (ns, pod, c) => containers[`${ns}/${pod}/${c}`],
  sandbox: (ns, pod) => {
    const c = Object.entries(containers).find(([k]) => k.startsWith(`${ns}/${pod}/`));
    return c && { podSandboxId: c[1].podSandboxId };
  },
  async exec(id: string, cmd: string[], o: StreamFlags) { calls.push({ op: 'exec', args: [id, cmd, o] }); return `${upstreamUrl}/exec/tok-${id}`; },
  async attach(id: string, o: StreamFlags) { calls.push({ op: 'attach', args: [id, o] }); return `${upstreamUrl}/attach/tok-${id}`; },
  async portForward(sb: string, ports: number[]) { calls.push({ op: 'portForward', args: [sb, ports] }); return `${upstreamUrl}/portforward/tok-${sb}`; },
};

async function create(path: string, body: unknown) {
  const r = await s.request('POST', path, { body });
  assert.ok(r.status < 300, `${path}: ${r.status} ${r.text}`);
  return r.json;
}
/** Replaces an object's status, retrying when a controller wrote in between (409). */
async function setStatus(path: string, status: unknown) {
  for (let attempt = 0; ; attempt++) {
    const obj = (await s.request('GET', path)).json;
    const r = await s.request('PUT', `${path}/status`, { body: { ...obj, status: { ...obj.status, ...(status as object) } } });
    if (r.status === 409 && attempt < 10) continue;
    assert.ok(r.status < 300, `${path}/status: ${r.status} ${r.text}`);
    return;
  }
}
const running = (name: string, extra: Record<string, unknown> = {}) =>
  ({ name, ready: true, restartCount: 0, image: 'busybox', imageID: '', containerID: `containerd://${name}`, state: { running: { startedAt: '2024-01-01T00:00:00Z' } }, ...extra });

before(async () => {
  s = await startServer({ args: ['--disable-agent'] });
  const ca = readFileSync(join(s.dataDir, 'tls', 'ca.crt'), 'utf8');
  upstream = http.createServer((_req, res) => { res.writeHead(404); res.end(); });
  upstream.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    upstreamSockets.add(socket);
    socket.on('end', () => socket.end());
    socket.on('close', () => upstreamSockets.delete(socket));
    const seen = { url: req.url!, method: req.method!, headers: req.headers, bytes: [] as Buffer[] };
    upstreamSeen.push(seen);
    socket.on('error', () => {});
    const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((p) => p.trim());
    const proto = offered.find((p) => p !== 'v5.channel.k8s.io') ?? '';
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${proto}\r\n\r\n`);
    if (head.length) seen.bytes.push(head);
    // Record what the client speaks after the upgrade (SPDY frames).
    socket.on('data', (d: Buffer) => { seen.bytes.push(d); });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  // The API server checks agents' serving certificates against the cluster CA (a real agent gets one by CSR).
  const issued = await issueServingCertificate({ certPem: ca, keyPem: readFileSync(join(s.dataDir, 'tls', 'ca.key'), 'utf8') }, { dns: ['fake-node'], ips: ['127.0.0.1'] }, new Date());
  const serving = { ...issued, certPath: '', keyPath: '' };
  agent = await startKubeletServer({ host: '127.0.0.1', port: 0, tls: serving, clientCaPem: ca, backend, log: silentLogger, followPollMs: 50 });

  await create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'fake-node' } });
  await setStatus('/api/v1/nodes/fake-node', {
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'fake-node' }],
      daemonEndpoints: { kubeletEndpoint: { Port: agent.port } },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
  });

  const pod = (name: string, cs: string[], extra: Record<string, unknown> = {}) => create('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { nodeName: 'fake-node', containers: cs.map((c) => ({ name: c, image: 'busybox' })), ...extra },
  });
  await pod('one', ['app']);
  await pod('two', ['a', 'b'], { initContainers: [{ name: 'init', image: 'busybox' }] });
  await pod('waiting', ['w']);
  await create('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unbound' }, spec: { containers: [{ name: 'u', image: 'busybox' }] } });
  await setStatus('/api/v1/namespaces/default/pods/one', { phase: 'Running', containerStatuses: [running('app', { restartCount: 1, lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: 'containerd://old' } } })] });
  await setStatus('/api/v1/namespaces/default/pods/two', { phase: 'Running', containerStatuses: [running('a'), running('b')], initContainerStatuses: [{ ...running('init'), state: { terminated: { exitCode: 0, reason: 'Completed', containerID: 'containerd://init' } } }] });
  await setStatus('/api/v1/namespaces/default/pods/waiting', { phase: 'Pending', containerStatuses: [{ name: 'w', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { waiting: { reason: 'ContainerCreating' } } }] });

  containers = {
    'default/one/app': ref('one-app', log('one.log', [
      '2024-01-01T00:00:01.000000001Z stdout F first line',
      '2024-01-01T00:00:02Z stderr F second line',
      '2024-01-01T00:00:03Z stdout P third ',
      '2024-01-01T00:00:03.5Z stdout F line',
    ]), log('one-prev.log', ['2023-12-31T23:59:59Z stdout F before the restart'])),
    'default/two/a': ref('two-a', log('two-a.log', ['2024-01-01T00:00:01Z stdout F from a'])),
    'default/two/b': ref('two-b', log('two-b.log', ['2024-01-01T00:00:01Z stdout F from b'])),
    'default/two/init': ref('two-init', log('two-init.log', ['2024-01-01T00:00:01Z stdout F from init'])),
  };
});

after(async () => {
  await agent?.close();
  upstream?.closeAllConnections();
  for (const sock of upstreamSockets) sock.destroy();
  await new Promise((r) => upstream ? upstream.close(r) : r(undefined));
  await s?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('discovery lists the pod stream subresources', async () => {
  const list = (await s.request('GET', '/api/v1')).json;
  const byName = new Map(list.resources.map((r: any) => [r.name, r]));
  assert.deepEqual((byName.get('pods/log') as any)?.verbs, ['get']);
  assert.deepEqual((byName.get('pods/exec') as any)?.verbs, ['create', 'get']);
  assert.equal((byName.get('pods/exec') as any)?.kind, 'PodExecOptions');
  assert.ok(byName.has('pods/attach') && byName.has('pods/portforward'));
});

test('kubectl logs reads the container log through the agent', async () => {
  assert.equal(await s.kubectlOk(['logs', 'one']), 'first line\nsecond line\nthird line\n');
  assert.equal(await s.kubectlOk(['logs', 'one', '--tail=1']), 'third line\n');
  assert.equal(await s.kubectlOk(['logs', 'one', '--tail=2', '--timestamps']), '2024-01-01T00:00:02Z second line\n2024-01-01T00:00:03Z third line\n');
  assert.equal(await s.kubectlOk(['logs', 'one', '--limit-bytes=5']), 'first');
  assert.equal(await s.kubectlOk(['logs', 'one', '--since-time=2024-01-01T00:00:02Z']), 'second line\nthird line\n');
  assert.equal(await s.kubectlOk(['logs', 'one', '--previous']), 'before the restart\n');
  assert.equal(await s.kubectlOk(['logs', 'two', '-c', 'b']), 'from b\n');
  assert.equal(await s.kubectlOk(['logs', 'two', '-c', 'init']), 'from init\n');
  assert.equal(await s.kubectlOk(['logs', 'pod/two', '-c', 'a']), 'from a\n');
});

test('kubectl logs -f follows the log as it grows', async () => {
  const child = spawn(KUBECTL, ['logs', '-f', '--tail=1', 'one'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.dataDir } });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  try {
    await eventually(async () => out === 'third line\n', 10_000, 'the tail line');
    appendFileSync(containers['default/one/app']!.logPath, '2024-01-01T00:00:04Z stdout F appended later\n');
    await eventually(async () => out.endsWith('appended later\n'), 10_000, `the appended line (have ${JSON.stringify(out)})`);
    assert.equal(child.exitCode, null, 'still following');
  } finally {
    child.kill();
  }
});

test('log errors are the ones kube-apiserver and the kubelet give', async () => {
  const multi = await s.request('GET', '/api/v1/namespaces/default/pods/two/log');
  assert.equal(multi.status, 400);
  assert.equal(multi.json.message, 'a container name must be specified for pod two, choose one of: [a b] or one of the init containers: [init]');
  const bad = await s.kubectl(['logs', 'two', '-c', 'nope']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /container nope is not valid for pod two/);
  const waiting = await s.kubectl(['logs', 'waiting']);
  assert.match(waiting.stderr, /Error from server \(BadRequest\): container "w" in pod "waiting" is waiting to start: ContainerCreating/);
  const noPrev = await s.kubectl(['logs', 'two', '-c', 'a', '--previous']);
  assert.match(noPrev.stderr, /previous terminated container "a" in pod "two" not found/);
  const missing = await s.kubectl(['logs', 'ghost']);
  assert.match(missing.stderr, /pods "ghost" not found/);
  const negative = await s.request('GET', '/api/v1/namespaces/default/pods/one/log?tailLines=-1');
  assert.equal(negative.status, 422);
  // kube-apiserver answers an unscheduled pod's log with an empty stream.
  const unbound = await s.request('GET', '/api/v1/namespaces/default/pods/unbound/log');
  assert.equal(unbound.status, 200);
  assert.equal(unbound.text, '');
});

test('exec, attach and port-forward need an upgrade; a WebSocket one offering only v3 is refused with 400', async () => {
  const plain = await s.request('POST', '/api/v1/namespaces/default/pods/one/exec?command=ls&stdout=true');
  assert.equal(plain.status, 400);
  assert.equal(plain.json.message, 'Upgrade request required');
  const ws = await s.request('GET', '/api/v1/namespaces/default/pods/one/exec?command=ls&stdout=true', {
    headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v3.channel.k8s.io' },
  });
  assert.equal(ws.status, 400);
  assert.match(ws.json.message, /SPDY/);
  const anon = await s.request('POST', '/api/v1/namespaces/default/pods/one/exec?command=ls&stdout=true', { anonymous: true, headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' } });
  assert.equal(anon.status, 403); // system:anonymous may not exec
});

/** A raw WebSocket upgrade request to the API server: the answer's status and headers (the socket is dropped). */
function websocketUpgrade(path: string, protocols: string): Promise<{ status: number; body: string }> {
  const kc = YAML.parse(readFileSync(s.kubeconfig, 'utf8'));
  const b64 = (v: string) => Buffer.from(v, 'base64');
  return new Promise((resolve, reject) => {
    const req = https.request(s.url + path, {
      agent: false, ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
      cert: b64(kc.users[0].user['client-certificate-data']), key: b64(kc.users[0].user['client-key-data']),
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': protocols },
    });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode!, body: '' }); });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a WebSocket upgrade offering a channel protocol the runtime speaks is passed through with its handshake', async () => {
  calls.length = 0;
  upstreamSeen.length = 0;
  const r = await websocketUpgrade('/api/v1/namespaces/default/pods/two/exec?command=ls&stdout=true&stdin=true&container=b',
    'v4.channel.k8s.io, base64.channel.k8s.io, base64url.bearer.authorization.k8s.io.c2VjcmV0');
  assert.equal(r.status, 101, r.body);
  assert.deepEqual(calls, [{ op: 'exec', args: ['two-b', ['ls'], { stdin: true, stdout: true, stderr: false, tty: false }] }]);
  const seen = upstreamSeen[0]!;
  assert.equal(seen.method, 'GET');
  assert.equal(seen.url, '/exec/tok-two-b');
  assert.equal(seen.headers.upgrade, 'websocket');
  assert.equal(seen.headers['sec-websocket-key'], 'dGhlIHNhbXBsZSBub25jZQ==');
  assert.equal(seen.headers['sec-websocket-version'], '13');
  // The runtime picks v4 itself; a bearer token offered as a subprotocol is not passed on.
  assert.equal(seen.headers['sec-websocket-protocol'], 'v4.channel.k8s.io, base64.channel.k8s.io');

  // Port-forward over WebSocket needs its ports up front (the runtime opens a channel pair per port).
  const noPorts = await websocketUpgrade('/api/v1/namespaces/default/pods/one/portforward', 'v4.channel.k8s.io');
  assert.equal(noPorts.status, 400);
  assert.match(JSON.parse(noPorts.body).message, /query parameter "port" is required/);
  // kubectl's SPDY-in-WebSocket tunnel is served by the agent (a plain SPDY upgrade to the runtime).
  upstreamSeen.length = 0;
  const tunnel = await websocketUpgrade('/api/v1/namespaces/default/pods/one/portforward', 'SPDY/3.1+portforward.k8s.io');
  assert.equal(tunnel.status, 101);
  assert.equal(upstreamSeen[0]!.method, 'POST');
  assert.equal(upstreamSeen[0]!.headers['x-stream-protocol-version'], 'portforward.k8s.io');
  const v5pf = await websocketUpgrade('/api/v1/namespaces/default/pods/one/portforward?ports=80', 'v5.channel.k8s.io');
  assert.equal(v5pf.status, 400);
});

test('kubectl exec errors for pods it cannot reach', async () => {
  const unbound = await s.kubectl(['exec', 'unbound', '--', 'ls']);
  assert.match(unbound.stderr, /pod unbound does not have a host assigned/);
  const badContainer = await s.kubectl(['exec', 'two', '-c', 'nope', '--', 'ls']);
  assert.match(badContainer.stderr, /container nope is not valid for pod two/);
});

test('kubectl exec over WebSocket v5: the agent speaks SPDY (remotecommand v4) to the runtime streaming server', async () => {
  calls.length = 0;
  upstreamSeen.length = 0;
  // The fake runtime does not speak SPDY (never replies to streams): kubectl is stopped once
  // the agent's SPDY frames have arrived at the far end.
  const child = spawn(KUBECTL, ['exec', 'one', '-v=6', '--', 'echo', 'hi there'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.dataDir } });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  try {
    await eventually(async () => upstreamSeen[0]?.bytes.length && /The subprotocol is/.test(err), 15_000, `SPDY frames at the runtime (kubectl stderr: ${err})`);
  } finally {
    child.kill();
  }
  assert.match(err, /The subprotocol is v5\.channel\.k8s\.io/);
  assert.doesNotMatch(err, /fallback/i);
  assert.deepEqual(calls, [{ op: 'exec', args: ['one-app', ['echo', 'hi there'], { stdin: false, stdout: true, stderr: true, tty: false }] }]);
  const seen = upstreamSeen[0]!;
  assert.equal(seen.url, '/exec/tok-one-app');
  assert.equal(seen.method, 'POST');
  assert.equal(seen.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
  assert.equal(String(seen.headers.upgrade).toLowerCase(), 'spdy/3.1');
  // SPDY/3 control frames: the error stream's SYN_STREAM first.
  const first = Buffer.concat(seen.bytes);
  assert.deepEqual([...first.subarray(0, 4)], [0x80, 0x03, 0x00, 0x01]);
  assert.equal(first.readUInt32BE(8), 1);
});

test('kubectl exec forced to SPDY is passed through to the runtime streaming server', async () => {
  calls.length = 0;
  upstreamSeen.length = 0;
  const child = spawn(KUBECTL, ['exec', 'one', '--', 'echo', 'hi there'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.dataDir, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  try {
    await eventually(async () => upstreamSeen[0]?.bytes.length, 15_000, `SPDY frames at the runtime (kubectl stderr: ${err})`);
  } finally {
    child.kill();
  }
  const seen = upstreamSeen[0]!;
  assert.equal(seen.method, 'POST');
  // kubectl's own offer, passed through untouched.
  assert.match(String(seen.headers['x-stream-protocol-version']), /^v5\.channel\.k8s\.io, v4\.channel\.k8s\.io/);
  const first = Buffer.concat(seen.bytes);
  assert.equal(first[0], 0x80);
  assert.equal(first[1], 0x03);
});

test('kubectl port-forward (SPDY tunnelled in a WebSocket) is connected through to the runtime as SPDY', async () => {
  calls.length = 0;
  upstreamSeen.length = 0;
  const child = spawn(KUBECTL, ['port-forward', 'pod/one', ':8080'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.dataDir } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  try {
    await eventually(async () => /Forwarding from 127\.0\.0\.1:\d+ -> 8080/.test(out), 15_000, `port-forward to start (stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)})`);
    assert.deepEqual(calls, [{ op: 'portForward', args: ['sb-one-app', []] }]);
    assert.equal(upstreamSeen[0]!.url, '/portforward/tok-sb-one-app');
    assert.match(String(upstreamSeen[0]!.headers['x-stream-protocol-version']), /portforward\.k8s\.io/);
  } finally {
    child.kill();
  }
});
