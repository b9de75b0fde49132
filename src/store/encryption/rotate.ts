// Key rotation and status, run against a stopped server's datastore (the embedded SQLite
// store belongs to one process at a time). Rotation is ordered so a crash at any point
// loses nothing: first the configuration gains the new key (as the writing key) while
// keeping the old ones, then every Secret is rewritten with it, and only then are the old
// keys dropped from the configuration.
import type { Store } from '../types.ts';
import { ENCRYPTED_PREFIXES, newKey, readConfig, writeConfig, type Provider } from './config.ts';
import { Transformer } from './transformer.ts';

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

export async function encryptionStatus(rawStore: Store, configFile: string): Promise<EncryptionStatus> {
  const t = new Transformer(readConfig(configFile));
  const byKey: Record<string, number> = {};
  await forEachStored(rawStore, async (_k, value) => { const k = t.keyOf(value); byKey[k] = (byKey[k] ?? 0) + 1; });
  return { writeKey: t.writeKey, byKey };
}

export async function rotateKeys(rawStore: Store, configFile: string, progress: (line: string) => void = () => {}): Promise<{ newKey: string; rewritten: number }> {
  const old = readConfig(configFile);
  const primary = old[0]!;
  const type = primary.type === 'identity' ? 'aescbc' : primary.type;
  const key = newKey(`${type}key-${new Date().toISOString().replace(/[-:.]/g, '')}`);
  const sameType = old.find((p) => p.type === type);
  const widened: Provider[] = [
    { type, keys: [key, ...(sameType?.keys ?? [])] },
    ...old.filter((p) => p.type !== type),
  ];
  if (!widened.some((p) => p.type === 'identity')) widened.push({ type: 'identity', keys: [] });
  writeConfig(configFile, widened);
  const t = new Transformer(widened);

  let rewritten = 0;
  await forEachStored(rawStore, async (k, value, rev) => {
    if (t.keyOf(value) === t.writeKey) return;
    await rawStore.update(k, t.encrypt(t.decrypt(value)), rev);
    rewritten++;
    if (rewritten % 500 === 0) progress(`${rewritten} secrets re-encrypted`);
  });
  // Everything is under the new key now: the old keys go.
  writeConfig(configFile, [{ type, keys: [key] }, { type: 'identity', keys: [] }]);
  return { newKey: `${type}:${key.name}`, rewritten };
}
