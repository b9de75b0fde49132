// The node's own API credentials (kubelet TLS bootstrap): the join token is only good for
// asking. On start the agent looks for its client certificate in <agent dir>/tls
// (client-kubelet.crt/.key, as k3s names them); if there is none, it does not match the
// node or the cluster CA, or two thirds of its life have passed, the agent makes a fresh
// key and a CertificateSigningRequest for `CN=system:node:<name>, O=system:nodes` (signer
// kubernetes.io/kube-apiserver-client-kubelet) with the join token, waits for the server
// to approve and sign it (src/controllers/csr/), and saves key and certificate (0600).
// Everything else the agent does then goes as system:node:<name>, which the Node
// authorizer (src/apiserver/authz/node.ts) confines to this node's objects.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../apiserver/pki/atomic-file.ts';
import { HttpClient } from '../client/http.ts';
import type { KObject } from '../api/object.ts';
import type { Logger } from '../util/log.ts';

export const NODE_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const NODES_GROUP = 'system:nodes';
export const nodeUser = (nodeName: string): string => `system:node:${nodeName}`;

export interface NodeCredentialsOptions {
  server: string | string[];
  caPem: string;
  /** The join token (or a bootstrap token): used only to file the request. */
  token: string;
  agentDir: string;
  nodeName: string;
  log?: Logger;
  /** How long to wait for approval and signing (default 5 minutes). */
  timeoutMs?: number;
  pollMs?: number;
  now?: () => number;
}

export interface NodeCredentials {
  certPem: string;
  keyPem: string;
  certPath: string;
  keyPath: string;
  /** Whether this start requested a new certificate. */
  renewed: boolean;
}

export function credentialPaths(agentDir: string): { certPath: string; keyPath: string } {
  const dir = path.join(agentDir, 'tls');
  return { certPath: path.join(dir, 'client-kubelet.crt'), keyPath: path.join(dir, 'client-kubelet.key') };
}

/** Why a stored certificate cannot be used any more, or undefined if it can. */
export function staleReason(certPem: string, keyPem: string, caPem: string, nodeName: string, now: number): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return 'key does not match';
  } catch {
    return 'unreadable';
  }
  const ca = new X509Certificate(caPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'not signed by the cluster CA';
  const subject = cert.subject.split('\n');
  if (!subject.includes(`CN=${nodeUser(nodeName)}`) || !subject.includes(`O=${NODES_GROUP}`)) return 'issued for another node';
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (now >= from + ((to - from) * 2) / 3) return 'two thirds of its lifetime have passed';
  return undefined;
}

/** The node's client certificate: the stored one while good, else a newly signed one. */
export async function ensureNodeCredentials(o: NodeCredentialsOptions): Promise<NodeCredentials> {
  const { certPath, keyPath } = credentialPaths(o.agentDir);
  const now = o.now ?? Date.now;
  const [certPem, keyPem] = await Promise.all([readFileIfExists(certPath), readFileIfExists(keyPath)]);
  const why = certPem && keyPem ? staleReason(certPem, keyPem, o.caPem, o.nodeName, now()) : 'none yet';
  if (!why) return { certPem: certPem!, keyPem: keyPem!, certPath, keyPath, renewed: false };
  o.log?.info('requesting a node client certificate', { node: o.nodeName, reason: why });
  const fresh = await requestNodeCertificate(o);
  await mkdir(path.dirname(keyPath), { recursive: true, mode: 0o700 });
  await writeFileAtomic(keyPath, fresh.keyPem, 0o600);
  await writeFileAtomic(certPath, fresh.certPem, 0o600);
  return { ...fresh, certPath, keyPath, renewed: true };
}

/** Files a CSR with the join token and waits until it is signed (or denied, failed, timed out). */
export function requestNodeCertificate(o: NodeCredentialsOptions): Promise<{ certPem: string; keyPem: string; csrName: string }> {
  return requestCertificate(o, { token: o.token }, NODE_CLIENT_SIGNER, ['digital signature', 'client auth'], {});
}

/** A key and a CSR for this node's name, filed with `auth`; resolves once the server has signed it. */
async function requestCertificate(
  o: Omit<NodeCredentialsOptions, 'token'>, auth: { token?: string; cert?: string; key?: string },
  signerName: string, usages: string[], sans: { dnsNames?: string[]; ipAddresses?: string[] },
): Promise<{ certPem: string; keyPem: string; csrName: string }> {
  // Written without @peculiar/x509, which would stay loaded in the agent for good (~6.5 MB).
  const { createKeyAndRequestLite: createKeyAndRequest } = await import('../util/der-x509.ts');
  const { keyPem, requestPem } = await createKeyAndRequest({ commonName: nodeUser(o.nodeName), organizations: [NODES_GROUP], ...sans });
  const client = new HttpClient({ server: o.server, ca: o.caPem, ...auth, fieldManager: 'skiff-agent', userAgent: `skiff-agent/${o.nodeName}` });
  try {
    const csrs = client.resource('certificates.k8s.io', 'v1', 'certificatesigningrequests');
    const created = await csrs.create({
      apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
      metadata: { generateName: 'node-csr-', labels: { 'skiff.io/node': o.nodeName } },
      spec: { request: Buffer.from(requestPem).toString('base64'), signerName, usages },
    });
    const name = created.metadata.name!;
    const deadline = Date.now() + (o.timeoutMs ?? 5 * 60_000);
    for (let csr: KObject = created; ; csr = await csrs.get(undefined, name)) {
      const status = (csr.status ?? {}) as { certificate?: string; conditions?: { type: string; status?: string; message?: string }[] };
      const refused = (status.conditions ?? []).find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status !== 'False');
      if (refused) throw new Error(`certificate request ${name} ${refused.type.toLowerCase()}: ${refused.message ?? ''}`);
      if (status.certificate) {
        return { certPem: Buffer.from(status.certificate, 'base64').toString('utf8'), keyPem, csrName: name };
      }
      if (Date.now() > deadline) throw new Error(`certificate request ${name} was not approved and signed in time (kubectl certificate approve ${name})`);
      await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
    }
  } finally {
    client.close();
  }
}

export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

export interface ServingCertificateOptions extends Omit<NodeCredentialsOptions, 'token'> {
  /** The node's client credentials: a node asks for its serving certificate as itself. */
  client: { certPem: string; keyPem: string };
  ipAddresses: string[];
}

/**
 * The agent's serving certificate, signed by the cluster CA (signer kubernetes.io/kubelet-serving,
 * approved for the node's own name by src/controllers/csr/), in <agent dir>/tls/kubelet-serving.{crt,key}.
 * The API server verifies agents against the cluster CA, so a self-signed one no longer does.
 */
export async function ensureServingCertificate(o: ServingCertificateOptions): Promise<{ certPem: string; keyPem: string; renewed: boolean }> {
  const dir = path.join(o.agentDir, 'tls');
  const certPath = path.join(dir, 'kubelet-serving.crt');
  const keyPath = path.join(dir, 'kubelet-serving.key');
  const dnsNames = [o.nodeName.toLowerCase()];
  const ipAddresses = [...new Set(['127.0.0.1', ...o.ipAddresses])];
  const now = (o.now ?? Date.now)();
  const [certPem, keyPem] = await Promise.all([readFileIfExists(certPath), readFileIfExists(keyPath)]);
  if (certPem && keyPem && !staleReason(certPem, keyPem, o.caPem, o.nodeName, now)) {
    const san = new X509Certificate(certPem).subjectAltName ?? '';
    const have = new Set(san.split(', ').map((x) => x.replace(/^(DNS|IP Address):/, '').toLowerCase()));
    if ([...dnsNames, ...ipAddresses].every((n) => have.has(n))) return { certPem, keyPem, renewed: false };
  }
  o.log?.info('requesting a serving certificate', { node: o.nodeName, ips: ipAddresses });
  const fresh = await requestCertificate(o, { cert: o.client.certPem, key: o.client.keyPem }, KUBELET_SERVING_SIGNER, ['digital signature', 'server auth'], { dnsNames, ipAddresses });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(keyPath, fresh.keyPem, 0o600);
  await writeFileAtomic(certPath, fresh.certPem, 0o644);
  return { certPem: fresh.certPem, keyPem: fresh.keyPem, renewed: true };
}
