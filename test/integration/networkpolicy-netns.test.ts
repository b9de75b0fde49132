// The real nft rules in the kernel, without containerd: network namespaces play pods
// behind a bridge inside a "node" namespace we create (br_netfilter on there, as on a
// Skiff node), the controller drives the node's table from in-memory sources, and
// busybox wget (under `timeout`) says whether a TCP connection got through.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { KObject } from '../../src/api/object.ts';
import type { EventHandlers } from '../../src/client/informer.ts';
import { silentLogger } from '../../src/util/log.ts';
import { NetpolController, type Source } from '../../src/netpol/controller.ts';
import { nftRunner } from '../../src/proxy/nft.ts';
import { desiredState, renderFull, tableName } from '../../src/netpol/render.ts';
import { computeModel } from '../../src/netpol/model.ts';

const run = promisify(execFile);
const can = process.getuid?.() === 0 && spawnSync('nft', ['--version']).status === 0 && spawnSync('busybox', ['true']).status === 0
  && spawnSync('ip', ['-V']).status === 0;
const skip = can ? false : 'needs root, ip, nft and busybox';

const tag = `npt${Math.random().toString(16).slice(2, 6)}`;
const NODE = `${tag}-node`;
const GW = '10.77.0.1';
const PODS = [
  { ns: `${tag}-srv`, name: 'server', ip: '10.77.0.10', namespace: 'app', labels: { role: 'server' } },
  { ns: `${tag}-c1`, name: 'client', ip: '10.77.0.20', namespace: 'app', labels: { role: 'client' } },
  { ns: `${tag}-c2`, name: 'other', ip: '10.77.0.21', namespace: 'app', labels: { role: 'other' } },
  { ns: `${tag}-c3`, name: 'far', ip: '10.77.0.30', namespace: 'tools', labels: { role: 'other' } },
];
const SERVER = PODS[0]!;
const SERVICE_IP = '10.77.200.1';
const TABLE = tableName('test0000');

class MemorySource implements Source {
  readonly items = new Map<string, KObject>();
  readonly handlers = new Set<EventHandlers>();
  list(): KObject[] { return [...this.items.values()]; }
  addEventHandler(h: EventHandlers): () => void { this.handlers.add(h); return () => this.handlers.delete(h); }
  waitForSync(): Promise<void> { return Promise.resolve(); }
  put(o: KObject): void {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    const old = this.items.get(key);
    this.items.set(key, o);
    for (const h of this.handlers) old ? h.onUpdate?.(old, o) : h.onAdd?.(o);
  }
  del(namespace: string, name: string): void {
    const old = this.items.get(`${namespace}/${name}`);
    this.items.delete(`${namespace}/${name}`);
    if (old) for (const h of this.handlers) h.onDelete?.(old);
  }
}

const podObj = (p: typeof PODS[number]): KObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { namespace: p.namespace, name: p.name, labels: { ...p.labels } },
  spec: { nodeName: 'node', containers: [{ name: 'c', ports: p === SERVER ? [{ name: 'alt', containerPort: 9090 }] : [] }] },
  status: { phase: 'Running', podIP: p.ip },
});
const np = (namespace: string, name: string, spec: unknown): KObject =>
  ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec });

const policies = new MemorySource();
const pods = new MemorySource();
const namespaces = new MemorySource();
let controller: NetpolController;
const servers: ChildProcess[] = [];
let www: string;

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

before(async () => {
  if (skip) return;
  await ip('netns', 'add', NODE);
  await run('ip', ['netns', 'exec', NODE, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1']);
  await ip('-n', NODE, 'link', 'set', 'lo', 'up');
  await ip('-n', NODE, 'link', 'add', 'br0', 'type', 'bridge');
  await ip('-n', NODE, 'addr', 'add', `${GW}/24`, 'dev', 'br0');
  await ip('-n', NODE, 'link', 'set', 'br0', 'up');
  for (const [i, p] of PODS.entries()) {
    await ip('netns', 'add', p.ns);
    await ip('-n', NODE, 'link', 'add', `veth${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.ns);
    await ip('-n', NODE, 'link', 'set', `veth${i}`, 'master', 'br0', 'up');
    await ip('-n', p.ns, 'addr', 'add', `${p.ip}/24`, 'dev', 'eth0');
    await ip('-n', p.ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', p.ns, 'link', 'set', 'lo', 'up');
    await ip('-n', p.ns, 'route', 'add', 'default', 'via', GW);
  }
  // A Service as kube-proxy would make it: DNAT at prerouting, before our forward chain.
  await nftRunner(['ip', 'netns', 'exec', NODE])(`table ip svc {
  chain pre { type nat hook prerouting priority dstnat; ip daddr ${SERVICE_IP} tcp dport 80 dnat to ${SERVER.ip}:9090; ip daddr ${SERVICE_IP} tcp dport 81 dnat to ${SERVER.ip}:8080; }
}
`);
  www = mkdtempSync(path.join(os.tmpdir(), 'netpol-www-'));
  writeFileSync(path.join(www, 'index.html'), 'hello\n');
  for (const port of ['8080', '9090']) {
    servers.push(spawn('ip', ['netns', 'exec', SERVER.ns, 'busybox', 'httpd', '-f', '-p', port, '-h', www], { stdio: 'ignore' }));
  }
  for (const p of PODS) pods.put(podObj(p));
  namespaces.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app', labels: {} } });
  namespaces.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tools', labels: { team: 'tools' } } });
  controller = new NetpolController({
    policies, pods, namespaces, nodeName: 'node', nodeIPs: [GW], table: TABLE,
    apply: nftRunner(['ip', 'netns', 'exec', NODE]), log: silentLogger, debounceMs: 10,
  });
  controller.start();
  await sync();
});

after(async () => {
  if (skip) return;
  await controller?.stop();
  for (const s of servers) s.kill();
  for (const ns of [NODE, ...PODS.map((p) => p.ns)]) spawnSync('ip', ['netns', 'del', ns]);
  if (www) rmSync(www, { recursive: true, force: true });
});

async function sync(): Promise<void> {
  await controller.syncNow();
  assert.equal(controller.lastError, undefined, String(controller.lastError));
}

/** Whether a TCP connection from netns `from` to url gets an HTTP answer (1 s timeout). */
async function reaches(from: string, url: string): Promise<boolean> {
  try {
    // (busybox 1.35's `wget -T` crashes; `timeout` bounds it instead)
    const { stdout } = await run('ip', ['netns', 'exec', from, 'busybox', 'timeout', '1', 'busybox', 'wget', '-q', '-O', '-', url]);
    return stdout === 'hello\n';
  } catch {
    return false;
  }
}

async function matrix(port = 8080, host = SERVER.ip): Promise<Record<string, boolean>> {
  const clients = PODS.slice(1);
  const res = await Promise.all(clients.map((c) => reaches(c.ns, `http://${host}:${port}/`)));
  return Object.fromEntries(clients.map((c, i) => [c.name, res[i]!]));
}

test('without a policy every pod reaches the server, through the bridge and through the Service DNAT', { skip }, async () => {
  // Wait for httpd to listen.
  for (let i = 0; i < 50 && !(await reaches(PODS[1]!.ns, `http://${SERVER.ip}:8080/`)); i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(await matrix(), { client: true, other: true, far: true });
  assert.equal(await reaches(PODS[1]!.ns, `http://${SERVICE_IP}:80/`), true);
});

test('deny-all blocks bridged pod-to-pod TCP (br_netfilter brings it to forward); the node itself still gets in', { skip }, async () => {
  policies.put(np('app', 'deny', { podSelector: {}, policyTypes: ['Ingress'] }));
  await sync();
  assert.deepEqual(await matrix(), { client: false, other: false, far: false });
  assert.equal(await reaches(NODE, `http://${SERVER.ip}:8080/`), true, 'kubelet-style traffic from the node');
  // the server, isolated for ingress, still gets its replies (established) when it connects out
  assert.equal(await reaches(SERVER.ns, `http://${PODS[1]!.ip}:8080/`), false, 'nothing listens on the client: refused, not hung');
});

test('an allow rule for role=client opens it for that pod only; a label change is a set update', { skip }, async () => {
  policies.put(np('app', 'allow-client', { podSelector: { matchLabels: { role: 'server' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }] }));
  await sync();
  assert.deepEqual(await matrix(), { client: true, other: false, far: false });
  pods.put({ ...podObj(PODS[2]!), metadata: { namespace: 'app', name: 'other', labels: { role: 'client' } } });
  await sync();
  assert.deepEqual(await matrix(), { client: true, other: true, far: false });
  pods.put(podObj(PODS[2]!));
  await sync();
  assert.deepEqual(await matrix(), { client: true, other: false, far: false });
});

test('a namespaceSelector rule lets the other namespace in', { skip }, async () => {
  policies.put(np('app', 'allow-tools', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'tools' } } }] }] }));
  await sync();
  assert.deepEqual(await matrix(), { client: true, other: false, far: true });
  policies.del('app', 'allow-tools');
});

test('a port rule opens one port (named or numbered); Service traffic is checked against the pod port after DNAT', { skip }, async () => {
  policies.put(np('app', 'allow-client', { podSelector: { matchLabels: { role: 'server' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 9090 }] }] }));
  await sync();
  assert.deepEqual(await matrix(8080), { client: false, other: false, far: false });
  assert.deepEqual(await matrix(9090), { client: true, other: false, far: false });
  const c = PODS[1]!.ns;
  assert.equal(await reaches(c, `http://${SERVICE_IP}:80/`), true, 'service port 80 → pod 9090: allowed');
  assert.equal(await reaches(c, `http://${SERVICE_IP}:81/`), false, 'service port 81 → pod 8080: denied');

  policies.put(np('app', 'allow-client', { podSelector: { matchLabels: { role: 'server' } }, ingress: [{ ports: [{ port: 'alt' }, { port: 8000, endPort: 8079 }] }] }));
  await sync();
  assert.deepEqual(await matrix(9090), { client: true, other: true, far: true });
  assert.deepEqual(await matrix(8080), { client: false, other: false, far: false }, 'endPort 8079 stops short of 8080');
});

test('the incrementally updated table equals a freshly written one', { skip }, async () => {
  const list = async () => (await run('ip', ['netns', 'exec', NODE, 'nft', '-s', 'list', 'table', 'inet', TABLE])).stdout
    .split(/[\s,{}]+/).filter(Boolean).sort().join(' ');
  const incremental = await list();
  const model = computeModel({ policies: policies.list(), pods: pods.list(), namespaces: namespaces.list(), nodeName: 'node' });
  await nftRunner(['ip', 'netns', 'exec', NODE])(renderFull(TABLE, desiredState(model, { nodeIPs: [GW] })));
  assert.equal(await list(), incremental);
});

test('deleting the policies restores access', { skip }, async () => {
  policies.del('app', 'deny');
  policies.del('app', 'allow-client');
  await sync();
  assert.deepEqual(await matrix(), { client: true, other: true, far: true });
});
