// exec, attach, cp and port-forward end to end on a real node (containerd + runc, started by
// the test in its own data dir): kubectl over SPDY (after its WebSocket v5 attempt is
// refused), and @kubernetes/client-node over WebSocket v4, which the API server and the agent
// pass through to containerd's CRI streaming server. `kubectl exec -i` with piped stdin is
// covered in agent.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
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

test('kubectl exec -it gets a terminal of the client terminal size, and follows a resize', { skip }, async () => {
  // The initial size can reach the runtime just after the process starts (as with the kubelet), so wait for it.
  const inner = [
    's=; for i in $(seq 50); do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.1; done; echo "tty=$(tty) size=$s"',
    'for i in $(seq 50); do t=$(stty size); [ "$t" != "$s" ] && break; sleep 0.1; done; echo "resized=$t"',
  ].join('\n');
  writeFileSync(path.join(tmp, 'inner.sh'), inner);
  const r = await inTerminal(
    `stty rows 33 cols 101; (sleep 1.5; stty rows 40 cols 120 </dev/tty) & ${KUBECTL} exec -it box -- sh -c "$(cat ${tmp}/inner.sh)"`);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /tty=\/dev\/pts\/\d+ size=33 101\r?\n/);
  assert.match(r.out, /resized=40 120\r?\n/);
});

test('kubectl attach -i writes to the stdin of a container started with stdin: true and shows its output', { skip }, async () => {
  const child = spawn(KUBECTL, ['attach', '-i', 'att'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.dataDir } });
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
  const logs = await s.kubectlOk(['logs', 'att']);
  assert.equal(logs, 'ready\ngot: first line\ngot: second line\n');
});

test('kubectl cp copies a file into the pod and back, byte for byte', { skip }, async () => {
  const original = randomBytes(300_000);
  writeFileSync(path.join(tmp, 'blob'), original);
  await s.kubectlOk(['cp', path.join(tmp, 'blob'), 'box:/tmp/blob']);
  assert.equal((await s.kubectlOk(['exec', 'box', '--', 'wc', '-c', '/tmp/blob'])).trim(), '300000 /tmp/blob');
  await s.kubectlOk(['cp', 'box:/tmp/blob', path.join(tmp, 'blob.back')]);
  assert.ok(readFileSync(path.join(tmp, 'blob.back')).equals(original), 'same bytes back');
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

test('@kubernetes/client-node Exec runs a command over WebSocket (v4.channel.k8s.io) with output and exit status', { skip }, async () => {
  const ok = await clientExec(['sh', '-c', 'echo hello from $WHO; echo to stderr >&2']);
  assert.equal(ok.protocol, 'v4.channel.k8s.io');
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

test('WebSocket upgrades offering only protocols the runtime lacks are refused with 400, so kubectl falls back to SPDY', { skip }, async () => {
  const ws = (protocol: string) => ({ Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': protocol });
  const v5 = await s.request('GET', '/api/v1/namespaces/default/pods/box/exec?command=true&stdout=true', { headers: ws('v5.channel.k8s.io') });
  assert.equal(v5.status, 400);
  assert.match(v5.json.message, /v5\.channel\.k8s\.io not supported for exec .*falls back to SPDY/);
  const tunnel = await s.request('GET', '/api/v1/namespaces/default/pods/box/portforward?ports=8080', { headers: ws('SPDY/3.1+portforward.k8s.io') });
  assert.equal(tunnel.status, 400);
  assert.match(tunnel.json.message, /SPDY\/3\.1\+portforward\.k8s\.io not supported for portforward/);
  // kubectl logs the fallback at -v=4, then runs the command over SPDY.
  const r = await s.kubectl(['exec', 'box', '-v=4', '--', 'echo', 'over spdy']);
  assert.equal(r.stdout, 'over spdy\n');
  assert.match(r.stderr, /RemoteCommand fallback: unable to upgrade streaming request/);
});
