import { bearerTokenOf, createBearerTokenAuthenticator } from './bearer-token.ts';
import { createClientCertificateAuthenticator } from './client-certificate.ts';
import type { RequestAuthenticator, TokenAuthenticator, UserInfo } from './types.ts';

/**
 * The request authenticator: a client certificate signed by the cluster CA first, then a
 * bearer token (the static table, then bootstrap tokens, then service-account tokens), as kube-apiserver orders
 * them. Undefined means "no accepted credentials"; the caller answers 401, or treats the
 * request as anonymous where that is allowed. Certificates and static tokens answer
 * synchronously; only a token that needs a lookup returns a promise.
 */
export function createAuthenticator(opts: {
  caCertPem: string;
  tokens: ReadonlyMap<string, UserInfo>;
  /** Service-account tokens (see ../serviceaccount/authenticator.ts). */
  serviceAccountTokens?: TokenAuthenticator;
  /** Bootstrap tokens (bootstrap-token.ts), tried before service-account tokens. */
  bootstrapTokens?: TokenAuthenticator;
}): RequestAuthenticator {
  const chain = [
    createClientCertificateAuthenticator(opts.caCertPem),
    createBearerTokenAuthenticator(opts.tokens),
  ];
  return (req) => {
    for (const authenticate of chain) {
      const user = authenticate(req);
      if (user) return user;
    }
    const token = bearerTokenOf(req);
    if (!token) return undefined;
    const lookups = [opts.bootstrapTokens, opts.serviceAccountTokens].filter((a): a is TokenAuthenticator => !!a);
    if (!lookups.length) return undefined;
    return (async () => {
      for (const lookup of lookups) {
        const user = await lookup(token);
        if (user) return user;
      }
      return undefined;
    })();
  };
}
