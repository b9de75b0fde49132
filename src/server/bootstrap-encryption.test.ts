// The etcd side of `skiff secrets-encrypt`, on a throwaway SQLite store (same Store
// contract): rotation steps land in the sealed bootstrap data and the data dir's file, a
// concurrent change of the keys is refused, other bootstrap changes are retried; Leases
// count as live only until they lapse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../store/index.ts';
import { configText, newKey, type Provider } from '../store/encryption/config.ts';
import { openBootstrapData, sealBootstrapData, type BootstrapData } from '../apiserver/pki/bootstrap-data.ts';
import { BOOTSTRAP_KEY } from './cluster-bootstrap.ts';
import { bootstrapConfigHome, liveApiServers } from './bootstrap-encryption.ts';

const providers = (name: string): Provider[] => [{ type: 'aesgcm', keys: [newKey(name)] }, { type: 'identity', keys: [] }];
const base: BootstrapData = { caCertPem: 'ca', caKeyPem: 'key', serviceAccountKeyPem: 'sa', clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', clusterDns: '10.43.0.10' };

async function withStore(fn: (store: SqliteStore, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bootenc-'));
  const store = await SqliteStore.open({ dataDir: join(dir, 'store') });
  try {
    await fn(store, dir);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('rotation steps go into the sealed bootstrap data and the data dir; a concurrent key change is refused', async () => {
  await withStore(async (store, dir) => {
    const first = providers('k1');
    await store.create(BOOTSTRAP_KEY, await sealBootstrapData({ ...base, encryptionConfig: configText(first) }, 'sekret'));
    const home = bootstrapConfigHome(store, 'sekret', join(dir, 'server'));
    assert.equal((await home.read())[0]!.keys[0]!.name, 'k1');

    // Another field of the bootstrap data changes meanwhile: the write re-reads and keeps it.
    const kv = (await store.get(BOOTSTRAP_KEY))!;
    await store.update(BOOTSTRAP_KEY, await sealBootstrapData({ ...(await openBootstrapData(kv.value, 'sekret')), clusterDns: '10.43.0.53' }, 'sekret'), kv.modRevision);
    const second = providers('k2');
    await home.write(second);
    const stored = await openBootstrapData((await store.get(BOOTSTRAP_KEY))!.value, 'sekret');
    assert.equal(stored.encryptionConfig, configText(second));
    assert.equal(stored.clusterDns, '10.43.0.53');
    assert.equal(readFileSync(join(dir, 'server', 'cred', 'encryption-config.json'), 'utf8'), configText(second));

    // Someone else rotates in between: refused rather than overwritten.
    const now = (await store.get(BOOTSTRAP_KEY))!;
    await store.update(BOOTSTRAP_KEY, await sealBootstrapData({ ...stored, encryptionConfig: configText(providers('other')) }, 'sekret'), now.modRevision);
    await assert.rejects(home.write(providers('k3')), /changed while rotating/);

    await assert.rejects(bootstrapConfigHome(store, 'wrong', undefined).read(), /token does not match/);
  });
});

test('the cluster without keys, or without bootstrap data, is an error that says what to do', async () => {
  await withStore(async (store) => {
    await assert.rejects(bootstrapConfigHome(store, 's').read(), /no bootstrap data.*--secrets-encryption/);
    await store.create(BOOTSTRAP_KEY, await sealBootstrapData(base, 's'));
    await assert.rejects(bootstrapConfigHome(store, 's').read(), /does not encrypt Secrets/);
  });
});

test('liveApiServers: only skiff-apiserver Leases that have not lapsed', async () => {
  await withStore(async (store) => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const lease = (name: string, renewedAgoS: number, label = true) => JSON.stringify({
      kind: 'Lease', metadata: { name, namespace: 'kube-system', ...(label ? { labels: { 'skiff.io/apiserver': 'true' } } : {}) },
      spec: { holderIdentity: name, leaseDurationSeconds: 20, renewTime: new Date(now - renewedAgoS * 1000).toISOString().replace('Z', '000Z') },
    });
    const prefix = '/registry/coordination.k8s.io/leases/kube-system/';
    await store.create(`${prefix}skiff-apiserver-a`, lease('skiff-apiserver-a', 5));
    await store.create(`${prefix}skiff-apiserver-b`, lease('skiff-apiserver-b', 25));
    await store.create(`${prefix}skiff-apiserver-c`, lease('skiff-apiserver-c', 1, false));
    await store.create(`${prefix}skiff-controllers`, lease('skiff-controllers', 1));
    assert.deepEqual(await liveApiServers(store, now), [{ name: 'skiff-apiserver-a', secondsLeft: 15 }]);
  });
});
