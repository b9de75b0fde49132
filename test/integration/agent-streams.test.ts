// exec, attach, cp and port-forward end to end on a real node (containerd + runc, started by
// the test in its own data dir): kubectl's exec, attach and cp over WebSocket v5, which the
// agent translates to SPDY towards containerd's CRI streaming server; kubectl forced to SPDY
// (passed through); WebSocket v4 clients (passed through); @kubernetes/client-node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import WebSocket from 'ws';
import YAML from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { agentUnavailable, eventually, KUBECTL, startServer, type TestServer } from '../helpers/cluster.ts';

const skip = agentUnavailable();
const IMAGE = 'skiff.local/busybox:1';
const LOOP = 'trap "exit 0" TERM; while true; do sleep 1; done';
let s: TestServer;
let tmp: string;

async function pod(name: string): Promise<any> {
  return (await s.request('GET', `/api/v1/namespaces/default/pods/${name}`)).json;
}
async function waitPod(name: string, ok: (p: any) => boolean, what: string, timeoutMs = 30_000): Promise<any> {
  let last: any;
  try {
    return await eventually(async () => { last = await pod(name); return ok(last) && last; }, timeoutMs, `${name}: ${what}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nstatus: ${JSON.stringify(last?.status, null, 1)}`);
  }
}
const state = (p: any, c: string) => p.status?.containerStatuses?.find((x: any) => x.name === c)?.state ?? {};
/** client-go logs the negotiated WebSocket subprotocol at -v=6 (transport/websocket). */
const OVER_V5 = /The subprotocol is v5\.channel\.k8s\.io/;

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'agent-streams-'));
  s = await startServer({ agent: true });
  await s.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: v1
kind: Pod
metadata: {name: box}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${IMAGE}
    command: [sh, -c, 'mkdir -p /www && echo forwarded > /www/index.html && httpd -p 8080 -h /www; ${LOOP}']
---
apiVersion: v1
kind: Pod
metadata: {name: att}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${IMAGE}
    stdin: true
    command: [sh, -c, 'echo ready; while read l; do echo "got: $l"; done']
---
apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  containers:
  - {name: a, image: ${IMAGE}, env: [{name: WHO, value: alpha}], command: [sh, -c, '${LOOP}']}
  - {name: b, image: ${IMAGE}, env: [{name: WHO, value: beta}], command: [sh, -c, '${LOOP}']}
  - {name: gone, image: ${IMAGE}, command: ['true']}
---
apiVersion: v1
kind: Pod
metadata: {name: done}
spec:
  restartPolicy: Never
  containers:
  - {name: main, image: ${IMAGE}, command: ['true']}
` });
  await Promise.all([
    waitPod('box', (p) => state(p, 'main').running, 'running'),
    waitPod('att', (p) => state(p, 'main').running, 'running'),
    waitPod('two', (p) => state(p, 'a').running && state(p, 'b').running && state(p, 'gone').terminated, 'a and b running, gone exited'),
    waitPod('done', (p) => p.status?.phase === 'Succeeded', 'Succeeded'),
  ]);
});
after(async () => {
  await s?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs a shell command line under `script`, so kubectl gets a terminal (a pty) as under a user's shell. */
function inTerminal(commandLine: string, timeoutMs = 15_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', commandLine, '/dev/null'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.dataDir } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { child.kill(); reject(new Error(`timed out: ${JSON.stringify(out)}`)); }, timeoutMs);
    // stdin stays open (script would pass its end on to the terminal) until the command is done.
    child.on('exit', (code) => { clearTimeout(timer); child.stdin.destroy(); resolve({ code, out }); });
  });
}

test('kubectl exec -it (WebSocket v5) gets a terminal of the client terminal size, and follows a resize', { skip }, async () => {
  // The initial size can reach the runtime just after the process starts (as with the kubelet), so wait for it.
  const inner = [
    's=; for i in $(seq 50); do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.1; done; echo "tty=$(tty) size=$s"',
    'for i in $(seq 50); do t=$(stty size); [ "$t" != "$s" ] && break; sleep 0.1; done; echo "resized=$t"',
  ].join('\n');
  writeFileSync(path.join(tmp, 'inner.sh'), inner);
  const r = await inTerminal(
    `stty rows 33 cols 101; (sleep 1.5; stty rows 40 cols 120 </dev/tty) & ${KUBECTL} exec -it box -v=6 -- sh -c "$(cat ${tmp}/inner.sh)" 2>${tmp}/tty.err`);
  assert.equal(r.code, 0, r.out);
  assert.match(readFileSync(path.join(tmp, 'tty.err'), 'utf8'), OVER_V5);
  assert.match(r.out, /tty=\/dev\/pts\/\d+ size=33 101\r?\n/);
  assert.match(r.out, /resized=40 120\r?\n/);
});

test('kubectl attach -i writes to the stdin of a container started with stdin: true and shows its output', { skip }, async () => {
  const child = spawn(KUBECTL, ['attach', '-i', 'att', '-v=6'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.dataDir } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  try {
    child.stdin.write('first line\n');
    await eventually(async () => out.includes('got: first line\n'), 10_000, `first echo (stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)})`);
    child.stdin.write('second line\n');
    await eventually(async () => out.includes('got: second line\n'), 10_000, `second echo (stdout ${JSON.stringify(out)})`);
  } finally {
    child.kill();
  }
  assert.match(err, OVER_V5);
  const logs = await s.kubectlOk(['logs', 'att']);
  assert.equal(logs, 'ready\ngot: first line\ngot: second line\n');
});

test('kubectl cp copies a file into the pod and back, byte for byte', { skip }, async () => {
  const original = randomBytes(300_000);
  writeFileSync(path.join(tmp, 'blob'), original);
  // Into the pod: `tar xf -` reads stdin until kubectl's v5 close message ends it.
  const up = await s.kubectl(['cp', '-v=6', path.join(tmp, 'blob'), 'box:/tmp/blob'], { timeoutMs: 20_000 });
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, OVER_V5);
  assert.equal((await s.kubectlOk(['exec', 'box', '--', 'wc', '-c', '/tmp/blob'])).trim(), '300000 /tmp/blob');
  const down = await s.kubectl(['cp', '-v=6', 'box:/tmp/blob', path.join(tmp, 'blob.back')], { timeoutMs: 20_000 });
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stderr, OVER_V5);
  assert.ok(readFileSync(path.join(tmp, 'blob.back')).equals(original), 'same bytes back');
});

test('kubectl exec -i over WebSocket v5: piped stdin reaches the command, whose stdin then ends; output and exit code come back', { skip }, async () => {
  const input = Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const r = await s.kubectl(['exec', '-i', 'box', '-v=6', '--', 'sh', '-c', 'cat; echo "stdin closed" >&2; exit 3'], { input, timeoutMs: 20_000 });
  assert.equal(r.code, 3, r.stderr.slice(-2000));
  assert.ok(r.stdout === input, `echoed ${r.stdout.length} of ${input.length} bytes`);
  assert.match(r.stderr, OVER_V5);
  assert.match(r.stderr, /stdin closed\n/);
  assert.match(r.stderr, /command terminated with exit code 3/);
  assert.doesNotMatch(r.stderr, /fallback/i);
  const ok = await s.kubectl(['exec', 'box', '--', 'sh', '-c', 'echo fine']);
  assert.deepEqual([ok.code, ok.stdout], [0, 'fine\n']);
});

test('kubectl forced to SPDY (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) still works, passed through', { skip }, async () => {
  const r = await s.kubectl(['exec', '-i', 'box', '-v=6', '--', 'sh', '-c', 'cat; exit 4'], { input: 'over spdy\n', env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } });
  assert.equal(r.code, 4, r.stderr);
  assert.equal(r.stdout, 'over spdy\n');
  assert.match(r.stderr, /POST https:\S+\/exec\?\S+ 101 Switching Protocols/);
  assert.doesNotMatch(r.stderr, /The subprotocol is/);
});

test('kubectl exec -c reaches the named container of a multi-container pod', { skip }, async () => {
  assert.equal(await s.kubectlOk(['exec', 'two', '-c', 'b', '--', 'sh', '-c', 'echo $WHO']), 'beta\n');
  assert.equal(await s.kubectlOk(['exec', 'two', '-c', 'a', '--', 'sh', '-c', 'echo $WHO']), 'alpha\n');
  const dflt = await s.kubectl(['exec', 'two', '--', 'sh', '-c', 'echo $WHO']);
  assert.equal(dflt.stdout, 'alpha\n');
  assert.match(dflt.stderr, /Defaulted container "a" out of: a, b, gone/);
});

test('exec or attach into an exited, unknown or completed container fails with a clear error', { skip }, async () => {
  const exited = await s.kubectl(['exec', 'two', '-c', 'gone', '--', 'true']);
  assert.notEqual(exited.code, 0);
  assert.match(exited.stderr, /container "gone" in pod "two" is not running \(CONTAINER_EXITED\)/);
  const unknown = await s.kubectl(['exec', 'two', '-c', 'nope', '--', 'true']);
  assert.match(unknown.stderr, /container nope is not valid for pod two/);
  const completed = await s.kubectl(['exec', 'done', '--', 'true']);
  assert.match(completed.stderr, /cannot exec into a container in a completed pod; current phase is Succeeded/);
  const missing = await s.kubectl(['exec', 'ghost', '--', 'true']);
  assert.match(missing.stderr, /pods "ghost" not found/);
  const attachExited = await s.kubectl(['attach', 'two', '-c', 'gone'], { timeoutMs: 10_000 });
  assert.notEqual(attachExited.code, 0);
  assert.match(attachExited.stderr, /container "gone" in pod "two" is not running \(CONTAINER_EXITED\)/);
});

function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(s.kubeconfig);
  return kc;
}

async function clientExec(command: string[]): Promise<{ stdout: string; stderr: string; status: k8s.V1Status; protocol: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => { out += d; });
  stderr.on('data', (d) => { err += d; });
  let protocol = '';
  const status = await new Promise<k8s.V1Status>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no status in 10 s (stdout ${JSON.stringify(out)})`)), 10_000);
    new k8s.Exec(kubeConfig()).exec('default', 'two', 'b', command, stdout, stderr, null, false, (st) => { clearTimeout(timer); resolve(st); })
      .then((ws) => { protocol = ws.protocol; }, (e) => { clearTimeout(timer); reject(e); });
  });
  return { stdout: out, stderr: err, status, protocol };
}

test('@kubernetes/client-node Exec (offering v5 first, so translated) runs a command with output and exit status', { skip }, async () => {
  const ok = await clientExec(['sh', '-c', 'echo hello from $WHO; echo to stderr >&2']);
  assert.equal(ok.protocol, 'v5.channel.k8s.io');
  assert.equal(ok.stdout, 'hello from beta\n');
  assert.equal(ok.stderr, 'to stderr\n');
  assert.equal(ok.status.status, 'Success');
  const failed = await clientExec(['sh', '-c', 'exit 3']);
  assert.equal(failed.status.status, 'Failure');
  assert.equal(failed.status.reason, 'NonZeroExitCode');
  assert.deepEqual(failed.status.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
});

test('@kubernetes/client-node PortForward reaches a pod port over WebSocket', { skip }, async () => {
  const output = new PassThrough();
  const input = new PassThrough();
  let got = '';
  output.on('data', (d) => { got += d; });
  const ws = await new k8s.PortForward(kubeConfig()).portForward('default', 'box', [8080], output, null, input) as { close(): void };
  try {
    input.write('GET /index.html HTTP/1.0\r\nHost: box\r\n\r\n');
    await eventually(async () => got.includes('forwarded\n'), 10_000, `the HTTP answer (have ${JSON.stringify(got)})`);
    assert.match(got, /^HTTP\/1\.[01] 200 OK/);
  } finally {
    ws.close();
  }
});

async function portForward(env: Record<string, string> = {}): Promise<{ stderr: string; body: string }> {
  const child = spawn(KUBECTL, ['port-forward', 'pod/box', ':8080', '-v=6'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.dataDir, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  try {
    const port = await eventually(async () => Number(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out)?.[1]), 15_000, `port-forward to start (${err.slice(-1000)})`);
    // Twice: each connection is its own pair of SPDY streams.
    let body = '';
    for (let i = 0; i < 2; i++) body += await (await fetch(`http://127.0.0.1:${port}/index.html`)).text();
    return { stderr: err, body };
  } finally {
    child.kill();
  }
}

test('kubectl port-forward tunnels SPDY in a WebSocket (SPDY/3.1+portforward.k8s.io), and still works forced to plain SPDY', { skip }, async () => {
  const tunnelled = await portForward();
  assert.equal(tunnelled.body, 'forwarded\nforwarded\n');
  assert.match(tunnelled.stderr, /portforward 101 Switching Protocols[^]*negotiated protocol: portforward\.k8s\.io/);
  assert.doesNotMatch(tunnelled.stderr, /fallback/i);
  const spdy = await portForward({ KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
  assert.equal(spdy.body, 'forwarded\nforwarded\n');
  assert.match(spdy.stderr, /POST https:\S+\/portforward 101 Switching Protocols/);
  assert.doesNotMatch(spdy.stderr, /negotiated protocol/);
});

/** A raw WebSocket client of the API server offering `protocols` (as the Python client offers v4 only). */
async function rawWebSocket(pathAndQuery: string, protocols: string[], send: (ws: WebSocket) => void): Promise<{ protocol: string; messages: [number, string][] }> {
  const kc = YAML.parse(readFileSync(s.kubeconfig, 'utf8'));
  const b64 = (v: string) => Buffer.from(v, 'base64');
  const ws = new WebSocket(s.url.replace(/^https/, 'wss') + pathAndQuery, protocols, {
    ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
    cert: b64(kc.users[0].user['client-certificate-data']), key: b64(kc.users[0].user['client-key-data']),
  });
  const messages: [number, string][] = [];
  ws.on('message', (m: Buffer) => messages.push([m[0]!, m.subarray(1).toString()]));
  await once(ws, 'open');
  send(ws);
  await once(ws, 'close');
  return { protocol: ws.protocol, messages };
}

test('a WebSocket client offering only v4.channel.k8s.io is passed through to the runtime, status JSON included', { skip }, async () => {
  const r = await rawWebSocket('/api/v1/namespaces/default/pods/two/exec?container=b&command=sh&command=-c&command=echo%20$WHO%3B%20exit%205&stdout=true',
    ['v4.channel.k8s.io'], () => {});
  assert.equal(r.protocol, 'v4.channel.k8s.io');
  const out = r.messages.filter(([c, d]) => c === 1 && d).map(([, d]) => d).join('');
  assert.equal(out, 'beta\n');
  const status = JSON.parse(r.messages.filter(([c, d]) => c === 3 && d).map(([, d]) => d).join(''));
  assert.equal(status.reason, 'NonZeroExitCode');
  assert.deepEqual(status.details.causes, [{ reason: 'ExitCode', message: '5' }]);
});

test('WebSocket upgrades offering only protocols neither the agent nor the runtime speaks are refused with 400, so kubectl falls back to SPDY', { skip }, async () => {
  const ws = (protocol: string) => ({ Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': protocol });
  const v3 = await s.request('GET', '/api/v1/namespaces/default/pods/box/exec?command=true&stdout=true', { headers: ws('v3.channel.k8s.io') });
  assert.equal(v3.status, 400);
  assert.match(v3.json.message, /v3\.channel\.k8s\.io not supported for exec .*falls back to SPDY/);
  const pf = await s.request('GET', '/api/v1/namespaces/default/pods/box/portforward?ports=8080', { headers: ws('v5.channel.k8s.io') });
  assert.equal(pf.status, 400);
  assert.match(pf.json.message, /v5\.channel\.k8s\.io not supported for portforward/);
});
