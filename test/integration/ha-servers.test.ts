// Several `skiff server`s on one three-member etcd, as users run them: later servers join
// with only --token and --datastore-endpoint (the CA and keys come from the datastore),
// every server serves the same state and watches, the controllers run on one server at a
// time and move when it is killed, and the `kubernetes` Endpoints list the live servers.
// Loopback only; skipped when etcd is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import YAML from 'yaml';
import { startServer, skiff, eventually, testNetworks } from '../helpers/cluster.ts';
import type { TestServer } from '../helpers/cluster.ts';
import { etcdBinary, startEtcdCluster } from '../helpers/etcd-cluster.ts';
import type { EtcdCluster } from '../helpers/etcd-cluster.ts';

const skip = etcdBinary() ? false : 'etcd is not installed (apt-get install etcd-server)';

const caOf = (s: TestServer): string => YAML.parse(readFileSync(s.kubeconfig, 'utf8')).clusters[0].cluster['certificate-authority-data'];
const portOf = (s: TestServer): number => Number(new URL(s.url).port);
const serverId = (s: TestServer): string => readFileSync(join(s.dataDir, 'server-id'), 'utf8').trim();

/** Stops a server; one that does not exit within 30 s is killed (cleanup must not hang). */
async function stopOrKill(s: TestServer): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    s.stop().catch(() => {}),
    new Promise<void>((resolve) => { timer = setTimeout(() => { s.process.kill('SIGKILL'); resolve(); }, 30_000); }),
  ]);
  clearTimeout(timer);
}

/** Starts servers at once; every one that came up is in `into` (for cleanup) even if another failed. */
async function startAll(into: TestServer[], ...starts: Array<Promise<TestServer>>): Promise<TestServer[]> {
  const settled = await Promise.allSettled(starts);
  const up = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  into.push(...up);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return up;
}

async function names(server: TestServer, args: string[]): Promise<string[]> {
  const out = await server.kubectlOk([...args, '-o', 'jsonpath={.items[*].metadata.name}']);
  return out.split(/\s+/).filter(Boolean).sort();
}

async function endpointPorts(server: TestServer): Promise<number[]> {
  const ep = JSON.parse(await server.kubectlOk(['get', 'endpoints', 'kubernetes', '-o', 'json']));
  return (ep.subsets ?? []).flatMap((s: any) => s.ports.map((p: any) => p.port)).sort((x: number, y: number) => x - y);
}

async function leaderOf(server: TestServer, servers: TestServer[]): Promise<TestServer | undefined> {
  const holder = await server.kubectlOk(['get', 'lease', '-n', 'kube-system', 'skiff-controllers', '-o', 'jsonpath={.spec.holderIdentity}']);
  return servers.find((s) => holder.endsWith(`-${serverId(s)}`));
}

test('three servers on a three-member etcd: join by token, shared state and watches, one controller leader, failover, live endpoints', { skip, timeout: 420_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-ha-'));
  let etcd: EtcdCluster | undefined;
  const servers: TestServer[] = [];
  const killed = new Set<TestServer>();
  t.after(async () => {
    for (const s of servers) {
      if (killed.has(s)) continue;
      await stopOrKill(s);
    }
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  etcd = await startEtcdCluster({ members: 3, dir: join(dir, 'etcd') });
  // One cluster: every server the same pod and service networks.
  const common = ['--datastore-endpoint', etcd.endpoints, ...testNetworks().args];
  const a = await startServer({ dataDir: join(dir, 'a'), args: common });
  servers.push(a);
  const token = readFileSync(join(a.dataDir, 'token'), 'utf8').trim();
  const refused = (args: string[], name: string) => skiff(['server', '--data-dir', join(dir, name), '--https-listen-port', '0', '--disable-agent', ...args], 90_000);

  // A server with the wrong token, or none, is refused: the datastore belongs to a cluster.
  const wrong = await refused([...common, '--token', 'not-the-token'], 'wrong');
  assert.notEqual(wrong.code, 0, wrong.stdout);
  assert.match(wrong.stderr, /the token does not match the cluster's bootstrap data in the datastore/);
  const none = await refused(common, 'none');
  assert.notEqual(none.code, 0, none.stdout);
  assert.match(none.stderr, /already holds a cluster.*--token/);
  // --server on the embedded SQLite datastore: nothing to share, refused clearly.
  const lone = await refused(['--server', a.url, '--token', token], 'lone');
  assert.notEqual(lone.code, 0, lone.stdout);
  assert.match(lone.stderr, /shared datastore/);

  // --server with an etcd that holds no cluster (not the first server's): refused, not a new cluster.
  const other = await startEtcdCluster({ members: 1, dir: join(dir, 'other-etcd') });
  try {
    const elsewhere = await refused(['--datastore-endpoint', other.endpoints, '--server', a.url, '--token', token], 'elsewhere');
    assert.notEqual(elsewhere.code, 0, elsewhere.stdout);
    assert.match(elsewhere.stderr, /holds no cluster to join/);
  } finally {
    await other.stop();
  }

  // B and C start at the same time with only the token (B also names A with --server).
  const [b, c] = await startAll(servers,
    startServer({ dataDir: join(dir, 'b'), args: [...common, '--token', token, '--server', a.url] }),
    startServer({ dataDir: join(dir, 'c'), args: [...common, '--token', token] }),
  ) as [TestServer, TestServer];
  assert.equal(caOf(b), caOf(a), 'B trusts the cluster CA');
  assert.equal(caOf(c), caOf(a), 'C trusts the cluster CA');
  assert.equal(readFileSync(join(b.dataDir, 'tls', 'service-account.key'), 'utf8'), readFileSync(join(a.dataDir, 'tls', 'service-account.key'), 'utf8'));
  // A's kubeconfig works against B: B's serving certificate comes from the shared CA.
  assert.match(await a.kubectlOk(['--server', b.url, 'get', 'namespaces', 'kube-system', '-o', 'name']), /namespace\/kube-system/);

  // Shared state: written through A, read through B and C; a watch on B sees A's writes.
  const watching = b.watchEvents('/api/v1/namespaces/default/configmaps?watch=1', (evs) => evs.some((e) => e.object?.metadata?.name === 'from-a-2'), 30_000);
  watching.catch(() => {});
  await new Promise((r) => setTimeout(r, 500)); // let the watch open before the writes
  await a.kubectlOk(['create', 'configmap', 'from-a-1', '--from-literal=k=1']);
  await a.kubectlOk(['create', 'configmap', 'from-a-2', '--from-literal=k=2']);
  assert.equal(await b.kubectlOk(['get', 'configmap', 'from-a-1', '-o', 'jsonpath={.data.k}']), '1');
  assert.equal(await c.kubectlOk(['get', 'configmap', 'from-a-2', '-o', 'jsonpath={.data.k}']), '2');
  const seen = (await watching).filter((e) => e.object.metadata.name.startsWith('from-a-')).map((e) => `${e.type} ${e.object.metadata.name}`);
  assert.deepEqual(seen, ['ADDED from-a-1', 'ADDED from-a-2']);

  // A service-account token issued by A is accepted by C (one signing key); a made-up one is not.
  const saToken = (await a.kubectlOk(['create', 'token', 'default', '-n', 'default'])).trim();
  const withSa = await c.request('GET', '/api/v1/namespaces/default/configmaps', { anonymous: true, headers: { Authorization: `Bearer ${saToken}` } });
  assert.notEqual(withSa.status, 401, withSa.text);
  const bogus = await c.request('GET', '/api/v1/namespaces/default/configmaps', { anonymous: true, headers: { Authorization: `Bearer ${saToken.slice(0, -4)}AAAA` } });
  assert.equal(bogus.status, 401);

  // The kubernetes Endpoints list all three servers (each on its own port here).
  const allPorts = servers.map(portOf).sort((x, y) => x - y);
  await eventually(async () => JSON.stringify(await endpointPorts(c)) === JSON.stringify(allPorts), 30_000, `kubernetes Endpoints on ports ${allPorts}`);

  // The controllers run on exactly one server: a Deployment made through B gets its pods once.
  const leader = await eventually(() => leaderOf(a, servers), 20_000, 'a controller leader');
  await b.kubectlOk(['create', 'deployment', 'web', '--image=skiff.local/busybox:1', '--replicas=3']);
  await eventually(async () => (await names(b, ['get', 'pods', '-l', 'app=web'])).length === 3, 60_000, 'three pods');
  await new Promise((r) => setTimeout(r, 4000)); // a second controller would have added more by now
  assert.equal((await names(c, ['get', 'pods', '-l', 'app=web'])).length, 3, 'exactly three pods');
  assert.equal((await names(c, ['get', 'replicasets', '-l', 'app=web'])).length, 1, 'one ReplicaSet');

  // kill -9 the leader: another server takes the controllers over.
  const survivors = servers.filter((s) => s !== leader);
  killed.add(leader);
  leader.process.kill('SIGKILL');
  await once(leader.process, 'exit');
  const killedAt = Date.now();
  const [s1] = survivors as [TestServer, TestServer];
  await s1.kubectlOk(['create', 'deployment', 'after', '--image=skiff.local/busybox:1']);
  await eventually(async () => (await names(s1, ['get', 'replicasets', '-l', 'app=after'])).length === 1, 60_000, 'a ReplicaSet after failover');
  const handover = Date.now() - killedAt;
  t.diagnostic(`controllers handed over ${handover} ms after kill -9 of the leader`);
  const next = await leaderOf(s1, servers);
  assert.ok(next && next !== leader && survivors.includes(next), 'a surviving server leads');
  assert.ok(handover < 40_000, `handover took ${handover} ms`); // 8-12 s expected; generous for a loaded machine

  // The dead server drops out of the kubernetes Endpoints once its Lease expires.
  const livePorts = survivors.map(portOf).sort((x, y) => x - y);
  await eventually(async () => JSON.stringify(await endpointPorts(s1)) === JSON.stringify(livePorts), 60_000, `kubernetes Endpoints on ports ${livePorts}`);
  t.diagnostic(`dead server left the kubernetes Endpoints ${Date.now() - killedAt} ms after kill -9`);
});

test('three servers starting at once on an empty etcd with one token make one cluster CA and share the Secrets encryption keys', { skip, timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-ha-race-'));
  let etcd: EtcdCluster | undefined;
  const servers: TestServer[] = [];
  t.after(async () => {
    for (const s of servers) await stopOrKill(s);
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  etcd = await startEtcdCluster({ members: 1, dir: join(dir, 'etcd') });
  const args = ['--datastore-endpoint', etcd.endpoints, '--token', 'shared-secret-for-the-race', '--secrets-encryption', ...testNetworks().args];
  await startAll(servers,
    startServer({ dataDir: join(dir, 'x'), args }),
    startServer({ dataDir: join(dir, 'y'), args }),
    startServer({ dataDir: join(dir, 'z'), args }),
  );
  const [x, y, z] = servers as [TestServer, TestServer, TestServer];
  assert.equal(caOf(x), caOf(y), 'one CA for all');
  assert.equal(caOf(x), caOf(z), 'one CA for all');
  const tokenOf = (s: TestServer) => readFileSync(join(s.dataDir, 'token'), 'utf8');
  assert.ok(tokenOf(x) === tokenOf(y) && tokenOf(y) === tokenOf(z), 'one K10 token');
  const keys = (s: TestServer) => readFileSync(join(s.dataDir, 'cred', 'encryption-config.json'), 'utf8');
  assert.ok(keys(x) === keys(y) && keys(y) === keys(z), 'one set of encryption keys');
  await x.kubectlOk(['create', 'secret', 'generic', 'pw', '--from-literal=p=hunter2']);
  assert.equal(await y.kubectlOk(['get', 'secret', 'pw', '-o', 'jsonpath={.data.p}']), Buffer.from('hunter2').toString('base64'));
  // All did the start-up work (namespaces, RBAC, Services) without failing; each sees it.
  assert.deepEqual(await names(y, ['get', 'namespaces']), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  assert.match(await x.kubectlOk(['get', 'service', '-n', 'kube-system', 'kube-dns', '-o', 'name']), /service\/kube-dns/);
  // A restart of one of them takes the same CA back from the datastore.
  await stopOrKill(x);
  servers[0] = await startServer({ dataDir: join(dir, 'x'), args });
  assert.equal(caOf(servers[0]!), caOf(y));
});
