import { createBearerTokenAuthenticator } from './bearer-token.ts';
import { createClientCertificateAuthenticator } from './client-certificate.ts';
import type { Authenticator, UserInfo } from './types.ts';

/**
 * The request authenticator: a client certificate signed by the cluster CA first, then a
 * bearer token, as kube-apiserver orders them. Undefined means "no accepted credentials";
 * the caller answers 401, or treats the request as anonymous where that is allowed.
 */
export function createAuthenticator(opts: {
  caCertPem: string;
  tokens: ReadonlyMap<string, UserInfo>;
}): Authenticator {
  const chain = [
    createClientCertificateAuthenticator(opts.caCertPem),
    createBearerTokenAuthenticator(opts.tokens),
  ];
  return (req) => {
    for (const authenticate of chain) {
      const user = authenticate(req);
      if (user) return user;
    }
    return undefined;
  };
}
