// A self-signed serving certificate (ECDSA P-256), like a kubelet without --tls-cert-file.
// The agent no longer serves with it: it asks the cluster CA for one through a
// kubelet-serving CSR (src/agent/credentials.ts), which the API server verifies. This stays
// for running the kubelet server on its own (server.test.ts) without a cluster to sign.
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';

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
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) || 0x01;
  // Written without @peculiar/x509, which would stay loaded in the agent for good (~6.5 MB).
  const { createSelfSignedServerCert } = await import('../../util/der-x509.ts');
  const out = createSelfSignedServerCert({
    commonName: `${nodeName}@${Math.floor(now.getTime() / 1000)}`, dnsNames: dns, ipAddresses: addrs,
    notBefore: new Date(now.getTime() - 60 * 60 * 1000), notAfter: new Date(now.getTime() + LIFETIME_DAYS * DAY_MS), serial,
  });
  // Key first: a crash between the writes leaves a mismatched pair, which the next start replaces.
  await writeAtomic(keyPath, out.keyPem, 0o600);
  await writeAtomic(certPath, out.certPem, 0o644);
  return { ...out, certPath, keyPath };
}
