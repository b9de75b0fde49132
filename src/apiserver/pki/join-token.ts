import { createHash, randomBytes } from 'node:crypto';

/**
 * k3s's "secure" token format: `K10<sha256 hex of the CA bundle>::<user>:<password>`.
 * A joining agent that holds it can check the CA it is served before trusting it.
 */
export interface JoinToken {
  caHash: string;
  username: string;
  password: string;
}

const SECURE_TOKEN = /^K10([0-9a-f]{64})::([^:]+):(.+)$/;

export function caCertHash(caCertPem: string): string {
  return createHash('sha256').update(caCertPem).digest('hex');
}

export function randomJoinSecret(): string {
  return randomBytes(16).toString('hex');
}

export function formatJoinToken(caCertPem: string, password: string, username = 'server'): string {
  return `K10${caCertHash(caCertPem)}::${username}:${password}`;
}

/**
 * Reads a full K10 token, or a bare secret as k3s allows for `--token`
 * (then there is no CA hash to check against).
 */
export function parseJoinToken(text: string): JoinToken | { caHash: undefined; username: 'server'; password: string } {
  const token = text.trim();
  const match = SECURE_TOKEN.exec(token);
  if (match) return { caHash: match[1]!, username: match[2]!, password: match[3]! };
  return { caHash: undefined, username: 'server', password: token };
}
