// A request that offers no credentials at all is `system:anonymous` in
// `system:unauthenticated` (kube-apiserver's --anonymous-auth): authorization then lets it
// reach health, version and discovery only (the system:public-info-viewer and
// system:discovery bindings) and answers 403 for the rest. Credentials that were offered but
// not accepted — an unknown, expired or forged token, a certificate from another CA — are
// a 401, never anonymous.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ANONYMOUS_USER, UNAUTHENTICATED_GROUP } from '../authz/types.ts';
import type { UserInfo } from './types.ts';

export const ANONYMOUS: UserInfo = Object.freeze({ name: ANONYMOUS_USER, groups: [UNAUTHENTICATED_GROUP] }) as UserInfo;

/** Whether the request carries a bearer token (any Authorization header) or a client certificate. */
export function offersCredentials(req: IncomingMessage): boolean {
  if (req.headers.authorization !== undefined) return true;
  const socket = req.socket as Partial<TLSSocket>;
  const peer = socket.getPeerCertificate?.();
  return !!peer && Object.keys(peer).length > 0;
}
