// Glue between the request authenticator (../authn) and the token issuer: bearer tokens the
// static table did not know are checked as service-account JWTs against the registry.
import type { KObject } from '../../api/object.ts';
import { lookupResource } from '../../api/scheme.ts';
import type { TokenAuthenticator } from '../authn/types.ts';
import type { Registry } from '../registry/registry.ts';
import type { Logger } from '../../util/log.ts';
import type { BoundObjectGetter, ServiceAccountTokenIssuer } from './token-issuer.ts';

const SERVICE_ACCOUNTS = lookupResource('', 'v1', 'serviceaccounts')!;
const PODS = lookupResource('', 'v1', 'pods')!;
const SECRETS = lookupResource('', 'v1', 'secrets')!;
const NODES = lookupResource('', 'v1', 'nodes')!;

/**
 * Reads bound objects straight from the store: a consistent read, so a pod deleted a
 * moment ago already fails its tokens (kube-apiserver reads an informer cache here).
 */
export function registryObjectGetter(registry: Pick<Registry, 'tryGet'>): BoundObjectGetter {
  const get = (r: typeof PODS) => (ns: string | undefined, name: string): Promise<KObject | undefined> => registry.tryGet(r, ns, name);
  return {
    serviceAccount: get(SERVICE_ACCOUNTS),
    pod: get(PODS),
    secret: get(SECRETS),
    node: (name) => get(NODES)(undefined, name),
  };
}

/** A TokenAuthenticator for createAuthenticator({ serviceAccountTokens }). Rejections are logged at debug level. */
export function serviceAccountTokenAuthenticator(issuer: ServiceAccountTokenIssuer, getter: BoundObjectGetter, log?: Logger): TokenAuthenticator {
  return async (token) => {
    const result = await issuer.validate(token, getter);
    if (result.ok) return result.user;
    log?.debug('service account token rejected', { reason: result.reason });
    return undefined;
  };
}
