import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { KObject } from '../api/object.ts';
import { silentLogger } from '../util/log.ts';
import { Router } from './router.ts';
import { startIngressServer, type IngressServer } from './server.ts';
import { endpointSlice, service, simpleIngress } from './testing.ts';

// Backends on loopback that say who they are and echo what they were sent.
async function backend(name: string): Promise<{ port: number; server: http.Server }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], 'x-backend': name });
      res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body }));
    });
  });
  // A toy upgrade protocol: after the 101, every chunk is echoed back upper-cased.
  server.on('upgrade', (req, socket: net.Socket, head) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: shout\r\nConnection: Upgrade\r\nX-Backend: ${name}\r\nX-Seen-Path: ${req.url}\r\n\r\n`);
    if (head.length) socket.write(head.toString().toUpperCase());
    socket.on('data', (d) => socket.write(d.toString().toUpperCase()));
    socket.on('end', () => socket.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, server };
}

async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Res { status: number; headers: http.IncomingHttpHeaders; body: string; json: any }
function request(port: number, host: string, path: string, opts: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host, ...opts.headers }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        let json: any;
        try { json = JSON.parse(body); } catch { /* not JSON */ }
        resolve({ status: res.statusCode!, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

let a1: Awaited<ReturnType<typeof backend>>;
let a2: Awaited<ReturnType<typeof backend>>;
let b: Awaited<ReturnType<typeof backend>>;
let proxy: IngressServer;
let router: Router;
let slices: KObject[];

before(async () => {
  [a1, a2, b] = await Promise.all([backend('a1'), backend('a2'), backend('b')]);
  const dead = await closedPort();
  const ingresses = [simpleIngress('web', [
    { host: 'a.example.test', svc: 'a', port: 'http' },
    { host: 'b.example.test', path: '/api', svc: 'b', port: 80 },
    { host: 'none.example.test', svc: 'none', port: 80 },
    { host: 'dead.example.test', svc: 'dead', port: 80 },
  ])];
  slices = [
    endpointSlice('a', [{ name: 'http', port: a1.port }], [{ ip: '127.0.0.1' }], 'default', 'x'),
    endpointSlice('a', [{ name: 'http', port: a2.port }], [{ ip: '127.0.0.1' }], 'default', 'y'),
    endpointSlice('b', [{ port: b.port }], [{ ip: '127.0.0.1' }]),
    endpointSlice('none', [{ port: 1 }], [{ ip: '127.0.0.1', ready: false }]),
    endpointSlice('dead', [{ port: dead }], [{ ip: '127.0.0.1' }]),
  ];
  router = new Router({
    ingresses: { list: () => ingresses }, ingressClasses: { list: () => [] },
    services: { list: () => [service('a', [{ name: 'http', port: 80 }]), service('b', [{ port: 80 }]), service('none', [{ port: 80 }]), service('dead', [{ port: 80 }])] },
    endpointSlices: { list: () => slices },
  });
  proxy = await startIngressServer({ host: '127.0.0.1', port: 0, router, log: silentLogger });
});

after(async () => {
  await proxy?.close();
  for (const s of [a1, a2, b]) { s?.server.close(); s?.server.closeAllConnections(); }
});

test('routes by host and path, round robin across endpoints, with X-Forwarded-* headers', async () => {
  const first = await request(proxy.port, 'a.example.test', '/x?q=1');
  const second = await request(proxy.port, 'a.example.test', '/x?q=1');
  assert.equal(first.status, 200);
  assert.deepEqual([first.json.name, second.json.name].sort(), ['a1', 'a2']);
  assert.equal(first.json.url, '/x?q=1');
  assert.equal(first.json.headers.host, 'a.example.test', 'Host passed as sent');
  assert.equal(first.json.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(first.json.headers['x-forwarded-proto'], 'http');
  assert.equal(first.json.headers['x-forwarded-host'], 'a.example.test');
  assert.equal(first.json.headers['x-forwarded-port'], String(proxy.port));
  assert.deepEqual(first.headers['set-cookie'], ['a=1', 'b=2'], 'repeated response headers kept');

  const chained = await request(proxy.port, 'a.example.test', '/', { headers: { 'x-forwarded-for': '203.0.113.9' } });
  assert.equal(chained.json.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');

  const api = await request(proxy.port, 'b.example.test', '/api/items');
  assert.equal(api.json.name, 'b');
  assert.equal((await request(proxy.port, 'b.example.test', '/apix')).status, 404, 'Prefix is element-wise');
});

test('request bodies are forwarded; hop-by-hop headers are not', async () => {
  const r = await request(proxy.port, 'a.example.test', '/post', { method: 'POST', body: 'hello body', headers: { 'content-type': 'text/plain', 'x-drop-me': '1', connection: 'x-drop-me' } });
  assert.equal(r.json.method, 'POST');
  assert.equal(r.json.body, 'hello body');
  assert.equal(r.json.headers['x-drop-me'], undefined);
});

test('404 without a rule, 503 without ready endpoints, 502 when the endpoint refuses', async () => {
  const nf = await request(proxy.port, 'unknown.test', '/');
  assert.equal(nf.status, 404);
  assert.equal(nf.body, '404 page not found\n');
  const un = await request(proxy.port, 'none.example.test', '/');
  assert.equal(un.status, 503);
  assert.match(String(un.headers['x-skiff-reason']), /no ready endpoints/);
  assert.equal((await request(proxy.port, 'dead.example.test', '/')).status, 502);
});

test('endpoint changes take effect once the router is told', async () => {
  const saved = slices.slice();
  slices.splice(0, slices.length, ...saved.filter((s) => s.metadata.name !== 'a-y'));
  router.invalidateBackends();
  const names = new Set<string>();
  for (let i = 0; i < 4; i++) names.add((await request(proxy.port, 'a.example.test', '/')).json.name);
  assert.deepEqual([...names], ['a1']);
  slices.splice(0, slices.length, ...saved);
  router.invalidateBackends();
});

test('upgrade requests are passed through as a raw stream', async () => {
  const socket = net.connect(proxy.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('GET /chat HTTP/1.1\r\nHost: b.example.test\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n');
  let got = '';
  socket.on('data', (d) => { got += d; });
  const until = async (re: RegExp) => {
    const deadline = Date.now() + 3000;
    while (!re.test(got)) {
      if (Date.now() > deadline) throw new Error(`no ${re} in ${JSON.stringify(got)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  // /chat does not match b's /api: 404 before any upgrade.
  await until(/404/);
  socket.destroy();

  const s2 = net.connect(proxy.port, '127.0.0.1');
  await once(s2, 'connect');
  got = '';
  s2.on('data', (d) => { got += d; });
  s2.write('GET /api/chat HTTP/1.1\r\nHost: b.example.test\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n');
  await until(/\r\n\r\n/);
  assert.match(got, /^HTTP\/1.1 101/);
  assert.match(got, /X-Backend: b/);
  assert.match(got, /X-Seen-Path: \/api\/chat/);
  s2.write('hello over the tunnel');
  await until(/HELLO OVER THE TUNNEL/);
  s2.destroy();
});

test('close() ends open tunnels instead of waiting for them', async () => {
  const p = await startIngressServer({ host: '127.0.0.1', port: 0, router, log: silentLogger });
  const s = net.connect(p.port, '127.0.0.1');
  await once(s, 'connect');
  s.write('GET /api/ws HTTP/1.1\r\nHost: b.example.test\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n');
  await once(s, 'data');
  const closed = once(s, 'close');
  await Promise.race([p.close(), new Promise((_r, reject) => setTimeout(() => reject(new Error('close() hung on an open tunnel')), 3000))]);
  await closed;
});

test('endpoint answers with bare-LF header lines (CGI scripts) are accepted', async () => {
  const raw = net.createServer((sock) => sock.once('data', () => sock.end('HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 6\n\nlf-ok\n')));
  raw.listen(0, '127.0.0.1');
  await once(raw, 'listening');
  try {
    const lfRouter = new Router({
      ingresses: { list: () => [simpleIngress('lf', [{ host: 'lf.test', svc: 'lf', port: 80 }])] }, ingressClasses: { list: () => [] },
      services: { list: () => [service('lf', [{ port: 80 }])] },
      endpointSlices: { list: () => [endpointSlice('lf', [{ port: (raw.address() as net.AddressInfo).port }], [{ ip: '127.0.0.1' }])] },
    });
    const p = await startIngressServer({ host: '127.0.0.1', port: 0, router: lfRouter, log: silentLogger });
    try {
      const r = await request(p.port, 'lf.test', '/');
      assert.equal(r.status, 200);
      assert.equal(r.body, 'lf-ok\n');
    } finally {
      await p.close();
    }
  } finally {
    raw.close();
  }
});

test('a kept-alive endpoint connection reset on reuse: a body-less request is retried on a new one', async () => {
  // Each connection answers its first request (keep-alive) and resets on the second.
  let connections = 0;
  const raw = net.createServer((sock) => {
    const n = ++connections;
    let requests = 0;
    sock.on('data', () => {
      if (++requests > 1) { sock.resetAndDestroy(); return; }
      sock.write(`HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\nconn-${n}`);
    });
    sock.on('error', () => {});
  });
  raw.listen(0, '127.0.0.1');
  await once(raw, 'listening');
  const rrRouter = new Router({
    ingresses: { list: () => [simpleIngress('rr', [{ host: 'rr.test', svc: 'rr', port: 80 }])] }, ingressClasses: { list: () => [] },
    services: { list: () => [service('rr', [{ port: 80 }])] },
    endpointSlices: { list: () => [endpointSlice('rr', [{ port: (raw.address() as net.AddressInfo).port }], [{ ip: '127.0.0.1' }])] },
  });
  const p = await startIngressServer({ host: '127.0.0.1', port: 0, router: rrRouter, log: silentLogger });
  try {
    assert.equal((await request(p.port, 'rr.test', '/')).body, 'conn-1');
    const second = await request(p.port, 'rr.test', '/');
    assert.equal(second.status, 200, 'retried, not a 502');
    assert.equal(second.body, 'conn-2');
    // With a body it is not retried: the endpoint may have acted on it.
    const post = await request(p.port, 'rr.test', '/', { method: 'POST', body: 'x' });
    assert.equal(post.status, 502);
  } finally {
    await p.close();
    raw.close();
  }
});

test('a taken port is an error for the caller', async () => {
  await assert.rejects(startIngressServer({ host: '127.0.0.1', port: proxy.port, router, log: silentLogger }), /EADDRINUSE/);
});
