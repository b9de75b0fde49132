// Values at rest, as kube-apiserver writes them: `k8s:enc:<provider>:v1:<key name>:` then
// the ciphertext (base64 here, since our store holds text). AES-CBC: a random IV, PKCS#7
// padding. AES-GCM: a random 12-byte nonce and the 16-byte tag. A value without the
// prefix is plain (written before encryption was turned on) and is read as it is when the
// identity provider is configured.
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM, type DecipherGCM } from 'node:crypto';
import type { EncryptionKey, Provider } from './config.ts';

const PREFIX = 'k8s:enc:';

export class Transformer {
  readonly #write: Provider;
  readonly #keys = new Map<string, { type: Provider['type']; key: Buffer }>();
  readonly #identity: boolean;

  constructor(providers: Provider[]) {
    this.#write = providers[0]!;
    this.#identity = providers.some((p) => p.type === 'identity');
    for (const p of providers) for (const k of p.keys) this.#keys.set(`${p.type}:${k.name}`, { type: p.type, key: Buffer.from(k.secret, 'base64') });
  }

  /** Name of the key new writes use ('identity' when plain). */
  get writeKey(): string {
    return this.#write.type === 'identity' ? 'identity' : `${this.#write.type}:${this.#write.keys[0]!.name}`;
  }

  encrypt(plain: string): string {
    if (this.#write.type === 'identity') return plain;
    const k: EncryptionKey = this.#write.keys[0]!;
    const key = Buffer.from(k.secret, 'base64');
    const head = `${PREFIX}${this.#write.type}:v1:${k.name}:`;
    if (this.#write.type === 'aesgcm') {
      const nonce = randomBytes(12);
      const c = createCipheriv(`aes-${key.length * 8}-gcm`, key, nonce) as CipherGCM;
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return head + Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64');
    }
    const iv = randomBytes(16);
    const c = createCipheriv(`aes-${key.length * 8}-cbc`, key, iv);
    return head + Buffer.concat([iv, c.update(plain, 'utf8'), c.final()]).toString('base64');
  }

  /** The key a stored value was written with ('identity' for plain values). */
  keyOf(stored: string): string {
    if (!stored.startsWith(PREFIX)) return 'identity';
    const [type, , name] = stored.slice(PREFIX.length).split(':');
    return `${type}:${name}`;
  }

  decrypt(stored: string): string {
    if (!stored.startsWith(PREFIX)) {
      if (this.#identity) return stored;
      throw new Error('a plain value is stored but the identity provider is not configured');
    }
    const rest = stored.slice(PREFIX.length);
    const [type, version, name] = rest.split(':', 3);
    const entry = this.#keys.get(`${type}:${name}`);
    if (version !== 'v1' || !entry) throw new Error(`no key ${name} for provider ${type} in the encryption configuration`);
    const data = Buffer.from(rest.slice(`${type}:${version}:${name}:`.length), 'base64');
    if (entry.type === 'aesgcm') {
      const d = createDecipheriv(`aes-${entry.key.length * 8}-gcm`, entry.key, data.subarray(0, 12)) as DecipherGCM;
      d.setAuthTag(data.subarray(data.length - 16));
      return Buffer.concat([d.update(data.subarray(12, data.length - 16)), d.final()]).toString('utf8');
    }
    const d = createDecipheriv(`aes-${entry.key.length * 8}-cbc`, entry.key, data.subarray(0, 16));
    return Buffer.concat([d.update(data.subarray(16)), d.final()]).toString('utf8');
  }
}
