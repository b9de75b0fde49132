// Cluster DNS and the service proxy outlive the API server: `skiff server --disable-agent`
// and a separate `skiff agent` process; the server is stopped and names keep resolving
// from the agent's informer caches while Service traffic keeps flowing; the server comes
// back on the same data dir and port, and a Service created then resolves and carries
// traffic too (the informers found it again).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { agentUnavailable, eventually, KUBECTL, skiff, testNetworks } from '../helpers/cluster.ts';
import { agentNames } from '../../src/agent/containerd/names.ts';
import { cleanupNodeLocalDns } from '../../src/dns/node-local.ts';

const skip = agentUnavailable();
const BIN = path.resolve(import.meta.dirname, '../../bin/skiff.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-dns-down-'));
const serverDir = path.join(dir, 'server');
const agentDataDir = path.join(dir, 'node');
const procs = new Set<ChildProcess>();

function start(args: string[], ready: RegExp, what: string): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(child);
  child.once('exit', () => procs.delete(child));
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} not ready in 60 s:\n${out}`)), 60_000);
    const on = (d: Buffer) => { out += d; const m = out.match(ready); if (m) { clearTimeout(t); resolve({ child, match: m }); } };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`${what} exited with ${code}:\n${out}`)); });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

function kubectl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(KUBECTL, args, { env: { ...process.env, KUBECONFIG: path.join(serverDir, 'kubeconfig.yaml'), HOME: dir } });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')}: ${out}`))));
  });
}

/** The body of GET http://ip/ from this host, or the error code (2 s at most). */
function httpGet(ip: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port: 80, path: '/', timeout: 2_000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

after(async () => {
  try {
    for (const p of [...procs]) await stop(p);
    if (!skip) await skiff(['killall', '--data-dir', agentDataDir]);
  } finally {
    if (!skip) await cleanupNodeLocalDns(agentNames(path.join(agentDataDir, 'agent')));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('names keep resolving and Service traffic keeps flowing while the API server is down; both follow it again when it is back', { skip }, async () => {
  const nets = testNetworks();
  const serverArgs = (port: string) => ['server', '--data-dir', serverDir, '--https-listen-port', port, '--disable-agent', ...nets.args];
  let { child: server, match } = await start(serverArgs('0'), /ready at (https:\/\/\S+)/, 'server');
  const url = match[1]!;
  const port = new URL(url).port;
  const token = readFileSync(path.join(serverDir, 'token'), 'utf8').trim();
  await start(['agent', '--server', url, '--token', token, '--data-dir', agentDataDir, '--kubelet-port', '0',
    '--ingress-http-port', '0', '--node-name', `dns-down-${process.pid}`], /node \S+ ready/, 'agent');

  const r = new Resolver({ timeout: 1_000, tries: 2 });
  r.setServers([nets.clusterDns]);
  const resolve4 = (name: string) => r.resolve4(name).catch((err: NodeJS.ErrnoException) => err.code);

  // A backend, so the proxy has something to carry traffic to.
  await kubectl(['run', 'web', '--image=skiff.local/busybox:1', '--labels=app=web', '--image-pull-policy=Never', '--',
    'sh', '-c', 'mkdir -p /www && echo served-by-web > /www/index.html && exec httpd -f -p 8080 -h /www']);
  await kubectl(['wait', '--for=condition=Ready', 'pod/web', '--timeout=60s']);
  await kubectl(['create', 'service', 'clusterip', 'before', '--tcp=80:8080']);
  await kubectl(['set', 'selector', 'service', 'before', 'app=web']);
  const beforeIP = (await kubectl(['get', 'svc', 'before', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  await eventually(async () => JSON.stringify(await resolve4('before.default.svc.cluster.local')) === JSON.stringify([beforeIP]), 20_000, 'before resolving');
  await eventually(async () => (await httpGet(beforeIP)) === 'served-by-web', 20_000, 'traffic through the before Service');

  await stop(server);
  // Several times over a few seconds, while the agent's informers retry and back off.
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(await resolve4('before.default.svc.cluster.local'), [beforeIP], `query ${i} with the API server down`);
    assert.deepEqual(await resolve4('kube-dns.kube-system.svc.cluster.local'), [nets.clusterDns]);
    assert.equal(await resolve4('missing.default.svc.cluster.local'), 'ENOTFOUND');
    assert.equal(await httpGet(beforeIP), 'served-by-web', `request ${i} through the Service with the API server down`);
    await new Promise((res) => setTimeout(res, 700));
  }

  ({ child: server } = await start(serverArgs(port), /ready at (https:\/\/\S+)/, 'server again'));
  await kubectl(['create', 'service', 'clusterip', 'after', '--tcp=80:8080']);
  await kubectl(['set', 'selector', 'service', 'after', 'app=web']);
  const afterIP = (await kubectl(['get', 'svc', 'after', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  await eventually(async () => JSON.stringify(await resolve4('after.default.svc.cluster.local')) === JSON.stringify([afterIP]), 45_000, 'after resolving once the server is back');
  await eventually(async () => (await httpGet(afterIP)) === 'served-by-web', 20_000, 'traffic through the after Service');
  assert.deepEqual(await resolve4('before.default.svc.cluster.local'), [beforeIP]);
});
