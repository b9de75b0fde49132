import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from './atomic-file.ts';
import {
  createCertificateAuthority,
  issueAdminCertificate,
  issueServingCertificate,
} from './issue-certificates.ts';
import { formatJoinToken, parseJoinToken, randomJoinSecret } from './join-token.ts';
import { ensureServiceAccountKey } from './service-account-key.ts';
import { renderAdminKubeconfig } from './kubeconfig.ts';
import { missingSans, sansOfCertificate, wantedServingSans } from './subject-alt-names.ts';
import type { CertificateAndKey, ClusterCredentials, EnsureClusterCredentialsOptions } from './types.ts';

/** Leaf certificates are renewed this long before they expire. */
export const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

const PRIVATE = 0o600;

interface StoredPair {
  certPath: string;
  keyPath: string;
  certPem: string | undefined;
  keyPem: string | undefined;
}

async function readPair(tlsDir: string, name: string): Promise<StoredPair> {
  const certPath = join(tlsDir, `${name}.crt`);
  const keyPath = join(tlsDir, `${name}.key`);
  const [certPem, keyPem] = await Promise.all([readFileIfExists(certPath), readFileIfExists(keyPath)]);
  return { certPath, keyPath, certPem, keyPem };
}

/** Key first: a crash between the two writes leaves a mismatched pair, which the next start replaces. */
async function savePair(stored: StoredPair, pair: CertificateAndKey): Promise<void> {
  await writeFileAtomic(stored.keyPath, pair.keyPem, PRIVATE);
  await writeFileAtomic(stored.certPath, pair.certPem, 0o644);
}

/** Parses a stored pair, or returns undefined if either half is missing, unreadable or mismatched. */
function parsePair(stored: StoredPair): { cert: X509Certificate; pair: CertificateAndKey } | undefined {
  if (stored.certPem === undefined || stored.keyPem === undefined) return undefined;
  try {
    const cert = new X509Certificate(stored.certPem);
    if (!cert.checkPrivateKey(createPrivateKey(stored.keyPem))) return undefined;
    return { cert, pair: { certPem: stored.certPem, keyPem: stored.keyPem } };
  } catch {
    return undefined;
  }
}

function expiresAt(cert: X509Certificate): number {
  return new Date(cert.validTo).getTime();
}

/** A stored CA is kept for as long as it is valid: replacing it cuts off every joined node. */
function reusableCa(stored: StoredPair, now: Date): CertificateAndKey | undefined {
  const parsed = parsePair(stored);
  if (!parsed || !parsed.cert.ca || expiresAt(parsed.cert) <= now.getTime()) return undefined;
  return parsed.pair;
}

/** A stored leaf is kept if this CA signed it and it has more than RENEW_BEFORE_MS to live. */
function reusableLeaf(
  stored: StoredPair,
  caCert: X509Certificate,
  now: Date,
): { cert: X509Certificate; pair: CertificateAndKey } | undefined {
  const parsed = parsePair(stored);
  if (!parsed) return undefined;
  const { cert } = parsed;
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return undefined;
  if (expiresAt(cert) - now.getTime() <= RENEW_BEFORE_MS) return undefined;
  return parsed;
}

/** Writes a small private file only when its content or mode is not already right. */
async function ensurePrivateFile(path: string, content: string, current: string | undefined): Promise<void> {
  if (current !== content) return writeFileAtomic(path, content, PRIVATE);
  const { mode } = await stat(path);
  if ((mode & 0o777) !== PRIVATE) await chmod(path, PRIVATE);
}

/**
 * The data dir's CA (`tls/ca.crt`, `tls/ca.key`): the stored one while it is usable, else a
 * new one. A server seeding a shared datastore calls this before the rest of its credentials.
 */
export async function ensureCertificateAuthority(dataDir: string, now = new Date()): Promise<CertificateAndKey> {
  const tlsDir = join(dataDir, 'tls');
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  const stored = await readPair(tlsDir, 'ca');
  const reused = reusableCa(stored, now);
  if (reused) return reused;
  const ca = await createCertificateAuthority(now);
  await savePair(stored, ca);
  return ca;
}

/** Puts a CA taken from the cluster's bootstrap data into the data dir (when it differs). */
export async function installCertificateAuthority(dataDir: string, ca: CertificateAndKey): Promise<void> {
  const tlsDir = join(dataDir, 'tls');
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  const stored = await readPair(tlsDir, 'ca');
  if (stored.certPem === ca.certPem && stored.keyPem === ca.keyPem) return;
  await savePair(stored, ca);
}

/**
 * Makes sure the data dir holds a CA, a serving certificate that covers every name this
 * machine answers to, an admin client certificate, a join token and an admin kubeconfig.
 * Creates what is missing, renews what is stale, and reuses the rest.
 */
export async function ensureClusterCredentials(opts: EnsureClusterCredentialsOptions): Promise<ClusterCredentials> {
  const now = (opts.clock ?? (() => new Date()))();
  const tlsDir = join(opts.dataDir, 'tls');
  const tokenPath = join(opts.dataDir, 'token');
  const kubeconfigPath = join(opts.dataDir, 'kubeconfig.yaml');
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });

  const [storedCa, storedServing, storedAdmin, storedToken, storedKubeconfig] = await Promise.all([
    readPair(tlsDir, 'ca'),
    readPair(tlsDir, 'serving'),
    readPair(tlsDir, 'admin'),
    readFileIfExists(tokenPath),
    readFileIfExists(kubeconfigPath),
  ]);

  let ca = reusableCa(storedCa, now);
  if (!ca) {
    ca = await createCertificateAuthority(now);
    await savePair(storedCa, ca);
  }
  const caCert = new X509Certificate(ca.certPem);

  const wantedSans = wantedServingSans({
    hostname: hostname(),
    interfaces: networkInterfaces(),
    extraSans: opts.extraSans,
  });
  const storedServingLeaf = reusableLeaf(storedServing, caCert, now);
  let serving: CertificateAndKey;
  if (storedServingLeaf && missingSans(sansOfCertificate(storedServingLeaf.cert), wantedSans).length === 0) {
    serving = storedServingLeaf.pair;
  } else {
    // A new address (or a new --tls-san) means a new certificate; kubectl checks SANs strictly.
    serving = await issueServingCertificate(ca, wantedSans, now);
    await savePair(storedServing, serving);
  }

  let admin = reusableLeaf(storedAdmin, caCert, now)?.pair;
  if (!admin) {
    admin = await issueAdminCertificate(ca, now);
    await savePair(storedAdmin, admin);
  }

  // The secret survives restarts (joined nodes hold it); the CA hash follows the CA.
  const secretOf = (text: string | undefined) => (text?.trim() ? parseJoinToken(text).password : undefined);
  const secret = secretOf(opts.token) ?? secretOf(storedToken) ?? randomJoinSecret();
  const joinToken = formatJoinToken(ca.certPem, secret);

  const kubeconfig = renderAdminKubeconfig({
    serverUrl: opts.serverUrl,
    caCertPem: ca.certPem,
    clientCertPem: admin.certPem,
    clientKeyPem: admin.keyPem,
  });
  const [serviceAccountKeyPem] = await Promise.all([
    ensureServiceAccountKey(tlsDir),
    ensurePrivateFile(tokenPath, `${joinToken}\n`, storedToken),
    ensurePrivateFile(kubeconfigPath, kubeconfig, storedKubeconfig),
  ]);

  return {
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    servingCertPem: serving.certPem,
    servingKeyPem: serving.keyPem,
    adminCertPem: admin.certPem,
    adminKeyPem: admin.keyPem,
    serviceAccountKeyPem,
    joinToken,
    kubeconfigPath,
    tokenPath,
  };
}
