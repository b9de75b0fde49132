// Runs the shared Store contract (contract.ts) against SQLite and against a real etcd.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { storeContract } from './contract.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import { EtcdStore } from './etcd/etcd-store.ts';
import { etcdBinary, startEtcd } from './etcd/local-etcd.ts';
import type { LocalEtcd } from './etcd/local-etcd.ts';

storeContract('sqlite', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-contract-'));
  const store = await SqliteStore.open({ dataDir });
  return { store, cleanup: async () => { await store.close(); rmSync(dataDir, { recursive: true, force: true }); } };
});

const skip = etcdBinary() ? false : 'etcd is not installed (apt-get install etcd-server)';
let etcd: LocalEtcd | undefined;
before(async () => { if (!skip) etcd = await startEtcd(); });
after(async () => { await etcd?.stop(); });

// One etcd for the file; each test gets its own key space by wiping it first.
storeContract('etcd', async () => {
  const store = await EtcdStore.open({ endpoint: etcd!.endpoint });
  await store.client.delete().all();
  return { store, cleanup: () => store.close() };
}, skip);
