export { createAuthenticator } from './authenticator.ts';
export { createBearerTokenAuthenticator, bearerTokenOf } from './bearer-token.ts';
export { createClientCertificateAuthenticator } from './client-certificate.ts';
export { AUTHENTICATED_GROUP } from './types.ts';
export type { Authenticator, RequestAuthenticator, TokenAuthenticator, UserInfo } from './types.ts';
