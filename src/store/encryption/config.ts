// The encryption configuration, in Kubernetes' own file format (apiserver.config.k8s.io/v1
// EncryptionConfiguration), so an operator who knows kube-apiserver's
// --encryption-provider-config knows ours. Skiff reads the providers for `secrets`: the
// first one encrypts new writes, every one may decrypt, `identity` reads plain values.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type ProviderType = 'aescbc' | 'aesgcm' | 'identity';
export interface EncryptionKey { name: string; secret: string }
export interface Provider { type: ProviderType; keys: EncryptionKey[] }

/** Where `--secrets-encryption` keeps its configuration (k3s keeps it under server/cred). */
export const encryptionConfigPath = (dataDir: string): string => path.join(dataDir, 'cred', 'encryption-config.json');

/** The resources encrypted: Secrets, as k3s and most clusters configure it. */
export const ENCRYPTED_PREFIXES = ['/registry/secrets/'];

export function newKey(name: string): EncryptionKey {
  return { name, secret: randomBytes(32).toString('base64') };
}

export function toFile(providers: Provider[]): Record<string, unknown> {
  return {
    kind: 'EncryptionConfiguration', apiVersion: 'apiserver.config.k8s.io/v1',
    resources: [{ resources: ['secrets'], providers: providers.map((p) => (p.type === 'identity' ? { identity: {} } : { [p.type]: { keys: p.keys } })) }],
  };
}

export function parseConfig(text: string, source: string): Provider[] {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not JSON: ${(err as Error).message}`);
  }
  if (doc?.kind !== 'EncryptionConfiguration') throw new Error(`${source}: kind must be EncryptionConfiguration`);
  const entry = (doc.resources ?? []).find((r: any) => (r.resources ?? []).includes('secrets'));
  if (!entry) throw new Error(`${source}: no resources entry for secrets`);
  const providers: Provider[] = [];
  for (const p of entry.providers ?? []) {
    const [type] = Object.keys(p);
    if (type === 'identity') { providers.push({ type, keys: [] }); continue; }
    if (type !== 'aescbc' && type !== 'aesgcm') throw new Error(`${source}: provider ${type} is not supported (aescbc, aesgcm, identity are)`);
    const keys: EncryptionKey[] = p[type].keys ?? [];
    if (!keys.length) throw new Error(`${source}: provider ${type} has no keys`);
    for (const k of keys) {
      const len = Buffer.from(String(k.secret ?? ''), 'base64').length;
      if (!k.name || ![16, 24, 32].includes(len)) throw new Error(`${source}: key ${JSON.stringify(k.name)} must have a name and a base64 secret of 16, 24 or 32 bytes`);
    }
    providers.push({ type, keys });
  }
  if (!providers.length) throw new Error(`${source}: no providers for secrets`);
  return providers;
}

export function readConfig(file: string): Provider[] {
  return parseConfig(readFileSync(file, 'utf8'), file);
}

/** The file's text for these providers (also what the etcd bootstrap data carries). */
export const configText = (providers: Provider[]): string => `${JSON.stringify(toFile(providers), null, 2)}\n`;

export function writeConfig(file: string, providers: Provider[]): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, configText(providers), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The configuration `--secrets-encryption` uses: made once with a fresh AES-CBC key (k3s's default). */
export function ensureConfig(dataDir: string): Provider[] {
  const file = encryptionConfigPath(dataDir);
  if (!existsSync(file)) writeConfig(file, [{ type: 'aescbc', keys: [newKey(`aescbckey-${new Date().toISOString().replace(/[-:.]/g, '')}`)] }, { type: 'identity', keys: [] }]);
  return readConfig(file);
}
