// `skiff token create|list|delete`: bootstrap tokens for joining nodes (k3s's `token`
// command), kept as Kubernetes keeps them: Secrets kube-system/bootstrap-token-<id>.
// Tokens are printed in the K10 form, so `skiff agent --token` can check the server's CA.
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { KObject } from '../api/object.ts';
import { BOOTSTRAP_TOKEN_TYPE, bootstrapSecretName } from '../apiserver/authn/bootstrap-token.ts';
import { caCertHash } from '../apiserver/pki/join-token.ts';
import { HttpClient } from '../client/http.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { defaultDataDir, parseDuration } from './flags.ts';

const HELP = `usage: skiff token create|list|delete [flags]

  create [--ttl 24h] [--description TEXT] [--groups system:bootstrappers:...]
                       a new join token for 'skiff agent --token' (--ttl 0: never expires)
  list                 the bootstrap tokens: id, expiry, description
  delete ID            revoke a token (its id is the part before the dot)

  --data-dir DIR       the server's data dir, for its admin kubeconfig (default /var/lib/skiff)`;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const randomString = (n: number) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? '' : Buffer.from(s, 'base64').toString());

export async function tokenCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, strict: true, allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, ttl: { type: 'string' }, description: { type: 'string' }, groups: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [sub, ...rest] = positionals;
  if (values.help || !sub) { console.log(HELP); return values.help ? 0 : 2; }
  const kubeconfig = path.join(values['data-dir'] ?? defaultDataDir(), 'kubeconfig.yaml');
  const client = HttpClient.fromKubeconfig(kubeconfig);
  const secrets = client.resource('', 'v1', 'secrets');
  try {
    if (sub === 'create') {
      const ttlMs = values.ttl === '0' ? 0 : parseDuration('--ttl', values.ttl ?? '24h');
      const groups = (values.groups ?? '').split(',').map((g) => g.trim()).filter(Boolean);
      for (const g of groups) if (!/^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(g)) throw new Error(`--groups: ${g} must start with system:bootstrappers:`);
      const id = randomString(6);
      const secret = randomString(16);
      const data: Record<string, string> = {
        'token-id': b64(id), 'token-secret': b64(secret),
        'usage-bootstrap-authentication': b64('true'), 'usage-bootstrap-signing': b64('true'),
        ...(ttlMs ? { expiration: b64(new Date(Date.now() + ttlMs).toISOString().replace(/\.\d{3}Z$/, 'Z')) } : {}),
        ...(values.description ? { description: b64(values.description) } : {}),
        ...(groups.length ? { 'auth-extra-groups': b64(groups.join(',')) } : {}),
      };
      await secrets.create({ apiVersion: 'v1', kind: 'Secret', type: BOOTSTRAP_TOKEN_TYPE, metadata: { name: bootstrapSecretName(id), namespace: 'kube-system' }, data } as KObject);
      const caPem = loadKubeconfig(kubeconfig).ca?.toString('utf8') ?? '';
      console.log(`K10${caCertHash(caPem)}::${id}.${secret}`);
    } else if (sub === 'list') {
      const { items } = await secrets.list('kube-system');
      console.log('TOKEN ID  EXPIRES                 DESCRIPTION');
      for (const s of items.filter((x) => (x as { type?: string }).type === BOOTSTRAP_TOKEN_TYPE)) {
        const d = (s as { data?: Record<string, string> }).data ?? {};
        console.log(`${unb64(d['token-id']).padEnd(9)} ${(unb64(d.expiration) || '<never>').padEnd(23)} ${unb64(d.description)}`);
      }
    } else if (sub === 'delete') {
      if (!rest[0]) throw new Error('delete needs a token id (the part before the dot)');
      const id = rest[0].replace(/^K10[0-9a-f]{64}::/, '').split('.')[0]!;
      await secrets.delete('kube-system', bootstrapSecretName(id));
      console.log(`token ${id} deleted`);
    } else {
      throw new Error(`unknown subcommand ${JSON.stringify(sub)}: use create, list or delete`);
    }
  } finally {
    client.close();
  }
  return 0;
}
