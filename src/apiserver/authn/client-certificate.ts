import { X509Certificate } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import { AUTHENTICATED_GROUP } from './types.ts';
import type { Authenticator, UserInfo } from './types.ts';

/** A subject field may hold one value or, when repeated (several O=), an array. */
function values(field: string | string[] | undefined): string[] {
  if (field === undefined) return [];
  return Array.isArray(field) ? field : [field];
}

/**
 * Authenticates TLS client certificates the way kube-apiserver does: the user is the
 * subject's CN and the groups are its O values.
 *
 * The server runs with `requestCert: true, rejectUnauthorized: false` (so that token and
 * anonymous requests can still connect), hence the check of `socket.authorized`. We also
 * check the certificate was issued by our CA ourselves, so a server configured with a
 * wider `ca` bundle cannot widen who counts as a cluster user.
 *
 * The answer is cached per connection: a keep-alive connection presents one certificate.
 */
export function createClientCertificateAuthenticator(caCertPem: string): Authenticator {
  const caCert = new X509Certificate(caCertPem);
  const byConnection = new WeakMap<TLSSocket, UserInfo | null>();

  function authenticateSocket(socket: TLSSocket): UserInfo | null {
    if (!socket.authorized) return null;
    const peer = socket.getPeerCertificate();
    if (!peer || !peer.raw) return null;
    const cert = new X509Certificate(peer.raw);
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return null;

    const name = values(peer.subject?.CN)[0];
    if (!name) return null;
    const groups = values(peer.subject?.O).filter((group) => group !== AUTHENTICATED_GROUP);
    return { name, groups: [...groups, AUTHENTICATED_GROUP] };
  }

  return (req: IncomingMessage) => {
    const socket = req.socket;
    if (!(socket instanceof TLSSocket)) return undefined;
    let user = byConnection.get(socket);
    if (user === undefined) {
      user = authenticateSocket(socket);
      byConnection.set(socket, user);
    }
    return user ? { name: user.name, groups: [...user.groups] } : undefined;
  };
}
