// The agent's HTTPS serving certificate: self-signed (ECDSA P-256), like a kubelet without
// --tls-cert-file. The API server does not verify it (kube-apiserver without
// --kubelet-certificate-authority behaves the same): the connection is encrypted and the
// agent authenticates the API server by its client certificate, but the API server does not
// authenticate the agent. Having the cluster CA sign agent serving certificates (the
// kubelet's serving CSR) closes that gap; it belongs with the security work.
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
const LIFETIME_DAYS = 365;
const RENEW_BEFORE_MS = 30 * DAY_MS;

export interface ServingCert { certPem: string; keyPem: string; certPath: string; keyPath: string }

async function readIfExists(p: string): Promise<string | undefined> {
  try { return await readFile(p, 'utf8'); } catch { return undefined; }
}

async function writeAtomic(p: string, data: string, mode: number): Promise<void> {
  const tmp = `${p}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, p);
}

function covers(cert: X509Certificate, names: string[]): boolean {
  const san = cert.subjectAltName ?? '';
  const have = new Set(san.split(', ').map((s) => s.replace(/^(DNS|IP Address):/, '').toLowerCase()));
  return names.every((n) => have.has(n.toLowerCase()));
}

/**
 * Makes sure `<dir>/serving.crt` and `<dir>/serving.key` hold a self-signed certificate for
 * `nodeName`, `localhost`, 127.0.0.1 and `ips`; reuses what is there when it still covers
 * them and has more than 30 days to live.
 */
export async function ensureAgentServingCert(dir: string, nodeName: string, ips: string[], now = new Date()): Promise<ServingCert> {
  const certPath = join(dir, 'serving.crt');
  const keyPath = join(dir, 'serving.key');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const dns = [...new Set([nodeName.toLowerCase(), 'localhost'])];
  const addrs = [...new Set(['127.0.0.1', ...ips.filter((ip) => isIP(ip))])];
  const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (certPem && keyPem) {
    try {
      const cert = new X509Certificate(certPem);
      if (cert.checkPrivateKey(createPrivateKey(keyPem)) && new Date(cert.validTo).getTime() - now.getTime() > RENEW_BEFORE_MS && covers(cert, [...dns, ...addrs])) {
        return { certPem, keyPem, certPath, keyPath };
      }
    } catch { /* unreadable: replaced below */ }
  }
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const keys = (await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) || 0x01;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [`${nodeName}@${Math.floor(now.getTime() / 1000)}`] }],
    notBefore: new Date(now.getTime() - 60 * 60 * 1000),
    notAfter: new Date(now.getTime() + LIFETIME_DAYS * DAY_MS),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dns.map((value) => ({ type: 'dns' as const, value })),
        ...addrs.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64').replace(/.{1,64}/g, '$&\n');
  const out = { certPem: cert.toString('pem') + '\n', keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8}-----END PRIVATE KEY-----\n` };
  // Key first: a crash between the writes leaves a mismatched pair, which the next start replaces.
  await writeAtomic(keyPath, out.keyPem, 0o600);
  await writeAtomic(certPath, out.certPem, 0o644);
  return { ...out, certPath, keyPath };
}
