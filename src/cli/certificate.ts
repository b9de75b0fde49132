// `skiff certificate check|rotate` (k3s's command): when the leaf certificates expire and
// how to renew them early. Rotation moves the chosen certificates aside (into
// tls/rotated-<time>/ and agent/tls/rotated-<time>/); the next start issues new ones from
// the same cluster CA and rewrites the admin kubeconfig, so joined nodes and tokens stay
// valid. It wants the server stopped, as k3s does.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DatastoreLockedError, SqliteStore } from '../store/index.ts';
import { defaultDataDir } from './flags.ts';

const HELP = `usage: skiff certificate check|rotate [--data-dir DIR] [--service NAMES]

  check    each certificate's subject and expiry (days left)
  rotate   renew certificates at the next start: the server must be stopped

  --service NAMES   with rotate: a comma list of api-server, admin, kubelet (default: all three)
                    (the cluster CA is not rotated: every node and token trusts it)`;

const SERVICES: Record<string, { dir: string; files: string[] }> = {
  'api-server': { dir: 'tls', files: ['serving.crt', 'serving.key'] },
  admin: { dir: 'tls', files: ['admin.crt', 'admin.key'] },
  kubelet: { dir: path.join('agent', 'tls'), files: ['serving.crt', 'serving.key'] },
};

export async function certificateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { 'data-dir': { type: 'string' }, service: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  const [sub] = positionals;
  if (values.help || !sub) { console.log(HELP); return values.help ? 0 : 2; }
  const dataDir = values['data-dir'] ?? defaultDataDir();
  if (sub === 'check') {
    for (const dir of [path.join(dataDir, 'tls'), path.join(dataDir, 'agent', 'tls')]) {
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.crt')).sort()) {
        const cert = new X509Certificate(readFileSync(path.join(dir, f)));
        const days = Math.floor((Date.parse(cert.validTo) - Date.now()) / 86_400_000);
        console.log(`${path.relative(dataDir, path.join(dir, f)).padEnd(24)} ${cert.subject.replace(/\n/g, ', ').padEnd(40)} expires ${new Date(cert.validTo).toISOString()} (${days} days)`);
      }
    }
    return 0;
  }
  if (sub !== 'rotate') throw new Error(`unknown subcommand ${JSON.stringify(sub)}: use check or rotate`);
  const names = (values.service ?? Object.keys(SERVICES).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!SERVICES[n]) throw new Error(`--service: unknown ${JSON.stringify(n)} (api-server, admin, kubelet)`);
  if (existsSync(path.join(dataDir, 'db'))) {
    try {
      await (await SqliteStore.open({ dataDir })).close();
    } catch (err) {
      if (err instanceof DatastoreLockedError) throw new Error(`the server using ${dataDir} is running: stop it, rotate, then start it again`);
      throw err;
    }
  }
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  for (const n of names) {
    const { dir, files } = SERVICES[n]!;
    const from = path.join(dataDir, dir);
    const present = files.filter((f) => existsSync(path.join(from, f)));
    if (!present.length) { console.log(`${n}: no certificate yet`); continue; }
    const backup = path.join(from, `rotated-${stamp}`);
    mkdirSync(backup, { recursive: true, mode: 0o700 });
    for (const f of present) renameSync(path.join(from, f), path.join(backup, f));
    console.log(`${n}: moved to ${path.relative(dataDir, backup)}; a new certificate is issued at the next start`);
  }
  return 0;
}
