// `skiff secrets-encrypt status|rotate-keys`: encryption at rest for Secrets, on a stopped
// server's data dir (k3s's command name).
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SqliteStore, DatastoreLockedError } from '../store/index.ts';
import { encryptionConfigPath } from '../store/encryption/config.ts';
import { encryptionStatus, rotateKeys } from '../store/encryption/rotate.ts';
import { defaultDataDir } from './flags.ts';

const HELP = `usage: skiff secrets-encrypt status|rotate-keys [--data-dir DIR]

  status        the key new Secrets are encrypted with, and how many stored Secrets use each key
  rotate-keys   make a new key, re-encrypt every Secret with it (plain ones too), drop the old keys

Secrets are encrypted at rest when the server runs with --secrets-encryption; the keys are
in DIR/cred/encryption-config.json. Run these with the server stopped: the embedded
datastore belongs to one process at a time.`;

export async function secretsEncryptCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help || !positionals.length) { console.log(HELP); return values.help ? 0 : 2; }
  const [sub] = positionals;
  if (sub !== 'status' && sub !== 'rotate-keys') throw new Error(`unknown subcommand ${JSON.stringify(sub)}: use status or rotate-keys`);
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const configFile = encryptionConfigPath(dataDir);
  if (!existsSync(configFile)) throw new Error(`${configFile} does not exist: start the server once with --secrets-encryption`);
  let store: SqliteStore;
  try {
    store = await SqliteStore.open({ dataDir });
  } catch (err) {
    if (err instanceof DatastoreLockedError) throw new Error(`the datastore is in use: stop the server using ${dataDir} first`);
    throw err;
  }
  try {
    if (sub === 'status') {
      const st = await encryptionStatus(store, configFile);
      console.log(`Encryption: enabled\nCurrent key: ${st.writeKey}`);
      for (const [key, n] of Object.entries(st.byKey)) console.log(`Secrets under ${key}: ${n}`);
    } else {
      const r = await rotateKeys(store, configFile, (line) => console.log(line));
      console.log(`new key ${r.newKey}; ${r.rewritten} secrets re-encrypted; old keys removed`);
    }
  } finally {
    await store.close();
  }
  return 0;
}
