/**
 * Creates the cluster's certificates. @peculiar/x509 is loaded lazily: it costs ~100 ms
 * to import, and later starts that reuse certificates from disk never need it.
 */
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import type { CertificateAndKey, SanSet } from './types.ts';

type X509Module = typeof import('@peculiar/x509');

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Backdate certificates a little so a peer whose clock runs slow still accepts them. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;

export const CA_LIFETIME_DAYS = 3650;
export const LEAF_LIFETIME_DAYS = 365;

let x509Module: Promise<X509Module> | undefined;
/** @peculiar/x509 on node's WebCrypto, loaded on first use (it is big; agents never need it). */
export function loadX509(): Promise<X509Module> {
  x509Module ??= import('@peculiar/x509').then((x509) => {
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x509;
  });
  return x509Module;
}

/** A positive 128-bit serial; the top bit clear so DER never reads it as negative. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) || 0x01;
  return bytes.toString('hex');
}

function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

function toPem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${base64}-----END ${label}-----\n`;
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

/** A self-signed CA named `skiff-ca@<unix seconds>`, like k3s's `k3s-server-ca@...`. */
export async function createCertificateAuthority(now: Date): Promise<CertificateAndKey> {
  const x509 = await loadX509();
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`skiff-ca@${Math.floor(now.getTime() / 1000)}`] }],
    ...validity(now, CA_LIFETIME_DAYS),
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

interface LeafRequest {
  subject: Array<Record<string, string[]>>;
  extendedKeyUsage: 'serverAuth' | 'clientAuth';
  sans?: SanSet;
}

async function issueLeaf(ca: CertificateAndKey, now: Date, request: LeafRequest): Promise<CertificateAndKey> {
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.certPem);
  // Accept the CA key in any PEM form (PKCS#8 or SEC1) by letting node re-encode it.
  const caKeyDer = createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'der' });
  const caKey = await webcrypto.subtle.importKey('pkcs8', caKeyDer, EC_KEY, false, ['sign']);
  const keys = await generateKeyPair();

  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const extensions: InstanceType<X509Module['Extension']>[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage[request.extendedKeyUsage]]),
    caKeyId
      ? new x509.AuthorityKeyIdentifierExtension(caKeyId)
      : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (request.sans) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        ...request.sans.dns.map((value) => ({ type: 'dns' as const, value })),
        ...request.sans.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    );
  }

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: request.subject,
    issuer: caCert.subjectName,
    ...validity(now, LEAF_LIFETIME_DAYS),
    signingAlgorithm: SIGNING,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

/** The API server's TLS certificate, valid for every name in `sans`. */
export function issueServingCertificate(ca: CertificateAndKey, sans: SanSet, now: Date): Promise<CertificateAndKey> {
  return issueLeaf(ca, now, {
    subject: [{ CN: ['skiff-apiserver'] }],
    extendedKeyUsage: 'serverAuth',
    sans,
  });
}

/** The cluster-admin client certificate: user `system:admin`, group `system:masters`. */
export function issueAdminCertificate(ca: CertificateAndKey, now: Date): Promise<CertificateAndKey> {
  return issueLeaf(ca, now, {
    subject: [{ O: ['system:masters'] }, { CN: ['system:admin'] }],
    extendedKeyUsage: 'clientAuth',
  });
}

/** A client certificate for any user and groups (CN = user, one O per group), as `kubeadm kubeconfig user` makes. */
export function issueClientCertificate(ca: CertificateAndKey, user: string, groups: string[], now: Date): Promise<CertificateAndKey> {
  return issueLeaf(ca, now, {
    subject: [...groups.map((g) => ({ O: [g] })), { CN: [user] }],
    extendedKeyUsage: 'clientAuth',
  });
}
