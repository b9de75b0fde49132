import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { FakeTimers } from '../../client/timers.ts';
import { runHandler, resolvePort, decodeHealthStatus, type ExecSync, type HandlerContext } from './handlers.ts';

const noExec: ExecSync = () => Promise.reject(new Error('no exec here'));

function ctx(extra: Partial<HandlerContext> = {}): HandlerContext {
  return { podIP: '127.0.0.1', container: { name: 'c', ports: [{ name: 'http', containerPort: httpPort }] }, execSync: noExec, ...extra };
}

let httpServer: http.Server;
let httpPort = 0;
let closedPort = 0;
const seen: http.IncomingHttpHeaders[] = [];

function route(req: http.IncomingMessage, res: http.ServerResponse): void {
  seen.push(req.headers);
  const url = new URL(req.url ?? '/', 'http://x');
  switch (url.pathname) {
    case '/ok': res.end('all good'); return;
    case '/fail': res.statusCode = 500; res.end('secret body'); return;
    case '/redirect': res.writeHead(302, { location: '/ok' }); res.end(); return;
    case '/redirect-away': res.writeHead(301, { location: `http://localhost:${httpPort}/ok` }); res.end('moved'); return;
    case '/loop': res.writeHead(302, { location: '/loop' }); res.end(); return;
    case '/no-location': res.writeHead(304); res.end(); return;
    case '/slow': setTimeout(() => { if (!res.destroyed) res.end('late'); }, 3000).unref(); return;
    case '/big': res.end('x'.repeat(50_000)); return;
    case '/echo-query': res.end(url.search); return;
    default: res.statusCode = 404; res.end();
  }
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

before(async () => {
  httpServer = http.createServer(route);
  httpPort = await listen(httpServer);
  const tmp = net.createServer();
  closedPort = await listen(tmp);
  await new Promise((r) => tmp.close(r));
});

after(() => {
  httpServer.closeAllConnections();
  httpServer.close();
});

// ---- exec -------------------------------------------------------------------------------

test('exec: exit 0 succeeds with stdout and stderr as the message', async () => {
  const calls: [string[], number][] = [];
  const execSync: ExecSync = async (cmd, t) => {
    calls.push([cmd, t]);
    return { stdout: Buffer.from('out\n'), stderr: Buffer.from('err\n'), exitCode: 0 };
  };
  assert.deepEqual(await runHandler({ exec: { command: ['cat', '/tmp/healthy'] } }, ctx({ execSync })), { ok: true, message: 'out\nerr\n' });
  assert.deepEqual(calls, [[['cat', '/tmp/healthy'], 1]], 'probes default to a 1 s timeout');
  await runHandler({ exec: { command: ['x'] }, timeoutSeconds: 7 } as never, ctx({ execSync }));
  assert.equal(calls[1]![1], 7);
  await runHandler({ exec: { command: ['x'] } }, ctx({ execSync, purpose: 'lifecycle' }));
  assert.equal(calls[2]![1], 0, 'hooks have no timeout of their own');
});

test('exec: non-zero exit fails; output truncated at 10 KiB', async () => {
  const execSync: ExecSync = async () => ({ stdout: Buffer.alloc(20_000, 'a'), stderr: Buffer.from('tail'), exitCode: 1 });
  const r = await runHandler({ exec: { command: ['false'] } }, ctx({ execSync }));
  assert.equal(r.ok, false);
  assert.equal(r.message.length, 10 * 1024);
  assert.equal(r.unknown, undefined);
});

test('exec: a runtime timeout is a failure worded like the kubelet; other errors are unknown', async () => {
  const timeout: ExecSync = () => Promise.reject(Object.assign(new Error('deadline'), { code: 4 }));
  assert.deepEqual(await runHandler({ exec: { command: ['sh', '-c', 'sleep 5'] } }, ctx({ execSync: timeout })),
    { ok: false, message: 'command "sh -c sleep 5" timed out' });
  const broken: ExecSync = () => Promise.reject(new Error('container not found'));
  assert.deepEqual(await runHandler({ exec: { command: ['true'] } }, ctx({ execSync: broken })),
    { ok: false, unknown: true, message: 'container not found' });
});

// ---- httpGet ----------------------------------------------------------------------------

test('httpGet: 200 succeeds, with the kubelet headers and the user headers', async () => {
  seen.length = 0;
  const r = await runHandler({ httpGet: { port: httpPort, path: '/ok', httpHeaders: [{ name: 'X-Custom', value: 'v' }, { name: 'Host', value: 'example.test' }] } }, ctx());
  assert.deepEqual(r, { ok: true, message: 'all good' });
  assert.equal(seen[0]!['user-agent'], 'kube-probe/1.32');
  assert.equal(seen[0]!.accept, '*/*');
  assert.equal(seen[0]!['x-custom'], 'v');
  assert.equal(seen[0]!.host, 'example.test');
});

test('httpGet: user headers override User-Agent and Accept; hooks say kube-lifecycle', async () => {
  seen.length = 0;
  await runHandler({ httpGet: { port: httpPort, path: '/ok', httpHeaders: [{ name: 'user-agent', value: 'mine' }, { name: 'Accept', value: 'text/plain' }] } }, ctx());
  assert.equal(seen[0]!['user-agent'], 'mine');
  assert.equal(seen[0]!.accept, 'text/plain');
  await runHandler({ httpGet: { port: httpPort, path: '/ok' } }, ctx({ purpose: 'lifecycle' }));
  assert.equal(seen[1]!['user-agent'], 'kube-lifecycle/1.32');
});

test('httpGet: 500 fails without leaking the body', async () => {
  assert.deepEqual(await runHandler({ httpGet: { port: httpPort, path: '/fail' } }, ctx()),
    { ok: false, message: 'HTTP probe failed with statuscode: 500' });
});

test('httpGet: a hook succeeds on any response', async () => {
  assert.deepEqual(await runHandler({ httpGet: { port: httpPort, path: '/fail' } }, ctx({ purpose: 'lifecycle' })), { ok: true, message: '' });
});

test('httpGet: named port, default path, path with a query', async () => {
  assert.equal((await runHandler({ httpGet: { port: 'http', path: '/echo-query?a=1' } }, ctx())).message, '?a=1');
  assert.equal((await runHandler({ httpGet: { port: 'http' } }, ctx())).message, 'HTTP probe failed with statuscode: 404');
  assert.deepEqual(await runHandler({ httpGet: { port: 'nope' } }, ctx()), { ok: false, unknown: true, message: 'port nope not found' });
});

test('httpGet: follows redirects to the same host', async () => {
  assert.deepEqual(await runHandler({ httpGet: { port: httpPort, path: '/redirect' } }, ctx()), { ok: true, message: 'all good' });
});

test('httpGet: a redirect to another host is not followed: a warning, counted as success', async () => {
  const r = await runHandler({ httpGet: { port: httpPort, path: '/redirect-away' } }, ctx());
  assert.deepEqual(r, { ok: true, warning: true, message: 'Probe terminated redirects, Response body: moved' });
});

test('httpGet: a 3xx without Location is a warning; a redirect loop stops after 10', async () => {
  assert.equal((await runHandler({ httpGet: { port: httpPort, path: '/no-location' } }, ctx())).warning, true);
  assert.deepEqual(await runHandler({ httpGet: { port: httpPort, path: '/loop' } }, ctx()),
    { ok: false, message: `Get "http://127.0.0.1:${httpPort}/loop": stopped after 10 redirects` });
});

test('httpGet: slow response times out', async () => {
  const t0 = Date.now();
  const r = await runHandler({ httpGet: { port: httpPort, path: '/slow' }, timeoutSeconds: 1 } as never, ctx());
  assert.deepEqual(r, { ok: false, message: `Get "http://127.0.0.1:${httpPort}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
  assert.ok(Date.now() - t0 < 2500);
});

test('httpGet: reads at most 10 KiB of body', async () => {
  const r = await runHandler({ httpGet: { port: httpPort, path: '/big' } }, ctx());
  assert.equal(r.ok, true);
  assert.equal(r.message.length, 10 * 1024);
});

test('httpGet: closed port is connection refused, worded like Go', async () => {
  assert.deepEqual(await runHandler({ httpGet: { port: closedPort, path: '/healthz' } }, ctx()),
    { ok: false, message: `Get "http://127.0.0.1:${closedPort}/healthz": dial tcp 127.0.0.1:${closedPort}: connect: connection refused` });
});

test('httpGet: HTTPS without certificate verification; an HTTPS hook answered in HTTP retries in HTTP', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'probe-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=pod', '-days', '1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  } catch {
    t.skip('no openssl');
    return;
  }
  const server = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, route);
  const port = await listen(server);
  try {
    assert.deepEqual(await runHandler({ httpGet: { port, path: '/ok', scheme: 'HTTPS' } }, ctx()), { ok: true, message: 'all good' });
    const probe = await runHandler({ httpGet: { port: httpPort, path: '/ok', scheme: 'HTTPS' } }, ctx());
    assert.equal(probe.ok, false);
    assert.match(probe.message, /server gave HTTP response to HTTPS client/);
    assert.deepEqual(await runHandler({ httpGet: { port: httpPort, path: '/ok', scheme: 'HTTPS' } }, ctx({ purpose: 'lifecycle' })), { ok: true, message: '' });
  } finally {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- tcpSocket --------------------------------------------------------------------------

test('tcpSocket: a listener succeeds, a closed port is refused', async () => {
  assert.deepEqual(await runHandler({ tcpSocket: { port: httpPort } }, ctx()), { ok: true, message: '' });
  assert.deepEqual(await runHandler({ tcpSocket: { port: 'http', host: '127.0.0.1' } }, ctx({ podIP: '127.0.0.9' })), { ok: true, message: '' });
  assert.deepEqual(await runHandler({ tcpSocket: { port: closedPort } }, ctx()),
    { ok: false, message: `dial tcp 127.0.0.1:${closedPort}: connect: connection refused` });
});

test('tcpSocket is not a lifecycle handler', async () => {
  const r = await runHandler({ tcpSocket: { port: httpPort } }, ctx({ purpose: 'lifecycle' }));
  assert.equal(r.ok, false);
  assert.match(r.message, /^Cannot run handler/);
});

// ---- grpc -------------------------------------------------------------------------------

test('grpc: health check SERVING, NOT_SERVING, unimplemented, closed port', async () => {
  const statusOf: Record<string, number> = { '': 1, sick: 2 };
  const services: string[] = [];
  const server = new grpc.Server();
  server.addService({
    Check: {
      path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false,
      requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b,
    },
  }, {
    Check: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const req = call.request;
      const service = req.length ? req.subarray(2).toString() : '';
      services.push(service);
      cb(null, Buffer.from([0x08, statusOf[service] ?? 3]));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const bare = new grpc.Server();
  const barePort = await new Promise<number>((resolve, reject) =>
    bare.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  try {
    assert.deepEqual(await runHandler({ grpc: { port } }, ctx()), { ok: true, message: 'service healthy' });
    assert.deepEqual(await runHandler({ grpc: { port, service: 'sick' } }, ctx()),
      { ok: false, message: 'service unhealthy (responded with "NOT_SERVING")' });
    assert.deepEqual(services, ['', 'sick']);
    const unimpl = await runHandler({ grpc: { port: barePort } }, ctx());
    assert.equal(unimpl.ok, false);
    assert.match(unimpl.message, /^error: this server does not implement the grpc health protocol/);
    assert.deepEqual(await runHandler({ grpc: { port: closedPort } }, ctx()),
      { ok: false, message: `timeout: failed to connect service "127.0.0.1:${closedPort}" within 1s: context deadline exceeded` });
  } finally {
    server.forceShutdown();
    bare.forceShutdown();
  }
});

test('decodeHealthStatus skips unknown fields', () => {
  assert.equal(decodeHealthStatus(Buffer.from([0x12, 0x01, 0x41, 0x08, 0x02])), 2);
  assert.equal(decodeHealthStatus(Buffer.alloc(0)), 0);
});

// ---- sleep and odds ---------------------------------------------------------------------

test('sleep hook waits on the timers and stops when aborted', async () => {
  const timers = new FakeTimers();
  let done = false;
  const p = runHandler({ sleep: { seconds: 5 } }, ctx({ purpose: 'lifecycle', timers })).then((r) => { done = true; return r; });
  timers.advance(4_999);
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  timers.advance(1);
  assert.deepEqual(await p, { ok: true, message: '' });

  const abort = new AbortController();
  const q = runHandler({ sleep: { seconds: 30 } }, ctx({ purpose: 'lifecycle', timers, signal: abort.signal }));
  abort.abort();
  assert.deepEqual(await q, { ok: false, message: 'container terminated before sleep hook finished' });
  assert.deepEqual(timers.pendingDelays(), []);
});

test('resolvePort: numbers, numeric strings, names, and out of range', () => {
  const c = { ports: [{ name: 'web', containerPort: 8080 }] };
  assert.equal(resolvePort(80, c), 80);
  assert.equal(resolvePort('81', c), 81);
  assert.equal(resolvePort('web', c), 8080);
  assert.throws(() => resolvePort(0, c), /invalid port number: 0/);
  assert.throws(() => resolvePort(70000, c), /invalid port number: 70000/);
});

test('a handler with no action', async () => {
  assert.deepEqual(await runHandler({}, ctx()), { ok: false, unknown: true, message: 'missing probe handler' });
});
