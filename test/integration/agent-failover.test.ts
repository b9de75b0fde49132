// An agent given several servers keeps its node alive when the server it talks to dies:
// two `skiff server`s on one etcd (the second joins with the first one's token), a
// simulated node given both (`skiff sim --server A,B`, a real agent over HTTP with a fake
// runtime) and one given only A (it learns B from the `kubernetes` EndpointSlice), both
// talking to A; A is killed with SIGKILL. The nodes' Leases keep being renewed through B,
// the nodes stay Ready past the node-monitor grace period, and pods created afterwards are
// scheduled onto them and reported Running. Then a real `skiff agent` (skipped without
// root/containerd) whose server goes silent instead (SIGSTOP: sockets open, nothing
// answered, as a partitioned server): its heartbeats give up on it after 10 s and go to B.
// Loopback only; skipped without etcd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import YAML from 'yaml';
import { HttpClient } from '../../src/client/http.ts';
import { silentLogger } from '../../src/util/log.ts';
import { agentUnavailable, eventually, KUBECTL, skiff, startServer, testNetworks } from '../helpers/cluster.ts';
import { agentNames } from '../../src/agent/containerd/names.ts';
import { cleanupNodeLocalDns } from '../../src/dns/node-local.ts';
import type { TestServer } from '../helpers/cluster.ts';
import { startSim, type TestSim } from '../helpers/sim.ts';
import { etcdBinary, startEtcd, type LocalEtcd } from '../../src/store/etcd/local-etcd.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

const skip = etcdBinary() ? false : 'etcd is not installed (apt-get install etcd-server)';

/**
 * Two servers of one cluster on `etcd`: same networks (in `args`), loopback addresses (the
 * `kubernetes` EndpointSlice then lists 127.0.0.1:<port> of each). B joins with A's token
 * (server join reads the CA from the datastore); the CA and the service-account key are
 * put in place too, so B is the same cluster either way.
 */
async function startPair(dir: string, etcd: LocalEtcd, args: string[]): Promise<{ a: TestServer; b: TestServer }> {
  const common = ['--datastore-endpoint', etcd.endpoint, '--bind-address', '127.0.0.1', ...args];
  const a = await startServer({ dataDir: join(dir, 'a'), args: common });
  const token = readFileSync(join(a.dataDir, 'token'), 'utf8').trim();
  mkdirSync(join(dir, 'b', 'tls'), { recursive: true, mode: 0o700 });
  for (const f of ['ca.crt', 'ca.key', 'service-account.key']) copyFileSync(join(a.dataDir, 'tls', f), join(dir, 'b', 'tls', f));
  try {
    const b = await startServer({ dataDir: join(dir, 'b'), args: [...common, '--token', token] });
    assert.notEqual(a.url, b.url);
    return { a, b };
  } catch (err) {
    await a.stop().catch(() => a.process.kill('SIGKILL'));
    throw err;
  }
}

async function killHard(server: TestServer): Promise<number> {
  const exited = once(server.process, 'exit');
  server.process.kill('SIGKILL');
  await exited;
  return Date.now();
}

async function nodeReady(server: TestServer, node: string): Promise<string> {
  return server.kubectlOk(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
}

async function renewTime(server: TestServer, node: string): Promise<number> {
  const t = await server.kubectlOk(['get', 'lease', '-n', 'kube-node-lease', node, '-o', 'jsonpath={.spec.renewTime}']);
  return Date.parse(t);
}

test('agent failover: the server an agent talks to is killed; its node stays Ready and runs new pods through the other server', { skip, timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-agent-failover-'));
  let etcd: LocalEtcd | undefined;
  let a: TestServer | undefined;
  let b: TestServer | undefined;
  let sim: TestSim | undefined;
  let learner: TestSim | undefined;
  let aKilled = false;
  t.after(async () => {
    await sim?.stop().catch(() => sim?.process.kill('SIGKILL'));
    await learner?.stop().catch(() => learner?.process.kill('SIGKILL'));
    if (a && !aKilled) await a.stop().catch(() => a?.process.kill('SIGKILL'));
    await b?.stop().catch(() => b?.process.kill('SIGKILL'));
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  etcd = await startEtcd({ dataDir: join(dir, 'etcd') });
  ({ a, b } = await startPair(dir, etcd, ['--node-monitor-grace-period', '15s', ...testNetworks().args]));

  // The simulated node gets both servers; A first, so A is the one it uses.
  sim = await startSim({ ...a, url: `${a.url},${b.url}` }, { nodes: 1, prefix: 'failover', args: ['--lease-interval', '2', '--status-interval', '5', '--log-level', 'info'] });
  let simLog = '';
  sim.process.stderr!.on('data', (d) => { simLog += d; });
  // This one is told only of A: it must learn B from the cluster before A dies.
  learner = await startSim(a, { nodes: 1, prefix: 'learner', args: ['--lease-interval', '2', '--status-interval', '5', '--log-level', 'info'] });
  let learnerLog = '';
  learner.process.stderr!.on('data', (d) => { learnerLog += d; });
  const node = sim.nodes[0]!;
  const learnerNode = learner.nodes[0]!;
  const nodes = [node, learnerNode];
  for (const n of nodes) await eventually(async () => (await nodeReady(b!, n)) === 'True', 30_000, `node ${n} Ready`);
  await b.kubectlOk(['run', 'before', '--image=skiff.local/busybox:1', '--restart=Never', '--', 'sleep', '3600']);
  await eventually(async () => (await b!.kubectlOk(['get', 'pod', 'before', '-o', 'jsonpath={.status.phase}'])) === 'Running', 60_000, 'pod "before" Running');

  // Kill -9 the server the node talks to.
  aKilled = true;
  const killedAt = await killHard(a);

  // The Leases are renewed after the kill: through B.
  for (const n of nodes) await eventually(async () => (await renewTime(b!, n)) > killedAt + 1_000, 30_000, `a Lease renewal of ${n} after the kill`);
  t.diagnostic(`first Lease renewals of both nodes seen ${Date.now() - killedAt} ms after the kill`);
  const switched = new RegExp(`switched API server.*${a.url.replace(/[.:/]/g, '\\$&')}.*${b.url.replace(/[.:/]/g, '\\$&')}`);
  await eventually(async () => switched.test(simLog) && switched.test(learnerLog), 10_000, 'both sims to log their switch from A to B');

  // Pods created now are scheduled (B's controllers take over once A's leader lease runs
  // out) onto each node and reported Running by it.
  for (const n of nodes) {
    await b.kubectlOk(['run', `after-${n}`, '--image=skiff.local/busybox:1', '--restart=Never', '--overrides', JSON.stringify({ spec: { nodeSelector: { 'kubernetes.io/hostname': n } } }), '--', 'sleep', '3600']);
  }
  for (const n of nodes) {
    await eventually(async () => (await b!.kubectlOk(['get', 'pod', `after-${n}`, '-o', 'jsonpath={.spec.nodeName}/{.status.phase}'])) === `${n}/Running`, 90_000, `pod "after-${n}" Running on ${n}`);
  }
  t.diagnostic(`pods created after the kill Running ${Date.now() - killedAt} ms after the kill`);

  // Ready all along, past the grace period after the kill: the heartbeats never stopped.
  while (Date.now() - killedAt < 25_000) {
    for (const n of nodes) assert.equal(await nodeReady(b, n), 'True', `node ${n} Ready ${Math.round((Date.now() - killedAt) / 1000)} s after the kill`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
  for (const n of nodes) assert.ok((await renewTime(b, n)) > Date.now() - 10_000, `the Lease of ${n} is still being renewed`);

  // A kubeconfig naming A first and B in the skiff.io/servers extension: `skiff kubectl`
  // and our client library reach B; plain kubectl, which takes one server, cannot.
  const kc = YAML.parse(readFileSync(b.kubeconfig, 'utf8'));
  kc.clusters[0].cluster.server = a.url;
  kc.clusters[0].cluster.extensions = [{ name: 'skiff.io/servers', extension: { servers: [a.url, b.url] } }];
  const haKubeconfig = join(dir, 'ha-kubeconfig.yaml');
  writeFileSync(haKubeconfig, YAML.stringify(kc), { mode: 0o600 });
  const viaSkiff = await run(process.execPath, [join(ROOT, 'bin/skiff.js'), 'kubectl', 'get', 'node', node, '-o', 'name'], { KUBECONFIG: haKubeconfig, HOME: dir });
  assert.equal(viaSkiff.code, 0, viaSkiff.stderr);
  assert.equal(viaSkiff.stdout.trim(), `node/${node}`);
  const plain = await run(KUBECTL, ['get', 'node', node, '-o', 'name', '--request-timeout', '10s'], { KUBECONFIG: haKubeconfig, HOME: dir });
  assert.notEqual(plain.code, 0, 'plain kubectl uses only the first server');
  const client = HttpClient.fromKubeconfig(haKubeconfig, { log: silentLogger });
  try {
    assert.equal((await client.resource('', 'v1', 'nodes').get(undefined, node)).metadata?.name, node);
    assert.equal(client.server, b.url);
  } finally {
    client.close();
  }
  assert.equal(await b.kubectlOk(['get', 'pod', 'before', '-o', 'jsonpath={.status.phase}']), 'Running');
});

// The same with a real `skiff agent` (containerd, runc, CNI, service proxy, DNS): the node
// heartbeats (Lease and status), pod informer and pod status writes all move to B.
const skipReal = skip || agentUnavailable();

test('agent failover with a real agent: its server goes silent (SIGSTOP), the node stays Ready and runs a new pod', { skip: skipReal, timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-agent-failover-real-'));
  const agentDir = join(dir, 'node');
  let etcd: LocalEtcd | undefined;
  let a: TestServer | undefined;
  let b: TestServer | undefined;
  let agent: ChildProcess | undefined;
  let aKilled = false;
  t.after(async () => {
    try {
      if (agent && agent.exitCode === null && agent.signalCode === null) {
        const exited = once(agent, 'exit');
        agent.kill('SIGTERM');
        const timer = setTimeout(() => agent!.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await skiff(['killall', '--data-dir', agentDir]);
      await cleanupNodeLocalDns(agentNames(join(agentDir, 'agent')));
      if (a && aKilled) a.process.kill('SIGKILL'); // stopped, not exited
      if (a && !aKilled) await a.stop().catch(() => a?.process.kill('SIGKILL'));
      await b?.stop().catch(() => b?.process.kill('SIGKILL'));
      await etcd?.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  etcd = await startEtcd({ dataDir: join(dir, 'etcd') });
  const nets = testNetworks();
  // The agent renews its Lease every 10 s: a grace period of 30 s leaves room for load.
  ({ a, b } = await startPair(dir, etcd, ['--node-monitor-grace-period', '30s', ...nets.args]));
  const token = readFileSync(join(a.dataDir, 'token'), 'utf8').trim();
  const node = `failover-${process.pid}`;
  agent = spawn(process.execPath, [join(ROOT, 'bin/skiff.js'), 'agent', '--server', a.url, '--server', b.url, '--token', token,
    '--data-dir', agentDir, '--kubelet-port', '0', '--ingress-http-port', '0', '--node-name', node], { stdio: ['ignore', 'pipe', 'pipe'] });
  let agentLog = '';
  agent.stdout!.on('data', (d) => { agentLog += d; });
  agent.stderr!.on('data', (d) => { agentLog += d; });
  await eventually(async () => agentLog.includes(`node ${node} ready`) || (agent!.exitCode !== null && Promise.reject(new Error(`agent exited:\n${agentLog}`))), 90_000, 'the agent ready');
  await eventually(async () => (await nodeReady(b!, node)) === 'True', 30_000, 'the node Ready');
  await b.kubectlOk(['run', 'before', '--image=skiff.local/busybox:1', '--image-pull-policy=Never', '--restart=Never', '--', 'sleep', '3600']);
  await eventually(async () => (await b!.kubectlOk(['get', 'pod', 'before', '-o', 'jsonpath={.status.phase}'])) === 'Running', 90_000, 'pod "before" Running');

  assert.doesNotMatch(agentLog, /apiserver-endpoints/, 'the agent follows the API server list without errors');

  // A stops answering but keeps its sockets (a partitioned server, not a dead one); the
  // cleanup kills it.
  aKilled = true;
  a.process.kill('SIGSTOP');
  const stoppedAt = Date.now();
  await eventually(async () => (await renewTime(b!, node)) > stoppedAt, 40_000, 'a Lease renewal after A went silent');
  const firstRenewal = Date.now() - stoppedAt;
  t.diagnostic(`first Lease renewal seen ${firstRenewal} ms after A went silent`);
  assert.ok(firstRenewal < 30_000, `the first renewal through B came ${firstRenewal} ms after A went silent (the heartbeat gives up after 10 s)`);
  assert.match(agentLog, /switched API server/);

  await b.kubectlOk(['run', 'after', '--image=skiff.local/busybox:1', '--image-pull-policy=Never', '--restart=Never', '--', 'sleep', '3600']);
  await eventually(async () => (await b!.kubectlOk(['get', 'pod', 'after', '-o', 'jsonpath={.spec.nodeName}/{.status.phase}'])) === `${node}/Running`, 120_000, 'pod "after" Running on the node');
  t.diagnostic(`pod created after A went silent Running ${Date.now() - stoppedAt} ms after`);
  while (Date.now() - stoppedAt < 45_000) {
    assert.equal(await nodeReady(b, node), 'True', `node Ready ${Math.round((Date.now() - stoppedAt) / 1000)} s after A went silent`);
    await new Promise((r) => setTimeout(r, 3_000));
  }
  assert.equal(await b.kubectlOk(['get', 'pod', 'before', '-o', 'jsonpath={.status.phase}']), 'Running');
});
