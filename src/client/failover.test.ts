// Failover: the pool's rules, and HttpClient against local HTTPS stub servers that die,
// hang, answer 503 or present the wrong certificate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createCertificateAuthority, issueServingCertificate } from '../apiserver/pki/issue-certificates.ts';
import type { CertificateAndKey } from '../apiserver/pki/types.ts';
import { silentLogger } from '../util/log.ts';
import { classifyFailure, isIdempotent, ServerPool, splitServers } from './failover.ts';
import { learnApiServers, serversFromSlices } from './failover-learn.ts';
import { HttpClient } from './http.ts';
import { closerFor } from '../util/close-server.ts';
import { Reflector } from './reflector.ts';
import { FakeTimers } from './timers.ts';
import { ClientError } from './types.ts';
import type { KObject } from '../api/object.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Stub {
  url: string;
  port: number;
  /** Requests seen: "METHOD path". */
  seen: string[];
  handler: Handler;
  /** Stops listening and cuts every connection (as a killed process does). */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  revive(): Promise<void>;
}

let ca: CertificateAndKey;
let serving: CertificateAndKey;
let otherServing: CertificateAndKey;
const stubs: Stub[] = [];
const clients: HttpClient[] = [];

before(async () => {
  const now = new Date();
  ca = await createCertificateAuthority(now);
  serving = await issueServingCertificate(ca, { dns: ['localhost'], ips: ['127.0.0.1'] }, now);
  otherServing = await issueServingCertificate(await createCertificateAuthority(now), { dns: ['localhost'], ips: ['127.0.0.1'] }, now);
});

after(async () => {
  for (const c of clients) c.close();
  for (const s of stubs) await s.kill();
});

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};
const ok: Handler = (req, res) => json(res, 200, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x', namespace: 'default' }, answeredBy: req.socket.localPort });

async function stub(handler: Handler = ok, cert = serving, port = 0): Promise<Stub> {
  let srv: https.Server | undefined;
  let close: (() => Promise<void>) | undefined;
  const s: Stub = {
    url: '', port, seen: [], handler,
    async kill() {
      if (!srv) return;
      await close!();
      srv = undefined;
    },
    async revive() {
      srv = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => { body += d; });
        req.on('end', () => {
          s.seen.push(`${req.method} ${req.url}`);
          if (req.url === '/readyz') { res.end('ok'); return; }
          s.handler(req, res, body);
        });
      });
      close = closerFor(srv);
      srv.listen(s.port, '127.0.0.1');
      await once(srv, 'listening');
      s.port = (srv.address() as AddressInfo).port;
      s.url = `https://127.0.0.1:${s.port}`;
    },
  };
  await s.revive();
  stubs.push(s);
  return s;
}

function client(servers: string[], extra: { requestTimeoutMs?: number; healthCheckIntervalMs?: number } = {}): HttpClient {
  const c = new HttpClient({ server: servers, ca: ca.certPem, token: 't', log: silentLogger, ...extra });
  clients.push(c);
  return c;
}

const cmPath = '/api/v1/namespaces/default/configmaps';
const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } };

test('server lists: comma lists and repeats, trailing slashes, duplicates', () => {
  assert.deepEqual(splitServers(['https://a:6443/,https://b:6443', 'https://a:6443', ' https://c:6443 ']), ['https://a:6443', 'https://b:6443', 'https://c:6443']);
  assert.deepEqual(splitServers('https://a:6443'), ['https://a:6443']);
});

test('which failures move to another server, and which requests may be repeated', () => {
  assert.deepEqual(classifyFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', notSent: true })), { serverFault: true, notSent: true });
  assert.deepEqual(classifyFailure(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), { serverFault: true, notSent: false });
  assert.deepEqual(classifyFailure(new ClientError(503, 'ServiceUnavailable', 'not ready')), { serverFault: true, notSent: false });
  assert.deepEqual(classifyFailure(new ClientError(404, 'NotFound', 'no')), { serverFault: false, notSent: false });
  assert.equal(classifyFailure(new ClientError(503, 'ServiceUnavailable', 'no endpoints'), '/api/v1/namespaces/d/services/web/proxy/x').serverFault, false, 'a 503 passed on from elsewhere');
  assert.equal(classifyFailure(new ClientError(503, 'ServiceUnavailable', 'node down'), '/api/v1/namespaces/d/pods/p/log').serverFault, false);
  assert.deepEqual(classifyFailure(new ClientError(409, 'Conflict', 'no')), { serverFault: false, notSent: false });
  assert.deepEqual(classifyFailure(Object.assign(new Error('x'), { timedOut: true })), { serverFault: true, notSent: false });
  assert.equal(classifyFailure(new Error('watch stream closed by the server')).serverFault, true);
  assert.equal(classifyFailure(new Error('a handler threw')).serverFault, false);
  for (const m of ['GET', 'PUT', 'DELETE']) assert.equal(isIdempotent(m), true, m);
  assert.equal(isIdempotent('POST', 'application/json'), false);
  assert.equal(isIdempotent('PATCH', 'application/merge-patch+json'), true);
  assert.equal(isIdempotent('PATCH', 'application/apply-patch+yaml'), true);
  assert.equal(isIdempotent('PATCH', 'application/json-patch+json'), false);
  assert.equal(isIdempotent('PATCH', 'application/strategic-merge-patch+json'), false);
});

test('pool: sticky current, down servers last, health checks bring them back, learned servers', async () => {
  const timers = new FakeTimers();
  const ready = new Set<string>();
  const probed: string[] = [];
  const pool = new ServerPool({
    servers: ['https://a:1', 'https://b:1', 'https://c:1'], timers, log: silentLogger, healthCheckIntervalMs: 5_000,
    probe: async (s) => { probed.push(s); return ready.has(s); },
  });
  assert.equal(pool.current, 'https://a:1');
  assert.deepEqual(timers.pendingDelays(), [], 'no health-check timer while all servers are up');
  pool.reportFailure('https://a:1', new Error('refused'));
  assert.equal(pool.current, 'https://b:1');
  assert.deepEqual(pool.candidates(), ['https://b:1', 'https://c:1', 'https://a:1']);
  timers.advance(1_000);
  pool.reportFailure('https://c:1', new Error('refused'));
  assert.deepEqual(pool.candidates(), ['https://b:1', 'https://a:1', 'https://c:1'], 'down servers last, longest down first');
  assert.deepEqual(timers.pendingDelays(), [4_000], 'one health-check timer');

  timers.advance(4_000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(probed.sort(), ['https://a:1', 'https://c:1']);
  assert.ok(pool.isDown('https://a:1'));
  ready.add('https://a:1');
  timers.advance(5_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(pool.isDown('https://a:1'), false, 'a answered /readyz: up again');
  assert.equal(pool.current, 'https://b:1', 'the current server stays while it works');

  // Every server down: all are still tried, longest down first.
  pool.reportFailure('https://b:1', new Error('x'));
  pool.reportFailure('https://a:1', new Error('x'));
  assert.deepEqual(pool.candidates().slice(0, 1), ['https://c:1']);

  // Learned servers join the list; learned ones that disappear are dropped, configured ones never.
  pool.setLearned(['https://d:1', 'https://a:1']);
  assert.deepEqual(pool.servers, ['https://a:1', 'https://b:1', 'https://c:1', 'https://d:1']);
  assert.equal(pool.current, 'https://d:1', 'current was down; the reachable learned server is tried first');
  assert.equal(pool.candidates()[0], 'https://d:1');
  pool.setLearned(['https://e:1']);
  assert.deepEqual(pool.servers, ['https://a:1', 'https://b:1', 'https://c:1', 'https://e:1']);
  assert.equal(pool.current, 'https://e:1');
  pool.close();
  assert.deepEqual(timers.pendingDelays().length <= 1, true);
});

test('learned servers: ready endpoints of the kubernetes EndpointSlice, on its https port', () => {
  const slice = (eps: { addresses: string[]; ready?: boolean }[], port = 6443): KObject => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'kubernetes', namespace: 'default' },
    endpoints: eps.map((e) => ({ addresses: e.addresses, conditions: { ready: e.ready ?? true } })),
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  } as unknown as KObject);
  assert.deepEqual(serversFromSlices([slice([{ addresses: ['10.0.0.2'] }, { addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.3'], ready: false }])]),
    ['https://10.0.0.1:6443', 'https://10.0.0.2:6443']);
  assert.deepEqual(serversFromSlices([slice([{ addresses: ['fd00::1'] }], 7443)]), ['https://[fd00::1]:7443']);
  assert.deepEqual(serversFromSlices([]), []);
});

test('a dead server: reads and writes move to the next one; the client stays there', async () => {
  const a = await stub();
  const b = await stub();
  const c = client([a.url, b.url]);
  assert.equal((await c.request<{ answeredBy: number }>('GET', cmPath)).body.answeredBy, a.port);
  await a.kill();
  // The GET is repeated on b; a POST too, since it never got a connection to a.
  assert.equal((await c.request<{ answeredBy: number }>('GET', cmPath)).body.answeredBy, b.port);
  assert.equal(c.server, b.url);
  assert.equal(c.failover.isDown(a.url), true);
  const a2 = await stub(); // a's requests are counted from here: nothing more goes to a
  await a2.kill();
  const c2 = client([a2.url, b.url]);
  const created = await c2.request<{ answeredBy: number }>('POST', cmPath, { body: cm });
  assert.equal(created.body.answeredBy, b.port, 'a POST refused by a dead server is sent to the next');
  assert.equal(b.seen.filter((s) => s.startsWith('POST')).length, 1, 'sent once');
});

test('a request that reached a server that then died is retried only when idempotent', async () => {
  // a reads the request, then drops the connection without answering.
  const a = await stub((req) => req.socket.destroy());
  const b = await stub();
  const c = client([a.url, b.url]);
  await assert.rejects(c.request('POST', cmPath, { body: cm }), (err: Error & { code?: string }) => /socket hang up|ECONNRESET/.test(`${err.message} ${err.code}`));
  assert.equal(b.seen.length, 0, 'a POST that may have been applied is not repeated elsewhere');
  assert.equal(c.failover.isDown(a.url), true, 'but a is marked down');
  assert.equal(c.server, b.url);
  // A PUT that reached a dying server is repeated: a second PUT is a no-op or a 409.
  const c2 = client([a.url, b.url]);
  const put = await c2.request<{ answeredBy: number }>('PUT', `${cmPath}/x`, { body: cm });
  assert.equal(put.body.answeredBy, b.port);
  assert.equal(a.seen.filter((s) => s.startsWith('PUT')).length, 1);
});

test('503 moves idempotent requests on; other errors are the answer', async () => {
  const a = await stub((_req, res) => json(res, 503, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 503, reason: 'ServiceUnavailable', message: 'datastore unavailable' }));
  const b = await stub();
  const c = client([a.url, b.url]);
  assert.equal((await c.request<{ answeredBy: number }>('GET', cmPath)).body.answeredBy, b.port);
  const c2 = client([a.url, b.url]);
  await assert.rejects(c2.request('POST', cmPath, { body: cm }), (err: ClientError) => err.code === 503);
  assert.equal(c2.server, b.url, 'a 503 marks the server down even when the request is not repeated');

  const nf = await stub((_req, res) => json(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'configmaps "x" not found' }));
  const c3 = client([nf.url, b.url]);
  await assert.rejects(c3.request('GET', `${cmPath}/x`), (err: ClientError) => err.code === 404);
  assert.equal(c3.server, nf.url, 'a 404 is an answer, not a failure');
});

test('a server that hangs times out and the request goes to the next one', async () => {
  const a = await stub(() => { /* never answers */ });
  const b = await stub();
  const c = client([a.url, b.url], { requestTimeoutMs: 1_500 });
  assert.equal((await c.request<{ answeredBy: number }>('GET', cmPath)).body.answeredBy, b.port);
  assert.equal(c.server, b.url);
});

test('a resource with its own request timeout gives up on a silent server sooner than the client does', async () => {
  const a = await stub(() => { /* never answers */ });
  const b = await stub();
  const c = client([a.url, b.url], { requestTimeoutMs: 60_000 });
  const started = Date.now();
  const got = await c.resource('', 'v1', 'configmaps', { requestTimeoutMs: 500 }).get('default', 'x');
  assert.equal((got as unknown as { answeredBy: number }).answeredBy, b.port);
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  assert.equal(c.server, b.url);
});

test('a server with a certificate from another CA is skipped, for writes too', async () => {
  const a = await stub(ok, otherServing);
  const b = await stub();
  const c = client([a.url, b.url]);
  assert.equal((await c.request<{ answeredBy: number }>('POST', cmPath, { body: cm })).body.answeredBy, b.port);
  assert.equal(a.seen.length, 0);
});

test('every server down: the error of the last one; a server that comes back is used again', async () => {
  const a = await stub();
  const b = await stub();
  await a.kill();
  await b.kill();
  const c = client([a.url, b.url], { healthCheckIntervalMs: 100 });
  await assert.rejects(c.request('GET', cmPath), (err: Error & { code?: string }) => err.code === 'ECONNREFUSED');
  assert.ok(c.failover.isDown(a.url) && c.failover.isDown(b.url));
  await a.revive();
  const deadline = Date.now() + 10_000;
  while (c.failover.isDown(a.url) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(c.failover.isDown(a.url), false, 'the /readyz health check brought a back');
  assert.ok(a.seen.includes('GET /readyz'));
  assert.equal((await c.request<{ answeredBy: number }>('GET', cmPath)).body.answeredBy, a.port);
});

test('a watch broken by a dying server resumes on the next one from its last resourceVersion', async () => {
  const item = (name: string, rv: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', resourceVersion: rv } });
  let aWatch: ServerResponse | undefined;
  const a = await stub((req, res) => {
    if (!req.url!.includes('watch=')) return json(res, 200, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items: [item('one', '5')] });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(`${JSON.stringify({ type: 'ADDED', object: item('two', '7') })}\n`);
    aWatch = res;
  });
  const bWatches: string[] = [];
  const b = await stub((req, res) => {
    if (!req.url!.includes('watch=')) return json(res, 200, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items: [] });
    bWatches.push(req.url!);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(`${JSON.stringify({ type: 'ADDED', object: item('three', '8') })}\n`);
  });
  const c = client([a.url, b.url]);
  const seen: string[] = [];
  let lists = 0;
  const reflector = new Reflector({
    resource: c.resource('', 'v1', 'configmaps'), namespace: 'default', log: silentLogger,
    backoff: { initialMs: 50, maxMs: 200 },
    sink: { replace: (items) => { lists++; seen.push(...items.map((i) => `list ${i.metadata!.name}`)); }, apply: (type, obj) => { seen.push(`${type} ${obj.metadata!.name}`); } },
  });
  reflector.start();
  try {
    const deadline = Date.now() + 10_000;
    while (!aWatch && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    while (!seen.includes('ADDED two') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await a.kill();
    while (!seen.includes('ADDED three') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen, ['list one', 'ADDED two', 'ADDED three']);
    assert.equal(lists, 1, 'resumed, not listed again');
    assert.match(bWatches[0]!, /resourceVersion=7\b/);
    assert.equal(c.server, b.url);
  } finally {
    reflector.stop();
  }
});

test('a client told of one server learns the others from the kubernetes EndpointSlice and survives the first one', async () => {
  const b = await stub();
  const slicesOf = (ports: number[]) => ({
    kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: '3' },
    items: ports.map((port) => ({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: `kubernetes-${port}`, namespace: 'default', resourceVersion: '3', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'https', port, protocol: 'TCP' }],
    })),
  });
  const queries: string[] = [];
  const a = await stub((req, res) => {
    if (!req.url!.startsWith('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices')) return ok(req, res, '');
    queries.push(req.url!);
    if (req.url!.includes('watch=')) { res.writeHead(200, { 'Content-Type': 'application/json' }); return; } // quiet watch
    json(res, 200, slicesOf([a.port, b.port]));
  });
  const c = client([a.url]);
  const stop = learnApiServers(c, { log: silentLogger });
  try {
    const deadline = Date.now() + 10_000;
    while (!c.servers.includes(b.url) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(c.servers, [a.url, b.url]);
    assert.match(queries[0]!, /labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes/);
    assert.equal(c.server, a.url, 'learning does not move the client');
    await a.kill();
    assert.equal((await c.request<{ answeredBy: number }>('GET', cmPath)).body.answeredBy, b.port);
  } finally {
    stop();
  }
});

test('a server that goes silent (partitioned) loses its watches once a request times out on it', async () => {
  let silent = false;
  const a = await stub((req, res) => {
    if (silent) return; // answers nothing more, closes nothing
    if (!req.url!.includes('watch=')) return json(res, 200, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items: [] });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('\n'); // the stream is open and idle
  });
  const bWatches: string[] = [];
  const b = await stub((req, res) => {
    if (!req.url!.includes('watch=')) return ok(req, res, '');
    bWatches.push(req.url!);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('\n');
  });
  const c = client([a.url, b.url], { requestTimeoutMs: 1_000 });
  const reflector = new Reflector({
    resource: c.resource('', 'v1', 'configmaps'), namespace: 'default', log: silentLogger, backoff: { initialMs: 50, maxMs: 200 },
    sink: { replace: () => {}, apply: () => {} },
  });
  reflector.start();
  try {
    const deadline = Date.now() + 10_000;
    while (!a.seen.some((s) => s.includes('watch=')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    silent = true;
    // A heartbeat-like request times out on a, goes to b, and a is marked down...
    assert.equal((await c.request<{ answeredBy: number }>('GET', `${cmPath}/x`)).body.answeredBy, b.port);
    // ...which cuts a's idle watch: the reflector resumes on b from resourceVersion 5.
    while (!bWatches.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(bWatches[0] ?? '', /resourceVersion=5\b/);
  } finally {
    reflector.stop();
  }
});

// A server process that stalls (a long GC pause) while the client's idle socket runs past the
// server's keep-alive timeout: the server's timers run first when it wakes, so it would reset
// a request written on that socket during the stall. The client closes idle sockets first.
test('a request sent while the server stalls past its keep-alive timeout is answered, not reset', { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, ['-e', STALLING_SERVER], {
    env: { ...process.env, CERT: serving.certPem, KEY: serving.keyPem },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const port = Number((await lines.next()).value);
    const c = client([`https://127.0.0.1:${port}`]);
    const post = (): Promise<number> => c.request('POST', cmPath, { body: { metadata: { name: 'x' } } }).then((r) => r.status);
    assert.equal(await post(), 201);
    await new Promise((r) => setTimeout(r, 1_000));
    child.stdin!.write('stall 5000\n'); // until t≈6 s; its 3 s (+1 s) keep-alive timer runs out at t≈4 s
    assert.equal((await lines.next()).value, 'stalling');
    await new Promise((r) => setTimeout(r, 2_000)); // t≈3 s: the first socket has been idle 3 s
    assert.equal(await post(), 201);
  } finally {
    child.kill('SIGKILL');
  }
});

const STALLING_SERVER = `
const https = require('node:https');
const srv = https.createServer({ cert: process.env.CERT, key: process.env.KEY }, (req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(201, { 'Content-Type': 'application/json' }); res.end('{}'); });
});
srv.keepAliveTimeout = 3000;
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const ms = Number(line.split(' ')[1]);
  console.log('stalling');
  const until = Date.now() + ms;
  while (Date.now() < until);
});
`;
