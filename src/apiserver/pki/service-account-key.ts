// The key that signs service-account tokens: `<data-dir>/tls/service-account.key`, made
// once and reused (every token in every pod depends on it). kube-apiserver takes it as
// --service-account-key-file / --service-account-signing-key-file; k3s keeps its
// `service.key` the same way. We generate ECDSA P-256 (ES256); an RSA key put there is
// used as is (RS256).
import { createPrivateKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from './atomic-file.ts';

export const SERVICE_ACCOUNT_KEY_FILE = 'service-account.key';

function usable(pem: string | undefined): boolean {
  if (!pem) return false;
  try {
    const key = createPrivateKey(pem);
    return key.asymmetricKeyType === 'rsa' || (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1');
  } catch {
    return false;
  }
}

/** Returns the PEM of the signing key in `tlsDir`, creating it (0600) when missing or unusable. */
export async function ensureServiceAccountKey(tlsDir: string): Promise<string> {
  const path = join(tlsDir, SERVICE_ACCOUNT_KEY_FILE);
  const stored = await readFileIfExists(path);
  if (usable(stored)) return stored!;
  const { privateKey } = await promisify(generateKeyPair)('ec', { namedCurve: 'prime256v1' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  await writeFileAtomic(path, pem, 0o600);
  return pem;
}
