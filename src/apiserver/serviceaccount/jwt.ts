// Compact JWS (RFC 7515) with node:crypto only: ES256 (P-256) or RS256, chosen by the key.
// Enough for service-account tokens: sign a claims object, verify a token's signature and
// header, decode its claims. Claim checks (issuer, audience, time) live in token-issuer.ts.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export type JwtAlgorithm = 'ES256' | 'RS256';

/** The algorithm a key signs with: ES256 for a P-256 EC key, RS256 for RSA. */
export function algorithmOf(key: KeyObject): JwtAlgorithm {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  throw new Error(`unsupported service-account signing key: ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim());
}

/**
 * The key ID kube-apiserver puts in the header: base64url(sha256(DER SubjectPublicKeyInfo)),
 * so a JWKS document can be matched against it.
 */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

const b64json = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs `claims` with `privateKey`; the header is `{alg, kid}` as kube-apiserver writes it. */
export function signJwt(claims: Record<string, unknown>, privateKey: KeyObject, kid = keyIdOf(createPublicKey(privateKey))): string {
  const alg = algorithmOf(privateKey);
  const input = `${b64json({ alg, kid })}.${b64json(claims)}`;
  const signature = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

/** True when the string has the shape of a compact JWS (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

function parseJsonPart(part: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The claims of a token whose signature `publicKey` verifies, or undefined. The header's
 * alg must be the key's algorithm (no `none`, no algorithm switching).
 */
export function verifyJwt(token: string, publicKey: KeyObject): Record<string, unknown> | undefined {
  if (!looksLikeJwt(token)) return undefined;
  const [h, p, s] = token.split('.') as [string, string, string];
  const header = parseJsonPart(h);
  const alg = algorithmOf(publicKey);
  if (!header || header.alg !== alg) return undefined;
  const signature = Buffer.from(s, 'base64url');
  const data = Buffer.from(`${h}.${p}`);
  let ok: boolean;
  try {
    ok = verify('sha256', data, alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey, signature);
  } catch {
    return undefined;
  }
  return ok ? parseJsonPart(p) : undefined;
}
