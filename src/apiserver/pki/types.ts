/** PEM-encoded certificate and its PKCS#8 private key. */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export interface ClusterCredentials {
  caCertPem: string;
  caKeyPem: string;
  servingCertPem: string;
  servingKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
  /** Signs service-account tokens (`tls/service-account.key`, generated once). */
  serviceAccountKeyPem: string;
  /** `K10<sha256(ca.crt)>::server:<secret>`, as k3s writes it. */
  joinToken: string;
  kubeconfigPath: string;
  tokenPath: string;
}

export interface EnsureClusterCredentialsOptions {
  dataDir: string;
  /** Written into the kubeconfig, e.g. `https://127.0.0.1:6443`. */
  serverUrl: string;
  /** Extra serving-certificate SANs; each is an IP address or a DNS name. */
  extraSans?: string[];
  /** Operator-chosen token (`--token`): a bare secret or a full K10 token. */
  token?: string;
  clock?: () => Date;
}

/** Names a serving certificate covers, in canonical form (see subject-alt-names.ts). */
export interface SanSet {
  dns: string[];
  ips: string[];
}
