// The API server's own client certificate for calling node agents (logs, exec, attach,
// port-forward, metrics): CN=kube-apiserver-kubelet-client, no groups, as kubeadm's
// apiserver-kubelet-client.crt. Agents let in only this identity and cluster admins
// (src/agent/server/caller.ts), so a node's certificate cannot reach another node's pods,
// and the API server no longer lends out the admin certificate. Kept in
// <data dir>/tls/kubelet-client.{crt,key}; reissued when missing, not from this CA, or
// within 30 days of expiry.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../pki/atomic-file.ts';
import { issueClientCertificate } from '../pki/issue-certificates.ts';
import { RENEW_BEFORE_MS } from '../pki/credentials.ts';

export const APISERVER_KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';

export async function ensureKubeletClientCertificate(dataDir: string, ca: { certPem: string; keyPem: string }, now = new Date()): Promise<{ certPem: string; keyPem: string }> {
  const certPath = path.join(dataDir, 'tls', 'kubelet-client.crt');
  const keyPath = path.join(dataDir, 'tls', 'kubelet-client.key');
  const [certPem, keyPem] = await Promise.all([readFileIfExists(certPath), readFileIfExists(keyPath)]);
  if (certPem && keyPem) {
    try {
      const cert = new X509Certificate(certPem);
      const caCert = new X509Certificate(ca.certPem);
      if (cert.checkPrivateKey(createPrivateKey(keyPem)) && cert.checkIssued(caCert) && cert.verify(caCert.publicKey)
        && Date.parse(cert.validTo) - now.getTime() > RENEW_BEFORE_MS) return { certPem, keyPem };
    } catch { /* reissue below */ }
  }
  const fresh = await issueClientCertificate(ca, APISERVER_KUBELET_CLIENT_USER, [], now);
  await writeFileAtomic(keyPath, fresh.keyPem, 0o600);
  await writeFileAtomic(certPath, fresh.certPem, 0o644);
  return fresh;
}
