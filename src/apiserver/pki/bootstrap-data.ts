// The cluster's shared secrets as they sit in a shared datastore (k3s's "bootstrap" key):
// the CA, the service-account signing key, the secrets-encryption keys and the network
// settings every server must agree on, sealed with a key derived from the join token's
// secret. Anyone who can read etcd but lacks the token learns nothing; a server given the
// token can unseal it and become a full member of the cluster.
//
// Sealing: scrypt(secret, random 16-byte salt) → 32-byte key; AES-256-GCM with a random
// 12-byte IV; the envelope's version and KDF parameters are authenticated as AAD, so a
// wrong token (or a tampered envelope) fails the GCM tag check instead of yielding garbage.
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';

export interface BootstrapData {
  caCertPem: string;
  caKeyPem: string;
  serviceAccountKeyPem: string;
  /** DATA_DIR/cred/encryption-config.json's text, when the cluster encrypts Secrets. */
  encryptionConfig?: string;
  /** Settings a joining server must share (k3s calls these "critical configuration"). */
  clusterCidr: string;
  serviceCidr: string;
  clusterDns: string;
}

interface Envelope {
  kind: 'SkiffBootstrapData';
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: 'aes-256-gcm';
  iv: string;
  tag: string;
  data: string;
}

/** The token's secret cannot open the stored data: another cluster's token, or a typo. */
export class WrongTokenError extends Error {}

const SCRYPT = { N: 16384, r: 8, p: 1 };

function deriveKey(secret: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, 32, { ...params, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const aad = (env: Pick<Envelope, 'kind' | 'version' | 'kdf' | 'cipher'>): Buffer =>
  Buffer.from(JSON.stringify([env.kind, env.version, env.kdf, env.cipher]));

/** Encrypts the data under `secret` (the password part of the join token); returns the stored text. */
export async function sealBootstrapData(data: BootstrapData, secret: string): Promise<string> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const head = { kind: 'SkiffBootstrapData' as const, version: 1 as const, kdf: { name: 'scrypt' as const, ...SCRYPT, salt: salt.toString('base64') }, cipher: 'aes-256-gcm' as const };
  const cipher = createCipheriv('aes-256-gcm', await deriveKey(secret, salt, SCRYPT), iv);
  cipher.setAAD(aad(head));
  const body = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
  const env: Envelope = { ...head, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: body.toString('base64') };
  return JSON.stringify(env);
}

/** Decrypts stored text; throws WrongTokenError when `secret` is not the one it was sealed with. */
export async function openBootstrapData(text: string, secret: string): Promise<BootstrapData> {
  let env: Envelope;
  try {
    env = JSON.parse(text) as Envelope;
  } catch {
    throw new Error('the bootstrap data in the datastore is not JSON');
  }
  if (env.kind !== 'SkiffBootstrapData' || env.version !== 1 || env.kdf?.name !== 'scrypt' || env.cipher !== 'aes-256-gcm') {
    throw new Error(`the bootstrap data in the datastore has an unknown format (${String(env.kind)} v${String(env.version)})`);
  }
  const { N, r, p } = env.kdf;
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) || N > 1 << 20) throw new Error('the bootstrap data in the datastore has bad KDF parameters');
  const key = await deriveKey(secret, Buffer.from(env.kdf.salt, 'base64'), { N, r, p });
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(env.iv, 'base64'));
  decipher.setAAD(aad(env));
  decipher.setAuthTag(Buffer.from(env.tag, 'base64'));
  let plain: string;
  try {
    plain = Buffer.concat([decipher.update(Buffer.from(env.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new WrongTokenError('the token does not match the cluster\'s bootstrap data in the datastore');
  }
  return JSON.parse(plain) as BootstrapData;
}
