// skiff server on a real local etcd (--datastore-endpoint http://...): the API, a
// Deployment's controllers, restart, and `skiff datastore snapshot` save/restore; plus the
// SQLite snapshot round trip. Skipped when etcd is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, skiff, eventually } from '../helpers/cluster.ts';
import type { TestServer } from '../helpers/cluster.ts';
import { etcdBinary, startEtcd } from '../../src/store/etcd/local-etcd.ts';
import type { LocalEtcd } from '../../src/store/etcd/local-etcd.ts';

const skip = etcdBinary() ? false : 'etcd is not installed (apt-get install etcd-server)';

async function names(server: TestServer, args: string[]): Promise<string[]> {
  const out = await server.kubectlOk([...args, '-o', 'jsonpath={.items[*].metadata.name}']);
  return out.split(/\s+/).filter(Boolean).sort();
}

test('skiff server on etcd: API, controllers, restart, snapshot save and restore', { skip, timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-etcd-e2e-'));
  const dataDir = join(dir, 'skiff');
  let etcd: LocalEtcd = await startEtcd({ dataDir: join(dir, 'etcd1') });
  let server: TestServer | undefined;
  t.after(async () => {
    await server?.stop();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const args = ['--datastore-endpoint', etcd.endpoint];
  server = await startServer({ dataDir, args });
  assert.ok(!existsSync(join(dataDir, 'db', 'state.db')), 'no SQLite file: the state is in etcd');

  // CRUD and watch through kubectl.
  const watching = server.watchEvents('/api/v1/namespaces/default/configmaps?watch=1', (evs) => evs.some((e) => e.type === 'DELETED'), 30_000);
  watching.catch(() => {}); // awaited below; a failure before then must not go unhandled
  await server.kubectlOk(['create', 'configmap', 'keep', '--from-literal=a=1']);
  await server.kubectlOk(['create', 'configmap', 'gone', '--from-literal=b=2']);
  assert.equal(await server.kubectlOk(['get', 'configmap', 'keep', '-o', 'jsonpath={.data.a}']), '1');
  const conflict = await server.kubectl(['create', 'configmap', 'keep']);
  assert.match(conflict.stderr, /configmaps "keep" already exists/);
  await server.kubectlOk(['delete', 'configmap', 'gone']);
  const events = await watching;
  assert.deepEqual(events.filter((e) => e.object.metadata.name !== 'kube-root-ca.crt').map((e) => `${e.type} ${e.object.metadata.name}`),
    ['ADDED keep', 'ADDED gone', 'DELETED gone']);

  // A Deployment rolls out: the controllers read and write through etcd.
  await server.kubectlOk(['create', 'deployment', 'web', '--image=nginx:1', '--replicas=2']);
  await eventually(async () => (await names(server!, ['get', 'pods', '-l', 'app=web'])).length === 2, 30_000, 'two pods');
  await server.kubectlOk(['set', 'image', 'deployment/web', 'nginx=nginx:2']);
  await eventually(async () => (await names(server!, ['get', 'replicasets', '-l', 'app=web'])).length === 2, 30_000, 'a second ReplicaSet');

  // Restart keeps everything.
  await server.stop();
  server = await startServer({ dataDir, args });
  assert.deepEqual(await names(server, ['get', 'configmaps', '--field-selector', 'metadata.name!=kube-root-ca.crt']), ['keep']);
  assert.equal(await server.kubectlOk(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:2');

  // Snapshot while running, delete, stop everything, restore into a new etcd data dir.
  const snap = join(dir, 'etcd.snapshot');
  const saved = await skiff(['datastore', 'snapshot', 'save', snap, ...args]);
  assert.equal(saved.code, 0, saved.stderr);
  await server.kubectlOk(['delete', 'configmap', 'keep']);
  await server.kubectlOk(['delete', 'deployment', 'web']);
  assert.deepEqual(await names(server, ['get', 'configmaps', '--field-selector', 'metadata.name!=kube-root-ca.crt']), []);
  await server.stop();
  server = undefined;
  const port = Number(new URL(etcd.endpoint).port);
  await etcd.kill();
  const restoredDir = join(dir, 'etcd2');
  const restored = await skiff(['datastore', 'snapshot', 'restore', snap, ...args, '--etcd-data-dir', join(restoredDir, 'member-data')]);
  assert.equal(restored.code, 0, restored.stderr);
  const old = etcd;
  etcd = await startEtcd({ dataDir: restoredDir, clientPort: port });
  rmSync(old.dataDir, { recursive: true, force: true });
  server = await startServer({ dataDir, args });
  assert.deepEqual(await names(server, ['get', 'configmaps', '--field-selector', 'metadata.name!=kube-root-ca.crt']), ['keep']);
  assert.equal(await server.kubectlOk(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:2');

  // Bad input: restore into an existing dir is refused.
  const again = await skiff(['datastore', 'snapshot', 'restore', snap, ...args, '--etcd-data-dir', restoredDir]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /exists/);
});

test('SQLite snapshot: save, delete, restore brings every object back', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-sqlite-snap-'));
  const dataDir = join(dir, 'skiff');
  let server: TestServer | undefined = await startServer({ dataDir });
  t.after(async () => { await server?.stop(); rmSync(dir, { recursive: true, force: true }); });
  for (const n of ['one', 'two', 'three']) await server.kubectlOk(['create', 'configmap', n, '--from-literal=k=v']);
  const running = await skiff(['datastore', 'snapshot', 'save', join(dir, 'x.db'), '--data-dir', dataDir]);
  assert.notEqual(running.code, 0, 'the server holds the database');
  assert.match(running.stderr, /stop the server/);
  await server.stop();
  const saved = await skiff(['datastore', 'snapshot', 'save', join(dir, 'snap.db'), '--data-dir', dataDir]);
  assert.equal(saved.code, 0, saved.stderr);
  server = await startServer({ dataDir });
  await server.kubectlOk(['delete', 'configmap', 'one', 'two', 'three']);
  await server.stop();
  const restored = await skiff(['datastore', 'snapshot', 'restore', join(dir, 'snap.db'), '--data-dir', dataDir]);
  assert.equal(restored.code, 0, restored.stderr);
  server = await startServer({ dataDir });
  assert.deepEqual(await names(server, ['get', 'configmaps', '--field-selector', 'metadata.name!=kube-root-ca.crt']), ['one', 'three', 'two']);
  const bad = await skiff(['datastore', 'snapshot', 'restore', join(dir, 'missing.db'), '--data-dir', dataDir]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /does not exist/);
});
