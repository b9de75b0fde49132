import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { ensureClusterCredentials } from '../../apiserver/pki/credentials.ts';
import { issueClientCertificate } from '../../apiserver/pki/issue-certificates.ts';
import type { ClusterCredentials } from '../../apiserver/pki/types.ts';
import { silentLogger } from '../../util/log.ts';
import { startKubeletServer } from './server.ts';
import { ensureAgentServingCert } from './serving-cert.ts';
import type { ContainerRef, KubeletServer, PodStreamBackend, StreamFlags } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubelet-server-'));
let creds: ClusterCredentials;
let foreign: ClusterCredentials;
let agent: KubeletServer;
let upstream: http.Server;
let upstreamUrl: string;
const upstreamSeen: { url: string; method: string; headers: string[]; bytes: Buffer[] }[] = [];
const calls: { op: string; args: unknown[] }[] = [];
const logPath = join(dir, 'c.log');
const prevPath = join(dir, 'c-prev.log');

const containers: Record<string, ContainerRef> = {
  'ns/p/c': { containerId: 'cid-1', podSandboxId: 'sb-1', logPath, previousLogPath: prevPath, tty: false, stdin: true },
  'ns/p/noprev': { containerId: 'cid-2', podSandboxId: 'sb-1', logPath, tty: false, stdin: false },
};
const backend: PodStreamBackend = {
  container: (ns, pod, c) => containers[`${ns}/${pod}/${c}`],
  sandbox: (ns, pod) => (ns === 'ns' && pod === 'p' ? { podSandboxId: 'sb-1' } : undefined),
  async exec(id: string, cmd: string[], o: StreamFlags) { calls.push({ op: 'exec', args: [id, cmd, o] }); return `${upstreamUrl}/exec/tok-exec`; },
  async attach(id: string, o: StreamFlags) { calls.push({ op: 'attach', args: [id, o] }); return `${upstreamUrl}/attach/tok-attach`; },
  async portForward(sb: string, ports: number[]) {
    calls.push({ op: 'portForward', args: [sb, ports] });
    return ports.includes(9) ? 'http://127.0.0.1:1/portforward/nowhere' : `${upstreamUrl}/portforward/tok-pf`;
  },
};

before(async () => {
  creds = await ensureClusterCredentials({ dataDir: join(dir, 'cluster'), serverUrl: 'https://127.0.0.1:1' });
  foreign = await ensureClusterCredentials({ dataDir: join(dir, 'foreign'), serverUrl: 'https://127.0.0.1:1' });
  writeFileSync(logPath, '2024-01-01T00:00:01.5Z stdout F hello\n2024-01-01T00:00:02Z stderr F world\n');
  writeFileSync(prevPath, '2024-01-01T00:00:00Z stdout F from the previous instance\n');
  // A stand-in for containerd's streaming server: answers the upgrade with 101, then echoes.
  upstream = http.createServer((_req, res) => { res.writeHead(404); res.end(); });
  upstream.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const seen = { url: req.url!, method: req.method!, headers: req.rawHeaders, bytes: [] as Buffer[] };
    upstreamSeen.push(seen);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
    if (head.length) { seen.bytes.push(head); socket.write(head); }
    socket.on('data', (d: Buffer) => {
      seen.bytes.push(d);
      if (d.toString() === 'bye') socket.destroy(); else socket.write(d);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const serving = await ensureAgentServingCert(join(dir, 'agent'), 'node-a', ['127.0.0.1']);
  agent = await startKubeletServer({ host: '127.0.0.1', port: 0, tls: serving, clientCaPem: creds.caCertPem, backend, log: silentLogger, followPollMs: 30 });
});
after(async () => {
  await agent?.close();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

interface Client { cert?: string; key?: string }
const admin = (): Client => ({ cert: creds.adminCertPem, key: creds.adminKeyPem });

function get(path: string, client: Client = admin()): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: agent.port, path, rejectUnauthorized: false, ...client }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

type UpgradeResult = { kind: 'upgrade'; res: http.IncomingMessage; socket: Socket; head: Buffer } | { kind: 'response'; status: number; text: string };
function upgrade(method: string, path: string, headers: Record<string, string | string[]>, client: Client = admin()): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: agent.port, path, method, headers, rejectUnauthorized: false, ...client });
    req.on('upgrade', (res, socket, head) => resolve({ kind: 'upgrade', res, socket, head }));
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ kind: 'response', status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end();
  });
}
const SPDY = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'channel.k8s.io'] };

test('the serving certificate is self-signed for the node and reused', async () => {
  const a = await ensureAgentServingCert(join(dir, 'agent'), 'node-a', ['127.0.0.1']);
  const b = await ensureAgentServingCert(join(dir, 'agent'), 'node-a', ['127.0.0.1']);
  assert.equal(a.certPem, b.certPem);
  const cert = new X509Certificate(a.certPem);
  assert.match(cert.subjectAltName!, /DNS:node-a/);
  assert.match(cert.subjectAltName!, /IP Address:127\.0\.0\.1/);
  const c = await ensureAgentServingCert(join(dir, 'agent'), 'node-a', ['127.0.0.1', '10.1.2.3']);
  assert.notEqual(c.certPem, a.certPem, 'a new address means a new certificate');
  assert.match(new X509Certificate(c.certPem).subjectAltName!, /10\.1\.2\.3/);
});

test('a client without a certificate signed by the cluster CA is refused at the TLS handshake', async () => {
  await assert.rejects(get('/healthz', {}));
  await assert.rejects(get('/healthz', { cert: foreign.adminCertPem, key: foreign.adminKeyPem }));
  assert.equal((await get('/healthz')).text, 'ok');
});

test('only the API server\'s kubelet client and cluster admins get in: a node\'s certificate is Forbidden', async () => {
  const ca = { certPem: creds.caCertPem, keyPem: creds.caKeyPem };
  const node = await issueClientCertificate(ca, 'system:node:b', ['system:nodes'], new Date());
  const asNode = await get('/containerLogs/ns/p/c', { cert: node.certPem, key: node.keyPem });
  assert.equal(asNode.status, 403);
  assert.match(JSON.parse(asNode.text).message, /^Forbidden \(user=system:node:b, verb=get, resource=nodes, subresource\(s\)=\[proxy\]\)/);
  const exec = await upgrade('POST', '/exec/ns/p/c?command=sh&stdin=1', SPDY, { cert: node.certPem, key: node.keyPem });
  assert.equal(exec.kind === 'response' && exec.status, 403);
  const apiserver = await issueClientCertificate(ca, 'kube-apiserver-kubelet-client', [], new Date());
  assert.equal((await get('/containerLogs/ns/p/c', { cert: apiserver.certPem, key: apiserver.keyPem })).status, 200);
});

test('logs: the CRI log is served with tail, timestamps and previous', async () => {
  const all = await get('/containerLogs/ns/p/c');
  assert.equal(all.status, 200);
  assert.match(String(all.headers['content-type']), /^text\/plain/);
  assert.equal(all.text, 'hello\nworld\n');
  assert.equal((await get('/containerLogs/ns/p/c?tailLines=1&timestamps=true')).text, '2024-01-01T00:00:02Z world\n');
  assert.equal((await get('/containerLogs/ns/p/c?limitBytes=3')).text, 'hel');
  assert.equal((await get('/containerLogs/ns/p/c?sinceTime=2024-01-01T00:00:02Z')).text, 'world\n');
  assert.equal((await get('/containerLogs/ns/p/c?previous=true')).text, 'from the previous instance\n');
});

test('logs: errors are Status objects', async () => {
  const noPrev = await get('/containerLogs/ns/p/noprev?previous=true');
  assert.equal(noPrev.status, 400);
  assert.equal(JSON.parse(noPrev.text).message, 'previous terminated container "noprev" in pod "p" not found');
  const missing = await get('/containerLogs/ns/p/nope');
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.text).message, 'container "nope" not found in pod "p"');
  assert.equal((await get('/containerLogs/ns/gone/c')).status, 404);
  assert.equal((await get('/containerLogs/ns/p/c?tailLines=-1')).status, 400);
  assert.equal((await get('/nothing/here')).status, 404);
});

test('logs: follow streams appended lines until the client goes away', async () => {
  const text = await new Promise<string>((resolve, reject) => {
    let got = '';
    const req = https.request({ host: '127.0.0.1', port: agent.port, path: '/containerLogs/ns/p/c?follow=true&tailLines=0', rejectUnauthorized: false, ...admin() }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d) => {
        got += d;
        if (got.includes('later\n')) { req.destroy(); resolve(got); }
      });
    });
    req.on('error', (err) => { if (!got.includes('later')) reject(err); });
    req.end();
    setTimeout(() => appendFileSync(logPath, '2024-01-01T00:00:03Z stdout F later\n'), 100);
  });
  assert.equal(text, 'later\n');
});

test('exec: a SPDY upgrade is passed through to the runtime streaming URL, both ways', async () => {
  calls.length = 0;
  upstreamSeen.length = 0;
  const r = await upgrade('POST', '/exec/ns/p/c?command=sh&command=-c&command=echo%20hi&input=1&output=1&error=1', SPDY);
  assert.equal(r.kind, 'upgrade');
  if (r.kind !== 'upgrade') return;
  assert.equal(r.res.statusCode, 101);
  assert.equal(r.res.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
  assert.deepEqual(calls, [{ op: 'exec', args: ['cid-1', ['sh', '-c', 'echo hi'], { stdin: true, stdout: true, stderr: true, tty: false }] }]);
  r.socket.write(Buffer.from([0x80, 0x03, 0x00, 0x01, 0xff]));
  const echoed = await new Promise<Buffer>((resolve) => r.socket.once('data', resolve));
  assert.deepEqual([...echoed], [0x80, 0x03, 0x00, 0x01, 0xff]);
  // The runtime closing the session closes the client's connection too.
  const closed = new Promise((resolve) => r.socket.once('close', resolve));
  r.socket.write('bye');
  await closed;
  const seen = upstreamSeen[0]!;
  assert.equal(seen.url, '/exec/tok-exec');
  assert.equal(seen.method, 'POST');
  const versions = seen.headers.filter((_h, i) => i % 2 === 1 && seen.headers[i - 1]!.toLowerCase() === 'x-stream-protocol-version');
  assert.deepEqual(versions, ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'channel.k8s.io']);
});

test('attach and port-forward resolve their URLs from the backend', async () => {
  calls.length = 0;
  const a = await upgrade('POST', '/attach/ns/p/c?output=1&tty=1&error=1', SPDY);
  assert.equal(a.kind, 'upgrade');
  if (a.kind === 'upgrade') a.socket.destroy();
  const pf = await upgrade('POST', '/portForward/ns/p?port=8080,9090', { ...SPDY, 'X-Stream-Protocol-Version': 'portforward.k8s.io' });
  assert.equal(pf.kind, 'upgrade');
  if (pf.kind === 'upgrade') pf.socket.destroy();
  const pfNoPorts = await upgrade('GET', '/portForward/ns/p', { ...SPDY, 'X-Stream-Protocol-Version': 'portforward.k8s.io' });
  assert.equal(pfNoPorts.kind, 'upgrade');
  if (pfNoPorts.kind === 'upgrade') pfNoPorts.socket.destroy();
  assert.deepEqual(calls, [
    { op: 'attach', args: ['cid-1', { stdin: false, stdout: true, stderr: false, tty: true }] },
    { op: 'portForward', args: ['sb-1', [8080, 9090]] },
    { op: 'portForward', args: ['sb-1', []] },
  ]);
});

test('a WebSocket upgrade offering only protocols neither the agent nor the runtime speaks is refused with a 400 Status so kubectl falls back to SPDY', async () => {
  const r = await upgrade('GET', '/exec/ns/p/c?command=ls&output=1', {
    Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v3.channel.k8s.io',
  });
  assert.equal(r.kind, 'response');
  if (r.kind !== 'response') return;
  assert.equal(r.status, 400);
  const status = JSON.parse(r.text);
  assert.equal(status.kind, 'Status');
  assert.match(status.message, /SPDY/);
});

test('upgrade errors: unknown container, no streams, runtime unreachable, no upgrade', async () => {
  const missing = await upgrade('POST', '/exec/ns/p/nope?command=ls&output=1', SPDY);
  assert.equal(missing.kind === 'response' && missing.status, 404);
  const noStreams = await upgrade('POST', '/exec/ns/p/c?command=ls', SPDY);
  assert.equal(noStreams.kind === 'response' && noStreams.status, 400);
  const unreachable = await upgrade('POST', '/portForward/ns/p?port=9', SPDY);
  assert.equal(unreachable.kind === 'response' && unreachable.status, 502);
  const plain = await get('/exec/ns/p/c?command=ls&output=1');
  assert.equal(plain.status, 400);
  assert.equal(JSON.parse(plain.text).message, 'Upgrade request required');
});
