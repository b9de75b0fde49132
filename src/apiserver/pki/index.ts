export { ensureClusterCredentials, RENEW_BEFORE_MS } from './credentials.ts';
export { caCertHash, formatJoinToken, parseJoinToken } from './join-token.ts';
export type { JoinToken } from './join-token.ts';
export type { CertificateAndKey, ClusterCredentials, EnsureClusterCredentialsOptions } from './types.ts';
