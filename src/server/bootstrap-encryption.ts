// Secrets encryption keys when several servers share one etcd: the cluster's copy of the
// configuration is the one in the bootstrap data (`/skiff/bootstrap`, sealed with the join
// token, see cluster-bootstrap.ts), which every server installs into its data dir at start.
// `skiff secrets-encrypt` on etcd therefore reads the keys from there and saves each
// rotation step there (compare-and-swap on the key's revision) and into the given data
// dir's file: a rotation that changed only one data dir would be undone at the next start,
// leaving Secrets under a key no server has.
import type { Store } from '../store/types.ts';
import { RevisionConflictError } from '../store/types.ts';
import { openBootstrapData, sealBootstrapData, WrongTokenError, type BootstrapData } from '../apiserver/pki/bootstrap-data.ts';
import { configText, encryptionConfigPath, parseConfig, writeConfig, type Provider } from '../store/encryption/config.ts';
import type { ConfigHome } from '../store/encryption/rotate.ts';
import { BOOTSTRAP_KEY } from './cluster-bootstrap.ts';
import { APISERVER_LEASE_LABEL } from './apiserver-endpoints.ts';

async function readBootstrap(store: Store, secret: string): Promise<{ data: BootstrapData; revision: number }> {
  const kv = await store.get(BOOTSTRAP_KEY);
  if (!kv) throw new Error('the datastore holds no cluster (no bootstrap data): start a server on it with --secrets-encryption first');
  try {
    return { data: await openBootstrapData(kv.value, secret), revision: kv.modRevision };
  } catch (err) {
    if (err instanceof WrongTokenError) throw new Error('the token does not match the cluster\'s bootstrap data in the datastore: give --token (or --data-dir of one of its servers)');
    throw err;
  }
}

/** The configuration in the bootstrap data; writes go there first, then to DATA_DIR's file (when given). */
export function bootstrapConfigHome(store: Store, secret: string, dataDir?: string): ConfigHome {
  let seen: string | undefined;
  return {
    async read(): Promise<Provider[]> {
      const { data } = await readBootstrap(store, secret);
      if (!data.encryptionConfig) throw new Error('the cluster does not encrypt Secrets (its bootstrap data has no keys): start its servers with --secrets-encryption');
      seen = data.encryptionConfig;
      return parseConfig(data.encryptionConfig, 'the cluster bootstrap data');
    },
    async write(providers: Provider[]): Promise<void> {
      const text = configText(providers);
      for (let attempt = 0; ; attempt++) {
        const { data, revision } = await readBootstrap(store, secret);
        if (data.encryptionConfig !== seen) throw new Error('the encryption configuration in the datastore changed while rotating (another rotate-keys?): run status, then rotate-keys again');
        try {
          await store.update(BOOTSTRAP_KEY, await sealBootstrapData({ ...data, encryptionConfig: text }, secret), revision);
          break;
        } catch (err) {
          // Something else in the bootstrap data changed meanwhile: re-read and try again.
          if (!(err instanceof RevisionConflictError) || attempt >= 4) throw err;
        }
      }
      seen = text;
      if (dataDir) writeConfig(encryptionConfigPath(dataDir), providers);
    },
  };
}

const LEASE_PREFIX = '/registry/coordination.k8s.io/leases/kube-system/skiff-apiserver-';

/** API servers whose `kube-system/skiff-apiserver-*` Lease has not expired: name and seconds left. */
export async function liveApiServers(store: Store, now = Date.now()): Promise<{ name: string; secondsLeft: number }[]> {
  const live: { name: string; secondsLeft: number }[] = [];
  const { items } = await store.list(LEASE_PREFIX);
  for (const kv of items) {
    let lease: { metadata?: { name?: string; labels?: Record<string, string> }; spec?: { renewTime?: string; leaseDurationSeconds?: number } };
    try {
      lease = JSON.parse(kv.value);
    } catch {
      continue;
    }
    if (lease.metadata?.labels?.[APISERVER_LEASE_LABEL] !== 'true' || !lease.spec?.renewTime) continue;
    const left = new Date(lease.spec.renewTime).getTime() + (lease.spec.leaseDurationSeconds ?? 0) * 1000 - now;
    if (left > 0) live.push({ name: lease.metadata.name ?? kv.key.slice(kv.key.lastIndexOf('/') + 1), secondsLeft: Math.ceil(left / 1000) });
  }
  return live;
}
