import { stringify } from 'yaml';

export const KUBECONFIG_CLUSTER = 'skiff';
export const KUBECONFIG_USER = 'admin';
export const KUBECONFIG_CONTEXT = 'skiff';

const base64 = (pem: string): string => Buffer.from(pem).toString('base64');

/** The admin kubeconfig: one cluster, one user, one context, all named for skiff. */
export function renderAdminKubeconfig(input: {
  serverUrl: string;
  caCertPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: KUBECONFIG_CLUSTER,
        cluster: { server: input.serverUrl, 'certificate-authority-data': base64(input.caCertPem) },
      },
    ],
    users: [
      {
        name: KUBECONFIG_USER,
        user: {
          'client-certificate-data': base64(input.clientCertPem),
          'client-key-data': base64(input.clientKeyPem),
        },
      },
    ],
    contexts: [{ name: KUBECONFIG_CONTEXT, context: { cluster: KUBECONFIG_CLUSTER, user: KUBECONFIG_USER } }],
    'current-context': KUBECONFIG_CONTEXT,
    preferences: {},
  });
}
