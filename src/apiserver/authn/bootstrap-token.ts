// Bootstrap tokens, as Kubernetes has them (and k3s's `token create` makes them): a token
// `<id>.<secret>` (6 and 16 of [a-z0-9]), optionally in k3s's `K10<ca hash>::` wrapping, is
// checked against Secret kube-system/bootstrap-token-<id> of type
// bootstrap.kubernetes.io/token: the secret must match, `usage-bootstrap-authentication`
// be "true" and `expiration` (RFC 3339) not have passed. The user is
// `system:bootstrap:<id>` in `system:bootstrappers` plus the Secret's `auth-extra-groups`.
import { timingSafeEqual } from 'node:crypto';
import type { KObject } from '../../api/object.ts';
import { AUTHENTICATED_GROUP, type TokenAuthenticator } from './types.ts';

export const BOOTSTRAP_TOKEN_TYPE = 'bootstrap.kubernetes.io/token';
const FORM = /^(?:K10[0-9a-f]{64}::)?([a-z0-9]{6})\.([a-z0-9]{16})$/;

export const bootstrapSecretName = (id: string): string => `bootstrap-token-${id}`;

/** The id and secret of a bootstrap token (either form), or undefined. */
export function parseBootstrapToken(token: string): { id: string; secret: string } | undefined {
  const m = FORM.exec(token.trim());
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

const field = (s: KObject, key: string): string | undefined => {
  const data = (s as { data?: Record<string, string> }).data?.[key];
  return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
};

export function bootstrapTokenAuthenticator(getSecret: (ns: string, name: string) => Promise<KObject | undefined>, now: () => number = Date.now): TokenAuthenticator {
  return async (token) => {
    const parsed = parseBootstrapToken(token);
    if (!parsed) return undefined;
    const s = await getSecret('kube-system', bootstrapSecretName(parsed.id));
    if (!s || (s as { type?: string }).type !== BOOTSTRAP_TOKEN_TYPE || s.metadata.deletionTimestamp) return undefined;
    const want = Buffer.from(field(s, 'token-secret') ?? '');
    const got = Buffer.from(parsed.secret);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    if (field(s, 'token-id') !== parsed.id || field(s, 'usage-bootstrap-authentication') !== 'true') return undefined;
    const expiration = field(s, 'expiration');
    if (expiration && !(Date.parse(expiration) > now())) return undefined;
    const extra = (field(s, 'auth-extra-groups') ?? '').split(',').map((g) => g.trim()).filter((g) => g.startsWith('system:bootstrappers:'));
    return { name: `system:bootstrap:${parsed.id}`, groups: [...new Set(['system:bootstrappers', ...extra, AUTHENTICATED_GROUP])] };
  };
}
