// Chaos tests for the etcd datastore and several servers (issue 7), on loopback only:
// a 3-member etcd (test/helpers/etcd-cluster.ts), skiff servers on --datastore-endpoint
// listing all three, a client writing ConfigMaps steadily and a watch following them
// (test/helpers/chaos.ts). Members and servers are SIGKILLed under the load; every test
// ends by checking that each acknowledged write is present once and was seen once by the
// watch, in order. Everything started is killed in t.after, pass or fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startServer, testNetworks } from '../helpers/cluster.ts';
import { startSim } from '../helpers/sim.ts';
import type { TestSim } from '../helpers/sim.ts';
import type { TestServer } from '../helpers/cluster.ts';
import { etcdBinary, startEtcdCluster } from '../helpers/etcd-cluster.ts';
import type { EtcdCluster } from '../helpers/etcd-cluster.ts';
import { checkWrites, send, sleep, targetsFrom, until, WatchRecorder, WriteLoad } from '../helpers/chaos.ts';
import type { Target } from '../helpers/chaos.ts';

const skip = etcdBinary() ? false : 'etcd is not installed (apt-get install etcd-server)';
const UNAVAILABLE = /^etcd datastore unavailable: .+ \(check that a majority of the --datastore-endpoint members is running\)$/;

async function listAll(target: Target, ns: string): Promise<{ items: any[]; rv: number }> {
  const r = await send(target, 'GET', `/api/v1/namespaces/${ns}/configmaps`);
  assert.equal(r.status, 200, r.text);
  return { items: r.json.items, rv: Number(r.json.metadata.resourceVersion) };
}

/** Seconds from `t` to the first acknowledged write after it. */
const firstAckAfter = (load: WriteLoad, t: number): number | undefined => {
  const a = load.ackedSince(t)[0];
  return a ? (a.at - t) / 1000 : undefined;
};

test('etcd faults under one server: lose one member, lose quorum, recover; no acknowledged write lost', { skip, timeout: 170_000 }, async (t) => {
  let etcd: EtcdCluster | undefined;
  let server: TestServer | undefined;
  let load: WriteLoad | undefined;
  let watch: WatchRecorder | undefined;
  let targets: Target[] = [];
  t.after(async () => {
    await load?.stop();
    await watch?.stop();
    await server?.stop('SIGKILL');
    for (const x of targets) x.agent.destroy();
    await etcd?.stop();
  });
  etcd = await startEtcdCluster({ members: 3 });
  server = await startServer({ args: ['--datastore-endpoint', etcd.endpoints] });
  targets = targetsFrom(server.kubeconfig, [server.url]);
  const ns = 'default';

  const start = await listAll(targets[0]!, ns);
  watch = new WatchRecorder(targets, ns, start.rv).start();
  load = new WriteLoad(targets, ns, 'w').start();
  await until(() => load!.acked.length >= 10, 20_000, 'ten writes before any fault');
  assert.deepEqual(load.failures, [], 'no failure while all members run');

  // The leader down: a majority remains, writes go on after a short election.
  const first = (await etcd.leader()) ?? etcd.members[0]!;
  const [second, survivor] = etcd.members.filter((m) => m !== first);
  const kill1 = Date.now();
  await first.kill();
  await until(() => load!.ackedSince(kill1).length >= 10, 30_000, 'ten writes with one member down');
  const window1 = load.failedSince(kill1);
  t.diagnostic(`etcd leader ${first.name} down: first write acknowledged ${firstAckAfter(load, kill1)}s after the kill, ${window1.length} failed writes`);
  for (const f of window1) {
    assert.ok(f.status === 503 || f.status === 504, `a failure with one member down is a 503/504, not ${JSON.stringify(f)}`);
    assert.ok(f.at - kill1 < 15_000, `writes failed for more than 15 s with one member down: ${JSON.stringify(f)}`);
  }

  // Two members down: no quorum. Writes fail with a bounded 503/504 saying so.
  const kill2 = Date.now();
  await second!.kill();
  await until(() => load!.failedSince(kill2).length >= 2, 40_000, 'writes to fail without quorum');
  const fails = load.failedSince(kill2);
  for (const f of fails) {
    assert.ok(f.status === 503 || f.status === 504, `without quorum a write fails with 503/504: ${JSON.stringify(f)}`);
    assert.match(f.reason ?? '', /^(ServiceUnavailable|Timeout)$/, JSON.stringify(f));
    assert.match(f.message, UNAVAILABLE);
    assert.ok(f.ms < 15_000, `the failure came in ${f.ms} ms: bounded, not a hang`);
  }
  for (const f of fails) t.diagnostic(`no quorum (only ${survivor!.name}): a write failed in ${f.ms} ms with ${f.status} ${f.reason}: ${f.message}`);
  const ackedAt = load.acked.length;
  // Reads the watch cache serves (resourceVersion=0) still answer; a consistent read does not hang.
  const cached = await send(targets[0]!, 'GET', `/api/v1/namespaces/${ns}/configmaps?resourceVersion=0`);
  assert.equal(cached.status, 200, `a cached list answers without quorum: ${cached.text.slice(0, 300)}`);
  assert.ok(cached.json.items.length >= ackedAt - 1, 'the cached list has the acknowledged writes');
  const consistent = await send(targets[0]!, 'GET', `/api/v1/namespaces/${ns}/configmaps/w-1`);
  assert.ok(consistent.status === 200 || consistent.status === 503 || consistent.status === 504, `a consistent read: 200 or 503/504, got ${consistent.status} ${consistent.text.slice(0, 300)}`);
  t.diagnostic(`no quorum: cached list ${cached.status} in ${cached.ms} ms, consistent get ${consistent.status} in ${consistent.ms} ms`);
  // A watch that breaks now re-opens from its last resourceVersion (served from the watch cache).
  watch.reconnect();
  await until(() => watch!.reconnects >= 1, 10_000, 'the watch to re-open');

  // Both back: writes succeed again, the watch catches up with no gap.
  const back = Date.now();
  await Promise.all([first.restart(), second!.restart()]);
  await etcd.waitHealthy(30_000);
  await until(() => load!.ackedSince(back).length >= 10, 40_000, 'ten writes after the members came back');
  const after = load.failedSince(back);
  t.diagnostic(`recovered: first write acknowledged ${firstAckAfter(load, back)}s after the restart; ${after.length} writes failed meanwhile (${[...new Set(after.map((f) => `${f.status} ${f.message}`))].join(' | ')})`);
  watch.reconnect(); // and once more after the outage
  await until(() => load!.ackedSince(back).length >= 20, 30_000, 'twenty writes after the members came back');
  await load.stop();
  const acked = load.acked;
  const maxRv = Math.max(...acked.map((a) => a.rv));
  await until(() => watch!.lastRv >= maxRv, 30_000, `the watch to reach rv ${maxRv} (at ${watch!.lastRv}; ${watch!.errors.join('; ')})`);
  await watch.stop();
  t.diagnostic(`${acked.length} acknowledged writes, ${load.failures.length} failed, watch: ${watch.events.length} events, ${watch.reconnects} reconnects`);
  for (const e of watch.errors) t.diagnostic(`watch: ${e}`);
  assert.ok(watch.reconnects >= 2, 'the watch re-opened during and after the outage');

  const final = await listAll(targets[0]!, ns);
  assert.deepEqual(checkWrites(acked, final.items, watch), []);
  assert.equal(server.process.exitCode, null, 'the server kept running through the outage');
  // The three members hold the same history: nothing diverged.
  const hashes = await etcd.hashKV(final.rv);
  assert.equal(hashes.length, 3);
  assert.equal(new Set(hashes.map((h) => h.hash)).size, 1, `members agree at rv ${final.rv}: ${JSON.stringify(hashes)}`);
});

interface PodInfo { name: string; node?: string; owner?: string; phase?: string }

async function podsOf(target: Target, selector: string): Promise<PodInfo[]> {
  const r = await send(target, 'GET', `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(selector)}`);
  assert.equal(r.status, 200, r.text);
  return r.json.items.map((p: any) => ({ name: p.metadata.name, node: p.spec.nodeName, owner: p.metadata.ownerReferences?.[0]?.name, phase: p.status?.phase }));
}

async function replicaSetsOf(target: Target, selector: string): Promise<Array<{ name: string; replicas: number }>> {
  const r = await send(target, 'GET', `/apis/apps/v1/namespaces/default/replicasets?labelSelector=${encodeURIComponent(selector)}`);
  assert.equal(r.status, 200, r.text);
  return r.json.items.map((rs: any) => ({ name: rs.metadata.name, replicas: rs.spec.replicas }));
}

const deployment = (name: string, replicas: number): object => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: {
    replicas, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'skiff.local/busybox:1' }] } },
  },
});

/** The server whose controllers hold the `skiff-controllers` Lease (identity ends with its server-id). */
async function controllerLeader(target: Target, servers: TestServer[]): Promise<TestServer | undefined> {
  const r = await send(target, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/skiff-controllers');
  if (r.status !== 200) return undefined;
  const holder: string = r.json.spec?.holderIdentity ?? '';
  return servers.find((s) => holder.endsWith(`-${readFileSync(join(s.dataDir, 'server-id'), 'utf8').trim()}`));
}

const began = Date.now();
/** Progress on stderr, so a run that hangs shows where. */
const step = (what: string): void => { process.stderr.write(`# ${((Date.now() - began) / 1000).toFixed(1)}s ${what}\n`); };

test('kill -9 the leading server of three: the API stays up, scheduling moves, no write lost, no pod duplicated', { skip, timeout: 200_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-ha-chaos-'));
  let etcd: EtcdCluster | undefined;
  const servers: TestServer[] = [];
  let sim: TestSim | undefined;
  let load: WriteLoad | undefined;
  let watch: WatchRecorder | undefined;
  const targets: Target[] = [];
  t.after(async () => {
    await load?.stop();
    await watch?.stop();
    await sim?.stop('SIGKILL');
    // (stop() waits for an exit that already happened if the server was killed: skip those)
    for (const s of servers) if (s.process.exitCode === null && s.process.signalCode === null) await s.stop('SIGKILL').catch(() => {});
    for (const x of targets) x.agent.destroy();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  etcd = await startEtcdCluster({ members: 3, dir: join(dir, 'etcd') });
  const common = ['--datastore-endpoint', etcd.endpoints, ...testNetworks().args];
  const a = await startServer({ dataDir: join(dir, 'a'), args: common });
  servers.push(a);
  const token = readFileSync(join(a.dataDir, 'token'), 'utf8').trim();
  // (each pushed as it comes up, so t.after stops it even if the other fails)
  await Promise.all(['b', 'c'].map(async (n) => { servers.push(await startServer({ dataDir: join(dir, n), args: [...common, '--token', token] })); }));
  step('three servers up');
  // A's admin credentials work on every server (one cluster CA).
  targets.push(...targetsFrom(a.kubeconfig, servers.map((s) => s.url)));
  const leader = await until(async () => !!(await controllerLeader(targets[0]!, servers)), 30_000, 'a controller leader')
    .then(() => controllerLeader(targets[0]!, servers)) as TestServer;
  const others = servers.filter((s) => s !== leader);
  const otherTargets = targets.filter((x) => x.url !== leader.url);
  t.diagnostic(`controller leader: ${leader.url}`);
  // Simulated nodes, talking to a follower first (they fail over across all three).
  sim = await startSim(others[0]!, { nodes: 3, prefix: `chaos${process.pid}`, args: servers.filter((s) => s !== others[0]).flatMap((s) => ['--server', s.url]) });
  step('sim up');

  // Steady writes through all three servers (the writer moves on when one fails); a watch.
  const start = await listAll(targets[0]!, 'default');
  watch = new WatchRecorder(targets, 'default', start.rv).start();
  load = new WriteLoad(targets, 'default', 'w').start();
  const post = (target: Target, name: string, replicas: number) => send(target, 'POST', '/apis/apps/v1/namespaces/default/deployments', deployment(name, replicas));
  assert.equal((await post(targets[0]!, 'before', 3)).status, 201);
  const scheduled = async (app: string, n: number): Promise<boolean> => {
    const pods = await podsOf(otherTargets[0]!, `app=${app}`).catch(() => []);
    return pods.length === n && pods.every((p) => p.node);
  };
  await until(() => scheduled('before', 3), 60_000, 'three scheduled pods before the kill');
  step('three pods scheduled');
  await until(() => load!.acked.length >= 10, 20_000, 'ten writes before the kill');

  // kill -9 the server that runs the controllers and the scheduler.
  const killed = Date.now();
  leader.process.kill('SIGKILL');
  await once(leader.process, 'exit');
  step('leader killed');
  const created = await until(async () => (await post(otherTargets[0]!, 'after', 3).catch(() => ({ status: 0 }))).status === 201, 20_000, 'a Deployment created through a survivor');
  await until(() => scheduled('after', 3), 60_000, 'the new Deployment\'s pods scheduled by a new leader');
  const handover = (Date.now() - killed) / 1000;
  const next = await controllerLeader(otherTargets[0]!, servers);
  t.diagnostic(`after kill -9 of the leader: Deployment created in ${created} ms, its pods scheduled ${handover}s after the kill by ${next?.url}`);
  assert.ok(next && next !== leader, 'a surviving server holds the controllers Lease');
  assert.ok(handover < 30, `a new leader scheduled the pods ${handover}s after the kill (goal 15 s, about 11 s measured; generous bound for a loaded machine)`);
  await until(() => load!.ackedSince(killed).length >= 10, 30_000, 'ten writes after the kill');
  const failed = load.failedSince(killed);
  t.diagnostic(`writes after the kill: ${load.ackedSince(killed).length} acknowledged, ${failed.length} failed (${[...new Set(failed.map((f) => f.message.slice(0, 80)))].join(' | ')})`);
  for (const f of failed) assert.equal(f.url, leader.url, `only writes sent to the killed server fail: ${JSON.stringify(f)}`);

  step('after the kill: writes go on');
  // Settle, then: one ReplicaSet per Deployment, pods per ReplicaSet == replicas (none duplicated).
  await sleep(3000);
  for (const app of ['before', 'after']) {
    const rss = await replicaSetsOf(otherTargets[0]!, `app=${app}`);
    assert.equal(rss.length, 1, `${app}: one ReplicaSet, got ${JSON.stringify(rss)}`);
    const pods = await podsOf(otherTargets[0]!, `app=${app}`);
    assert.equal(pods.length, rss[0]!.replicas, `${app}: ${rss[0]!.replicas} pods, got ${JSON.stringify(pods)}`);
    assert.ok(pods.every((p) => p.owner === rss[0]!.name && p.node), `${app}: every pod owned by its ReplicaSet and scheduled: ${JSON.stringify(pods)}`);
  }

  await load.stop();
  const acked = load.acked;
  const maxRv = Math.max(...acked.map((x) => x.rv));
  await until(() => watch!.lastRv >= maxRv, 30_000, `the watch to reach rv ${maxRv} (at ${watch!.lastRv}; ${watch!.errors.join('; ')})`);
  await watch.stop();
  t.diagnostic(`${acked.length} acknowledged writes, ${load.failures.length} failed, watch: ${watch.events.length} events, ${watch.reconnects} reconnects`);
  for (const e of watch.errors) t.diagnostic(`watch: ${e}`);
  const final = await listAll(otherTargets[0]!, 'default');
  assert.deepEqual(checkWrites(acked, final.items, watch), []);
  for (const s of others) assert.equal(s.process.exitCode, null, `${s.url} kept running`);
});
