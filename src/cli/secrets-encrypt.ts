// `skiff secrets-encrypt status|rotate-keys`: encryption at rest for Secrets (k3s's command
// name), on a stopped server's data dir (SQLite) or on the etcd several servers share.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore, DatastoreLockedError, driverFor, openStore, type Store } from '../store/index.ts';
import { encryptionConfigPath } from '../store/encryption/config.ts';
import { encryptionStatus, rotateKeys, type ConfigHome } from '../store/encryption/rotate.ts';
import { parseJoinToken } from '../apiserver/pki/join-token.ts';
import { bootstrapConfigHome, liveApiServers } from '../server/bootstrap-encryption.ts';
import { defaultDataDir } from './flags.ts';

const HELP = `usage: skiff secrets-encrypt status|rotate-keys [flags]

  status        the key new Secrets are encrypted with, and how many stored Secrets use each key
  rotate-keys   make a new key, re-encrypt every Secret with it (plain ones too), drop the old keys

flags:
  --data-dir DIR              the server's data dir (keys in DIR/cred/encryption-config.json)
  --datastore-endpoint URL    http(s)://host:2379: the etcd the servers share
  --datastore-cafile/--datastore-certfile/--datastore-keyfile FILE   etcd client TLS
  --token T                   etcd: the cluster's join token (default: DIR/token)

Secrets are encrypted at rest when the server runs with --secrets-encryption. Run these
with every server stopped. SQLite: the embedded datastore belongs to one process at a time.
etcd: the keys are the cluster's, kept in the datastore's bootstrap data (sealed with the
token); rotate-keys saves each step there and in DIR's file, and every server installs
them at its next start. A running server keeps the keys it started with and could not
read Secrets written under the new key, so rotate-keys refuses while any server's
kube-system/skiff-apiserver-* Lease is live (a killed server's Lease lapses after 20 s).`;

export async function secretsEncryptCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, strict: true, allowPositionals: true,
    options: {
      'data-dir': { type: 'string' }, 'datastore-endpoint': { type: 'string' }, token: { type: 'string' },
      'datastore-cafile': { type: 'string' }, 'datastore-certfile': { type: 'string' }, 'datastore-keyfile': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !positionals.length) { console.log(HELP); return values.help ? 0 : 2; }
  const [sub] = positionals;
  if (sub !== 'status' && sub !== 'rotate-keys') throw new Error(`unknown subcommand ${JSON.stringify(sub)}: use status or rotate-keys`);
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const endpoint = values['datastore-endpoint'];
  let store: Store;
  let home: ConfigHome | string;
  if (driverFor(endpoint) === 'sqlite') {
    home = encryptionConfigPath(dataDir);
    if (!existsSync(home)) throw new Error(`${home} does not exist: start the server once with --secrets-encryption`);
    try {
      store = await SqliteStore.open({ dataDir });
    } catch (err) {
      if (err instanceof DatastoreLockedError) throw new Error(`the datastore is in use: stop the server using ${dataDir} first`);
      throw err;
    }
  } else {
    const tokenFile = join(dataDir, 'token');
    const token = values.token ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8') : undefined);
    if (!token?.trim()) throw new Error(`etcd: the cluster's keys are sealed with its token: give --token T or --data-dir of one of its servers (${tokenFile} does not exist)`);
    const tls = { caFile: values['datastore-cafile'], certFile: values['datastore-certfile'], keyFile: values['datastore-keyfile'] };
    store = await openStore({ dataDir, endpoint, tls });
    // The data dir's file follows each step when it is a server's (given, or the default without --token).
    home = bootstrapConfigHome(store, parseJoinToken(token).password, values['data-dir'] ?? (values.token ? undefined : dataDir));
  }
  try {
    if (sub === 'status') {
      const st = await encryptionStatus(store, home);
      console.log(`Encryption: enabled\nCurrent key: ${st.writeKey}`);
      for (const [key, n] of Object.entries(st.byKey)) console.log(`Secrets under ${key}: ${n}`);
    } else {
      if (typeof home !== 'string') {
        const live = await liveApiServers(store);
        if (live.length) {
          throw new Error(`servers are running on this datastore (${live.map((l) => `${l.name}, Lease valid ${l.secondsLeft} s more`).join('; ')}): stop every server first; a running server keeps its old keys and could not read Secrets re-encrypted with the new one`);
        }
      }
      const r = await rotateKeys(store, home, (line) => console.log(line));
      console.log(`new key ${r.newKey}; ${r.rewritten} secrets re-encrypted; old keys removed`);
      if (typeof home !== 'string') {
        // A server started while this ran may hold keys from before: it must restart.
        const started = await liveApiServers(store);
        if (started.length) console.error(`warning: servers started during the rotation (${started.map((l) => l.name).join(', ')}): restart them so they load the new keys`);
      }
    }
  } finally {
    await store.close();
  }
  return 0;
}
