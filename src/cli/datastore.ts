// `skiff datastore snapshot save|restore FILE`: parse flags, call src/store/snapshot.ts.
import { parseArgs } from 'node:util';
import { driverFor } from '../store/index.ts';
import { restoreEtcdSnapshot, restoreSqliteSnapshot, saveEtcdSnapshot, saveSqliteSnapshot } from '../store/snapshot.ts';
import { defaultDataDir } from './flags.ts';

const HELP = `usage: skiff datastore snapshot save|restore FILE [flags]

  save FILE      write a snapshot of the datastore to FILE
  restore FILE   replace the datastore with FILE's contents

flags:
  --data-dir DIR              the server's data dir (embedded SQLite datastore in DIR/db)
  --datastore-endpoint URL    http(s)://host:2379: the etcd to snapshot
  --datastore-cafile/--datastore-certfile/--datastore-keyfile FILE   etcd client TLS
  --etcd-data-dir DIR         restore with etcd: the NEW etcd data dir to create
  --etcd-name NAME            restore with etcd: member name (default "default")
  --etcd-peer-url URL         restore with etcd: the member's peer URL (default http://127.0.0.1:2380)

SQLite: save and restore need the server stopped (it holds the database exclusively).
etcd: save works online; restore creates a new etcd data dir (etcdctl snapshot restore):
stop etcd, start it with --data-dir on the restored directory, then start skiff again.`;

export async function datastoreCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, strict: true, allowPositionals: true,
    options: {
      'data-dir': { type: 'string' }, 'datastore-endpoint': { type: 'string' },
      'datastore-cafile': { type: 'string' }, 'datastore-certfile': { type: 'string' }, 'datastore-keyfile': { type: 'string' },
      'etcd-data-dir': { type: 'string' }, 'etcd-name': { type: 'string' }, 'etcd-peer-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !positionals.length) { console.log(HELP); return values.help ? 0 : 2; }
  const [group, action, file, ...rest] = positionals;
  if (group !== 'snapshot') throw new Error(`unknown subcommand ${JSON.stringify(group)}: use snapshot`);
  if (action !== 'save' && action !== 'restore') throw new Error(`unknown snapshot action ${JSON.stringify(action)}: use save or restore`);
  if (!file || rest.length) throw new Error(`snapshot ${action} takes exactly one FILE`);
  const endpoint = values['datastore-endpoint'];
  const dataDir = values['data-dir'] ?? defaultDataDir();
  if (driverFor(endpoint) === 'sqlite') {
    if (action === 'save') await saveSqliteSnapshot(dataDir, file);
    else restoreSqliteSnapshot(dataDir, file);
    console.log(action === 'save' ? `snapshot of ${dataDir} saved to ${file}` : `datastore in ${dataDir} restored from ${file}`);
    return 0;
  }
  if (action === 'save') {
    const tls = { caFile: values['datastore-cafile'], certFile: values['datastore-certfile'], keyFile: values['datastore-keyfile'] };
    const bytes = await saveEtcdSnapshot(endpoint!, tls, file);
    console.log(`etcd snapshot (${bytes} bytes) saved to ${file}`);
    return 0;
  }
  const target = values['etcd-data-dir'];
  if (!target) throw new Error('restore with etcd needs --etcd-data-dir DIR (a new directory to start etcd on)');
  await restoreEtcdSnapshot(file, target, { name: values['etcd-name'], peerUrl: values['etcd-peer-url'] });
  console.log(`etcd data dir ${target} restored from ${file}: start etcd with --data-dir ${target}`);
  return 0;
}
