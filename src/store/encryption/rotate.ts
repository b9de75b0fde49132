// Key rotation and status, run against a stopped server's datastore (the embedded SQLite
// store belongs to one process at a time). Rotation is ordered so a crash at any point
// loses nothing: first the configuration gains the new key (as the writing key) while
// keeping the old ones, then every Secret is rewritten with it, and only then are the old
// keys dropped from the configuration. Where the configuration lives is the caller's: the
// data dir's file (SQLite), or the etcd bootstrap data plus the data dir's file (several
// servers on one etcd, src/server/bootstrap-encryption.ts); each step is saved before the
// next one starts.
import type { Store } from '../types.ts';
import { ENCRYPTED_PREFIXES, newKey, readConfig, writeConfig, type Provider } from './config.ts';
import { Transformer } from './transformer.ts';

/** Where the configuration is read from and each rotation step saved to. */
export interface ConfigHome {
  read(): Promise<Provider[]>;
  write(providers: Provider[]): Promise<void>;
}

/** The data dir's file alone (the embedded SQLite store: one server). */
export function fileConfigHome(configFile: string): ConfigHome {
  return { read: async () => readConfig(configFile), write: async (p) => writeConfig(configFile, p) };
}

const homeOf = (h: string | ConfigHome): ConfigHome => (typeof h === 'string' ? fileConfigHome(h) : h);

export interface EncryptionStatus {
  writeKey: string;
  /** Stored values per key ('identity' = plain). */
  byKey: Record<string, number>;
}

async function forEachStored(store: Store, fn: (key: string, value: string, rev: number) => Promise<void>): Promise<void> {
  for (const prefix of ENCRYPTED_PREFIXES) {
    let startKey: string | undefined;
    for (;;) {
      const page = await store.list(prefix, { limit: 500, startKey });
      for (const kv of page.items) await fn(kv.key, kv.value, kv.modRevision);
      if (!page.more || !page.items.length) break;
      startKey = `${page.items[page.items.length - 1]!.key}\0`;
    }
  }
}

export async function encryptionStatus(rawStore: Store, config: string | ConfigHome): Promise<EncryptionStatus> {
  const t = new Transformer(await homeOf(config).read());
  const byKey: Record<string, number> = {};
  await forEachStored(rawStore, async (_k, value) => { const k = t.keyOf(value); byKey[k] = (byKey[k] ?? 0) + 1; });
  return { writeKey: t.writeKey, byKey };
}

export async function rotateKeys(rawStore: Store, config: string | ConfigHome, progress: (line: string) => void = () => {}): Promise<{ newKey: string; rewritten: number }> {
  const home = homeOf(config);
  const old = await home.read();
  const primary = old[0]!;
  const type = primary.type === 'identity' ? 'aescbc' : primary.type;
  const key = newKey(`${type}key-${new Date().toISOString().replace(/[-:.]/g, '')}`);
  const sameType = old.find((p) => p.type === type);
  const widened: Provider[] = [
    { type, keys: [key, ...(sameType?.keys ?? [])] },
    ...old.filter((p) => p.type !== type),
  ];
  if (!widened.some((p) => p.type === 'identity')) widened.push({ type: 'identity', keys: [] });
  await home.write(widened);
  const t = new Transformer(widened);

  let rewritten = 0;
  await forEachStored(rawStore, async (k, value, rev) => {
    if (t.keyOf(value) === t.writeKey) return;
    await rawStore.update(k, t.encrypt(t.decrypt(value)), rev);
    rewritten++;
    if (rewritten % 500 === 0) progress(`${rewritten} secrets re-encrypted`);
  });
  // Everything is under the new key now: the old keys go.
  await home.write([{ type, keys: [key] }, { type: 'identity', keys: [] }]);
  return { newKey: `${type}:${key.name}`, rewritten };
}
