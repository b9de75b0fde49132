// Datastore snapshots for `skiff datastore snapshot save|restore`.
// SQLite: save is better-sqlite3's backup API into a new file; restore puts that file in
// place of <dataDir>/db/state.db. Both need the server stopped: the server holds the
// database with an exclusive lock (one process owns it), so no other process can read it.
// etcd: save streams the Maintenance.Snapshot RPC from the server into a file (online);
// restore runs `etcdctl snapshot restore` into a new etcd data dir, which etcd is then
// started on (etcd cannot load a snapshot into a running member).
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, renameSync, rmSync, copyFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { Etcd3 } from 'etcd3';
import { databasePath } from './sqlite/sqlite-store.ts';
import { clientOptions } from './etcd/etcd-store.ts';
import type { DatastoreTls } from './types.ts';

export async function saveSqliteSnapshot(dataDir: string, file: string): Promise<void> {
  const path = databasePath(dataDir);
  if (!existsSync(path)) throw new Error(`no datastore at ${path}`);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('schema_version'); // touches the file: fails here if the server holds it
  } catch (err) {
    throw new Error(`cannot read ${path} (${(err as Error).message}): stop the server first; the embedded datastore belongs to one process`);
  }
  try {
    await db.backup(file);
  } finally {
    db.close();
  }
}

export function restoreSqliteSnapshot(dataDir: string, file: string): void {
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  const check = new Database(file, { readonly: true, fileMustExist: true });
  try {
    if (check.pragma('integrity_check', { simple: true }) !== 'ok') throw new Error(`${file} is not a sound SQLite database`);
    check.prepare('SELECT 1 FROM log LIMIT 1').all();
  } finally {
    check.close();
  }
  const path = databasePath(dataDir);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.restore`;
  copyFileSync(file, tmp);
  try {
    // The WAL and shared-memory files belong to the old database.
    for (const f of [`${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export async function saveEtcdSnapshot(endpoint: string, tls: DatastoreTls, file: string): Promise<number> {
  const client = new Etcd3(clientOptions({ endpoint, ...tls }));
  // Written next to FILE and renamed at the end: a broken stream leaves no partial snapshot.
  const part = `${file}.part`;
  try {
    const stream = await client.maintenance.snapshot();
    const out = createWriteStream(part, { mode: 0o600 });
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk) => { bytes += chunk.blob.length; out.write(chunk.blob); });
      stream.on('error', (err) => { out.destroy(); reject(err); });
      stream.on('end', () => out.end(() => resolve()));
    });
    if (bytes === 0) throw new Error('etcd sent an empty snapshot');
    renameSync(part, file);
    return bytes;
  } catch (err) {
    rmSync(part, { force: true });
    throw new Error(`snapshot from etcd at ${endpoint} failed: ${(err as Error).message}`);
  } finally {
    client.close();
  }
}

/** Makes a new single-member etcd data dir from a snapshot; start etcd with `--data-dir etcdDataDir`. */
export async function restoreEtcdSnapshot(file: string, etcdDataDir: string, opts: { name?: string; peerUrl?: string } = {}): Promise<void> {
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  if (existsSync(etcdDataDir)) throw new Error(`${etcdDataDir} exists: etcd restores into a new directory`);
  const name = opts.name ?? 'default';
  const peer = opts.peerUrl ?? 'http://127.0.0.1:2380';
  try {
    await promisify(execFile)('etcdctl', ['snapshot', 'restore', file, '--data-dir', etcdDataDir, '--name', name,
      '--initial-cluster', `${name}=${peer}`, '--initial-advertise-peer-urls', peer], { env: { ...process.env, ETCDCTL_API: '3' } });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('etcdctl is not installed (apt-get install etcd-client)');
    throw new Error(`etcdctl snapshot restore failed: ${e.stderr ?? e.message}`);
  }
}
