// PKCS#10 requests and the certificates signed from them: a key and a request
// (createKeyAndRequest; the agent uses ../../util/der-x509.ts instead), the server's signer reads one (parseRequest) and issues
// a certificate with the cluster CA (signRequest). ECDSA P-256 keys as everywhere else in
// Skiff (../pki/). @peculiar/x509 is imported on first use: it costs ~100 ms to load, and
// an agent with a valid certificate never needs it.
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { loadX509 } from '../pki/issue-certificates.ts';

type X509Module = typeof import('@peculiar/x509');

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Backdated like ../pki's certificates, for peers whose clock runs a little slow. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

const SAN_OID = '2.5.29.17';

/** The request's subjectAltName extension (getExtension does not find extensions of a request). */
function sanOf(x509: X509Module, csr: InstanceType<X509Module['Pkcs10CertificateRequest']>) {
  const ext = csr.extensions.find((e) => e.type === SAN_OID);
  return ext instanceof x509.SubjectAlternativeNameExtension ? ext : ext ? new x509.SubjectAlternativeNameExtension(ext.rawData) : undefined;
}

function toPem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${base64}-----END ${label}-----\n`;
}

export interface RequestSubject {
  commonName: string;
  organizations: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

/** A fresh P-256 key (PKCS#8 PEM) and a PKCS#10 request (PEM) for `subject`. */
export async function createKeyAndRequest(subject: RequestSubject): Promise<{ keyPem: string; requestPem: string }> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
  const extensions = [];
  const sans = [
    ...(subject.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(subject.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (sans.length) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [...subject.organizations.map((o) => ({ O: [o] })), { CN: [subject.commonName] }],
    keys, signingAlgorithm: SIGNING, extensions,
  });
  return {
    keyPem: toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    requestPem: csr.toString('pem') + '\n',
  };
}

export interface ParsedRequest {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
  /** Whether the request is signed by the key it carries (proof of possession). */
  signatureValid: boolean;
  /** 'EC' or 'RSA' etc., from the public key algorithm. */
  keyAlgorithm: string;
}

/** Reads a PEM (or DER) PKCS#10 request; throws if it does not parse. */
export async function parseRequest(pem: string | Buffer): Promise<ParsedRequest> {
  const x509 = await loadX509();
  const csr = new x509.Pkcs10CertificateRequest(typeof pem === 'string' ? pem : pem.toString('latin1'));
  const out: ParsedRequest = {
    commonName: csr.subjectName.getField('CN')[0] ?? '',
    organizations: csr.subjectName.getField('O'),
    dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [],
    signatureValid: await csr.verify().catch(() => false),
    keyAlgorithm: csr.publicKey.algorithm.name,
  };
  const san = sanOf(x509, csr);
  for (const n of san?.names.toJSON() ?? []) {
    if (n.type === 'dns') out.dnsNames.push(n.value);
    else if (n.type === 'ip') out.ipAddresses.push(n.value);
    else if (n.type === 'email') out.emailAddresses.push(n.value);
    else if (n.type === 'url') out.uris.push(n.value);
  }
  return out;
}

const EKU: Record<string, string> = {
  'client auth': '1.3.6.1.5.5.7.3.2',
  'server auth': '1.3.6.1.5.5.7.3.1',
};

export interface SignOptions {
  ca: { certPem: string; keyPem: string };
  requestPem: string;
  /** CSR spec.usages; 'client auth' and 'server auth' become extended key usages. */
  usages: string[];
  now: Date;
  /** Lifetime; never past the CA's own expiry. */
  durationMs: number;
}

/** A certificate for the request's subject, names and key, signed by the CA (PEM). */
export async function signRequest(o: SignOptions): Promise<string> {
  const x509 = await loadX509();
  const csr = new x509.Pkcs10CertificateRequest(o.requestPem);
  const caCert = new x509.X509Certificate(o.ca.certPem);
  const caKeyDer = createPrivateKey(o.ca.keyPem).export({ type: 'pkcs8', format: 'der' });
  const caKey = await webcrypto.subtle.importKey('pkcs8', caKeyDer, EC_KEY, false, ['sign']);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) || 0x01;
  let notAfter = o.now.getTime() + o.durationMs;
  notAfter = Math.min(notAfter, caCert.notAfter.getTime());
  let flags = 0;
  if (o.usages.includes('digital signature')) flags |= x509.KeyUsageFlags.digitalSignature;
  if (o.usages.includes('key encipherment')) flags |= x509.KeyUsageFlags.keyEncipherment;
  const ekus = o.usages.map((u) => EKU[u]).filter((x): x is string => !!x);
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const extensions: InstanceType<X509Module['Extension']>[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    ...(flags ? [new x509.KeyUsagesExtension(flags, true)] : []),
    ...(ekus.length ? [new x509.ExtendedKeyUsageExtension(ekus)] : []),
    caKeyId ? new x509.AuthorityKeyIdentifierExtension(caKeyId) : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  const san = sanOf(x509, csr);
  if (san && san.names.items.length) extensions.push(new x509.SubjectAlternativeNameExtension(san.names.toJSON()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: csr.subjectName,
    issuer: caCert.subjectName,
    notBefore: new Date(o.now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: SIGNING,
    publicKey: csr.publicKey,
    signingKey: caKey,
    extensions,
  });
  return cert.toString('pem') + '\n';
}
