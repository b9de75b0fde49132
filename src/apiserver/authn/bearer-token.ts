import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AUTHENTICATED_GROUP } from './types.ts';
import type { Authenticator, UserInfo } from './types.ts';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** The token in `Authorization: Bearer <token>`, or undefined. */
export function bearerTokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  return BEARER.exec(header)?.[1];
}

/**
 * Authenticates `Authorization: Bearer <token>` against a table of static tokens.
 *
 * The presented token is compared with every entry in constant time (SHA-256 digests
 * through timingSafeEqual, no early exit), so response time tells an attacker nothing
 * about how close a guess was. The map is read on every request, so tokens added to or
 * removed from it later take effect at once.
 */
export function createBearerTokenAuthenticator(tokens: ReadonlyMap<string, UserInfo>): Authenticator {
  // Digests of known tokens, so each request hashes only the presented one.
  const digests = new Map<string, Buffer>();

  return (req: IncomingMessage) => {
    const presented = bearerTokenOf(req);
    if (presented === undefined) return undefined;
    const presentedDigest = digest(presented);

    let match: UserInfo | undefined;
    for (const [token, user] of tokens) {
      let known = digests.get(token);
      if (!known) {
        known = digest(token);
        digests.set(token, known);
      }
      if (timingSafeEqual(known, presentedDigest)) match = user;
    }
    // Forget digests of tokens that were removed from the table.
    if (digests.size > tokens.size) {
      for (const token of digests.keys()) if (!tokens.has(token)) digests.delete(token);
    }
    if (!match) return undefined;

    const groups = match.groups.filter((group) => group !== AUTHENTICATED_GROUP);
    const user: UserInfo = { name: match.name, groups: [...groups, AUTHENTICATED_GROUP] };
    if (match.uid !== undefined) user.uid = match.uid;
    return user;
  };
}
