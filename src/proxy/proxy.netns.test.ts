// The real proxy (informers over FakeResource → nft) programming a network namespace that
// plays the node: a bridge with three "pods" (netns + veth), two running small TCP/UDP
// servers that answer with their name and the client address they saw, and an "outside"
// namespace for NodePort and LoadBalancer traffic. Needs root, nft and iproute2; nothing
// touches the root namespace.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { FakeResource } from '../client/fake-resource.ts';
import { Informer } from '../client/informer.ts';
import { silentLogger } from '../util/log.ts';
import { nftRunner, nftSession } from './nft.ts';
import { ServiceProxy, type SyncResult } from './proxy.ts';
import { ep, service, slice } from './testing.ts';
import { cleanupServiceProxy } from './index.ts';

const run = promisify(execFile);
const canRun = process.getuid?.() === 0 && (await run('nft', ['--version']).then(() => true, () => false));

const id = `skp${process.pid % 100000}`;
const NODE = `${id}-node`;
const PODS = { a: { ns: `${id}-a`, ip: '10.200.0.2' }, b: { ns: `${id}-b`, ip: '10.200.0.3' }, c: { ns: `${id}-c`, ip: '10.200.0.4' } };
const OUTSIDE = `${id}-out`;
const GW = '10.200.0.1';
const NODE_IP = '192.168.177.1';
const OUTSIDE_IP = '192.168.177.2';
const HASH = 'a1b2c3d4';
const TABLE = `skiff-svc-${HASH}`;

const SERVER = `
const net = require('net'), dgram = require('dgram'), name = process.argv[1];
net.createServer((s) => s.end(name + ' ' + s.remoteAddress.replace('::ffff:', '') + '\\n')).listen(8080, '0.0.0.0');
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => u.send(name + ' ' + r.address + '\\n', r.port, r.address));
u.bind(5353, '0.0.0.0', () => console.log('up'));
`;
// Prints one JSON line: for each try, {data} or {err} and how long it took.
const CLIENT = `
const net = require('net'), dgram = require('dgram');
const [proto, host, port, n] = process.argv.slice(1);
const one = () => new Promise((res) => {
  const t = Date.now();
  const done = (r) => res({ ...r, ms: Date.now() - t });
  if (proto === 'tcp') {
    const s = net.connect({ host, port: +port });
    let d = '';
    s.setTimeout(3000, () => { s.destroy(); done({ err: 'TIMEOUT' }); });
    s.on('data', (c) => (d += c));
    s.on('end', () => done({ data: d.trim() }));
    s.on('error', (e) => done({ err: e.code }));
  } else {
    const s = dgram.createSocket('udp4');
    const to = setTimeout(() => { s.close(); done({ err: 'TIMEOUT' }); }, 3000);
    s.on('message', (m) => { clearTimeout(to); s.close(); done({ data: m.toString().trim() }); });
    s.send('x', +port, host);
  }
});
(async () => { const out = []; for (let i = 0; i < +n; i++) out.push(await one()); console.log(JSON.stringify(out)); })();
`;

interface Try { data?: string; err?: string; ms: number }

async function sh(cmd: string): Promise<void> {
  await run('sh', ['-ec', cmd]);
}

async function tries(ns: string, proto: 'tcp' | 'udp', host: string, port: number, n: number): Promise<Try[]> {
  const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '-e', CLIENT, proto, host, String(port), String(n)]);
  return JSON.parse(stdout) as Try[];
}
const names = (ts: Try[]) => new Set(ts.map((t) => t.data?.split(' ')[0] ?? `error:${t.err}`));

describe('service proxy in a network namespace', { skip: !canRun && 'needs root and nft' }, () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'skiff-proxy-'));
  const servers: ChildProcess[] = [];
  const services = new FakeResource();
  const slices = new FakeResource();
  const svcInformer = new Informer(services, { name: 'services' });
  const sliceInformer = new Informer(slices, { name: 'endpointslices' });
  const syncs: SyncResult[] = [];
  let proxy: ServiceProxy;
  const nft = nftSession({ prefix: ['nsenter', `--net=/run/netns/${NODE}`] });

  /** Waits for the proxy to have applied everything it was told. */
  const settled = async () => {
    await new Promise((r) => setTimeout(r, 30));
    await proxy.idle();
    assert.equal(syncs.at(-1)?.error, undefined);
  };

  before(async () => {
    await teardown(); // leftovers of a killed earlier run with this pid
    await sh(`
      ip netns add ${NODE}; ip netns add ${OUTSIDE}
      ip -n ${NODE} link set lo up
      ip -n ${NODE} link add br0 type bridge; ip -n ${NODE} addr add ${GW}/24 dev br0; ip -n ${NODE} link set br0 up
      ip -n ${NODE} link add eth0 type veth peer name eth0 netns ${OUTSIDE}
      ip -n ${NODE} addr add ${NODE_IP}/24 dev eth0; ip -n ${NODE} link set eth0 up
      ip -n ${OUTSIDE} addr add ${OUTSIDE_IP}/24 dev eth0; ip -n ${OUTSIDE} link set eth0 up; ip -n ${OUTSIDE} link set lo up
      ip -n ${NODE} route add default via ${OUTSIDE_IP}
      ip netns exec ${NODE} sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables'
    `);
    for (const [name, p] of Object.entries(PODS)) {
      await sh(`
        ip netns add ${p.ns}; ip -n ${p.ns} link set lo up
        ip -n ${NODE} link add v${name} type veth peer name eth0 netns ${p.ns}
        ip -n ${NODE} link set v${name} master br0; ip -n ${NODE} link set v${name} up
        ip -n ${NODE} link set v${name} type bridge_slave hairpin on
        ip -n ${p.ns} addr add ${p.ip}/24 dev eth0; ip -n ${p.ns} link set eth0 up
        ip -n ${p.ns} route add default via ${GW}
      `);
      if (name === 'c') continue;
      const child = spawn('ip', ['netns', 'exec', p.ns, process.execPath, '-e', SERVER, name], { stdio: ['ignore', 'pipe', 'inherit'] });
      servers.push(child);
      await new Promise((r) => child.stdout!.once('data', r));
    }
    svcInformer.start();
    sliceInformer.start();
    proxy = new ServiceProxy({
      services: svcInformer, endpointSlices: sliceInformer, nodeName: 'node-1', clusterCidr: '10.200.0.0/16',
      clusterDns: '10.201.0.10', table: TABLE, nft,
      log: silentLogger, onSync: (s) => syncs.push(s),
    });
    proxy.start();
  });

  after(async () => {
    proxy?.stop();
    nft.close?.();
    svcInformer.stop();
    sliceInformer.stop();
    for (const s of servers) s.kill();
    await teardown();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('ClusterIP spreads TCP and UDP over the endpoints, from pods and from the node', async () => {
    // SCTP too: no client here speaks it, but nft must take its rules.
    await services.create(service('default', 'web', { clusterIP: '10.201.0.20', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }, { name: 'sctp', port: 9, protocol: 'SCTP' }] }));
    await slices.create(slice('default', 'web', 'web-1', [ep(PODS.a.ip, { nodeName: 'node-1' }), ep(PODS.b.ip, { nodeName: 'node-2' })],
      [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'sctp', port: 9999, protocol: 'SCTP' }]));
    await settled();
    assert.equal(syncs[0]!.full, true);
    const { stdout: table } = await run('ip', ['netns', 'exec', NODE, 'nft', 'list', 'chain', 'ip', TABLE, 'svc-default/web/sctp/sctp']);
    assert.match(table, /meta l4proto sctp dnat ip to numgen random mod 2 (offset \d+ )?map @endpoints-sctp/);
    const fromPod = await tries(PODS.c.ns, 'tcp', '10.201.0.20', 80, 24);
    assert.deepEqual(names(fromPod), new Set(['a', 'b']));
    // Pod to pod through a Service: the endpoint sees the client pod's own address.
    assert.ok(fromPod.every((t) => t.data!.endsWith(` ${PODS.c.ip}`)), JSON.stringify(fromPod));
    assert.deepEqual(names(await tries(PODS.c.ns, 'udp', '10.201.0.20', 53, 24)), new Set(['a', 'b']));
    // From the node itself (nat output); masqueraded, since the node is outside the cluster CIDR.
    const fromNode = await tries(NODE, 'tcp', '10.201.0.20', 80, 24);
    assert.deepEqual(names(fromNode), new Set(['a', 'b']));
    assert.ok(fromNode.every((t) => t.data!.endsWith(` ${GW}`)), JSON.stringify(fromNode));
  });

  it('a removed endpoint gets no more traffic, with a small incremental update', async () => {
    const before = syncs.length;
    const s = await slices.get('default', 'web-1');
    s.endpoints = [ep(PODS.a.ip, { nodeName: 'node-1' }), ep(PODS.b.ip, { nodeName: 'node-2', conditions: { ready: false } })];
    await slices.update(s);
    await settled();
    const update = syncs.slice(before);
    assert.equal(update.length, 1);
    assert.equal(update[0]!.full, false);
    assert.ok(update[0]!.bytes < 2000, `${update[0]!.bytes} bytes`);
    assert.deepEqual(names(await tries(PODS.c.ns, 'tcp', '10.201.0.20', 80, 12)), new Set(['a']));
  });

  it('a pod reaches itself through its Service (hairpin)', async () => {
    const got = await tries(PODS.a.ns, 'tcp', '10.201.0.20', 80, 3);
    assert.deepEqual(names(got), new Set(['a']));
    // Masqueraded to the node's bridge address, so the reply comes back the same way.
    assert.ok(got.every((t) => t.data === `a ${GW}`), JSON.stringify(got));
  });

  it('a Service without endpoints refuses at once, from pods and from the node', async () => {
    await services.create(service('default', 'empty', { type: 'NodePort', clusterIP: '10.201.0.21', ports: [{ port: 80, nodePort: 30099 }] }));
    await settled();
    for (const [ns, host, port] of [[PODS.c.ns, '10.201.0.21', 80], [NODE, '10.201.0.21', 80], [OUTSIDE, NODE_IP, 30099]] as const) {
      const got = await tries(ns, 'tcp', host, port, 2);
      assert.ok(got.every((t) => t.err === 'ECONNREFUSED' && t.ms < 1000), `${ns} → ${host}:${port}: ${JSON.stringify(got)}`);
    }
  });

  it('NodePort and LoadBalancer IPs from outside; externalTrafficPolicy Local keeps to local endpoints', async () => {
    await services.create(service('default', 'np', {
      type: 'LoadBalancer', clusterIP: '10.201.0.22', ports: [{ port: 81, targetPort: 8080, nodePort: 30081 }],
    }, { loadBalancer: { ingress: [{ ip: NODE_IP }] } }));
    await slices.create(slice('default', 'np', 'np-1', [ep(PODS.a.ip, { nodeName: 'node-1' }), ep(PODS.b.ip, { nodeName: 'node-2' })], [{ port: 8080 }]));
    await settled();
    const viaNodePort = await tries(OUTSIDE, 'tcp', NODE_IP, 30081, 24);
    assert.deepEqual(names(viaNodePort), new Set(['a', 'b']));
    // Policy Cluster: masqueraded to the node's address.
    assert.ok(viaNodePort.every((t) => t.data!.endsWith(` ${GW}`)), JSON.stringify(viaNodePort));
    assert.deepEqual(names(await tries(OUTSIDE, 'tcp', NODE_IP, 81, 24)), new Set(['a', 'b']));

    const svc = await services.get('default', 'np');
    (svc.spec as any).externalTrafficPolicy = 'Local';
    await services.update(svc);
    await settled();
    const local = await tries(OUTSIDE, 'tcp', NODE_IP, 30081, 12);
    // Only the endpoint on this node, and the client's own address is kept.
    assert.deepEqual(local.map((t) => t.data), Array(12).fill(`a ${OUTSIDE_IP}`));
    // Pods still use every endpoint through the ClusterIP.
    assert.deepEqual(names(await tries(PODS.c.ns, 'tcp', '10.201.0.22', 81, 24)), new Set(['a', 'b']));
  });

  it('sessionAffinity ClientIP sticks to one endpoint', async () => {
    await services.create(service('default', 'sticky', {
      clusterIP: '10.201.0.23', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } }, ports: [{ port: 80 }],
    }));
    await slices.create(slice('default', 'sticky', 'sticky-1', [ep(PODS.a.ip), ep(PODS.b.ip)], [{ port: 8080 }]));
    await settled();
    const got = await tries(PODS.c.ns, 'tcp', '10.201.0.23', 80, 12);
    assert.equal(names(got).size, 1, JSON.stringify(got));
    assert.deepEqual(names(await tries(NODE, 'tcp', '10.201.0.23', 80, 6)).size, 1);
  });

  it('a burst of events becomes one nft run; deleting Services removes their rules', async () => {
    const before = syncs.length;
    for (const n of ['web', 'empty', 'np', 'sticky']) await services.delete('default', n);
    await settled();
    assert.equal(syncs.length - before, 1);
    const { stdout } = await run('ip', ['netns', 'exec', NODE, 'nft', 'list', 'table', 'ip', TABLE]);
    assert.doesNotMatch(stdout, /svc-default|10\.201\.0\.2/);
    const refused = await tries(PODS.c.ns, 'tcp', '10.201.0.20', 80, 1);
    assert.notEqual(refused[0]!.data?.[0], 'a');
  });

  it('a failed nft run is retried as a full sync; cleanup deletes the table', async () => {
    // Someone deletes our table behind our back: the next incremental update fails.
    await run('ip', ['netns', 'exec', NODE, 'nft', 'delete', 'table', 'ip', TABLE]);
    await services.create(service('default', 'again', { clusterIP: '10.201.0.24', ports: [{ port: 80 }] }));
    await slices.create(slice('default', 'again', 'again-1', [ep(PODS.b.ip)], [{ port: 8080 }]));
    const before = syncs.length;
    await until(() => syncs.length > before);
    assert.ok(syncs.at(-1)!.error, 'the incremental sync failed');
    assert.equal(syncs.at(-1)!.full, false);
    await until(() => !syncs.at(-1)!.error, 5000); // the first retry comes after 1 s
    assert.equal(syncs.at(-1)!.full, true);
    assert.deepEqual(names(await tries(PODS.c.ns, 'tcp', '10.201.0.24', 80, 2)), new Set(['b']));
    await cleanupServiceProxy({ hash: HASH }, nftRunner(['nsenter', `--net=/run/netns/${NODE}`]));
    await cleanupServiceProxy({ hash: HASH }, nftRunner(['nsenter', `--net=/run/netns/${NODE}`])); // no table: fine
    await assert.rejects(run('ip', ['netns', 'exec', NODE, 'nft', 'list', 'table', 'ip', TABLE]));
  });
});

async function until(ok: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function teardown(): Promise<void> {
  for (const ns of [NODE, OUTSIDE, ...Object.values(PODS).map((p) => p.ns)]) {
    await run('ip', ['netns', 'del', ns]).catch(() => {});
  }
}
