// Service-account tokens as kube-apiserver issues and checks them (pkg/serviceaccount):
// signed JWTs whose `kubernetes.io` claim names the namespace, the service account and the
// object the token is bound to (a pod, secret or node). A token is good while its
// signature, issuer, audience and lifetime check out and the objects it names still exist
// with the same uid (a deleted pod takes its tokens with it, after a minute's leeway).
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import type { KObject } from '../../api/object.ts';
import { AUTHENTICATED_GROUP, type UserInfo } from '../authn/types.ts';
import { keyIdOf, looksLikeJwt, signJwt, verifyJwt } from './jwt.ts';

/** k3s's (and kubeadm's) --service-account-issuer. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** What the ServiceAccount admission asks for in kube-api-access volumes. */
export const WARN_ONLY_EXPIRATION_SECONDS = 3607;
/** A 3607 s pod token is really valid this long (--service-account-extend-token-expiration). */
export const EXPIRATION_EXTENSION_SECONDS = 365 * 24 * 60 * 60;
/** go-jose's DefaultLeeway: clock skew allowed on exp/nbf/iat, and on deletions. */
const LEEWAY_SECONDS = 60;

export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';

export interface ObjectRef { name: string; uid: string }

export interface TokenSpec {
  namespace: string;
  serviceAccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  audiences: string[];
  /** Lifetime of the token (after any extension). */
  expirationSeconds: number;
  /** With an extended lifetime: when the token should have been refreshed (the `warnafter` claim). */
  warnAfterSeconds?: number;
}

/** Reads what validation checks; undefined = not found. */
export interface BoundObjectGetter {
  serviceAccount(namespace: string, name: string): Promise<KObject | undefined>;
  pod(namespace: string, name: string): Promise<KObject | undefined>;
  secret(namespace: string, name: string): Promise<KObject | undefined>;
  node(name: string): Promise<KObject | undefined>;
}

export type ValidationResult = { ok: true; user: UserInfo } | { ok: false; reason: string };

interface KubernetesClaim {
  namespace?: unknown;
  serviceaccount?: { name?: unknown; uid?: unknown };
  pod?: { name?: unknown; uid?: unknown };
  secret?: { name?: unknown; uid?: unknown };
  node?: { name?: unknown; uid?: unknown };
  warnafter?: unknown;
}

export interface TokenIssuerOptions {
  /** PKCS#8 (or SEC1/PKCS#1) PEM: an EC P-256 key signs ES256, an RSA key RS256. */
  privateKeyPem: string;
  issuer?: string;
  /** The API server's own audiences; a token must carry one of them to authenticate here. */
  apiAudiences?: string[];
  /** Seconds since the epoch; inject in tests. */
  now?: () => number;
}

export class ServiceAccountTokenIssuer {
  readonly issuer: string;
  readonly apiAudiences: string[];
  readonly keyId: string;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #now: () => number;

  constructor(opts: TokenIssuerOptions) {
    this.#privateKey = createPrivateKey(opts.privateKeyPem);
    this.#publicKey = createPublicKey(this.#privateKey);
    this.keyId = keyIdOf(this.#publicKey);
    this.issuer = opts.issuer ?? DEFAULT_ISSUER;
    this.apiAudiences = opts.apiAudiences ?? [this.issuer];
    this.#now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Seconds since the epoch, as the issuer sees it. */
  now(): number {
    return this.#now();
  }

  /** True when any of `audiences` is one of the API server's. */
  isApiAudience(audiences: string[]): boolean {
    return audiences.some((a) => this.apiAudiences.includes(a));
  }

  /** Signs a token for `spec`; claims in the order and shape kube-apiserver writes them. */
  issue(spec: TokenSpec): { token: string; claims: Record<string, unknown> } {
    const now = this.#now();
    const k8s: Record<string, unknown> = { namespace: spec.namespace };
    if (spec.node) k8s.node = { ...spec.node };
    if (spec.pod) k8s.pod = { ...spec.pod };
    if (spec.secret) k8s.secret = { ...spec.secret };
    k8s.serviceaccount = { ...spec.serviceAccount };
    if (spec.warnAfterSeconds) k8s.warnafter = now + spec.warnAfterSeconds;
    const claims: Record<string, unknown> = {
      aud: spec.audiences,
      exp: now + spec.expirationSeconds,
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': k8s,
      nbf: now,
      sub: `${SERVICE_ACCOUNT_USER_PREFIX}${spec.namespace}:${spec.serviceAccount.name}`,
    };
    return { token: signJwt(claims, this.#privateKey, this.keyId), claims };
  }

  /**
   * Checks a bearer token as kube-apiserver's service-account authenticator does. A token
   * that is not ours (not a JWT, or another issuer) is `{ ok: false }` like a bad one: the
   * caller answers 401 either way.
   */
  async validate(token: string, getter: BoundObjectGetter): Promise<ValidationResult> {
    const fail = (reason: string): ValidationResult => ({ ok: false, reason });
    if (!looksLikeJwt(token)) return fail('not a JWT');
    const claims = verifyJwt(token, this.#publicKey);
    if (!claims) return fail('invalid signature');
    if (claims.iss !== this.issuer) return fail(`unknown issuer ${JSON.stringify(claims.iss)}`);
    const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : [];
    if (!this.isApiAudience(aud)) return fail(`token audiences ${JSON.stringify(aud)} is invalid for the target audiences ${JSON.stringify(this.apiAudiences)}`);
    const now = this.#now();
    const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const exp = num(claims.exp);
    if (exp === undefined || now > exp + LEEWAY_SECONDS) return fail('service account token has expired');
    const nbf = num(claims.nbf);
    if (nbf !== undefined && now + LEEWAY_SECONDS < nbf) return fail('service account token is not valid yet');
    const iat = num(claims.iat);
    if (iat !== undefined && now + LEEWAY_SECONDS < iat) return fail('service account token is issued in the future');

    const k8s = claims['kubernetes.io'] as KubernetesClaim | undefined;
    const ref = (r: { name?: unknown; uid?: unknown } | undefined): ObjectRef | undefined =>
      r && typeof r.name === 'string' && typeof r.uid === 'string' ? { name: r.name, uid: r.uid } : undefined;
    const namespace = typeof k8s?.namespace === 'string' ? k8s.namespace : '';
    const sa = ref(k8s?.serviceaccount);
    if (!namespace || !sa) return fail('service account token is missing the kubernetes.io claims');
    if (claims.sub !== `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${sa.name}`) return fail('sub does not match the kubernetes.io claims');

    const deletedBefore = (now - LEEWAY_SECONDS) * 1000;
    const gone = (o: KObject): boolean => Boolean(o.metadata.deletionTimestamp) && Date.parse(o.metadata.deletionTimestamp!) < deletedBefore;

    const account = await getter.serviceAccount(namespace, sa.name);
    if (!account) return fail(`serviceaccounts "${sa.name}" not found`);
    if (account.metadata.uid !== sa.uid) return fail(`service account UID (${account.metadata.uid}) does not match claim (${sa.uid})`);
    if (gone(account)) return fail(`service account ${namespace}/${sa.name} has been deleted`);

    const secretRef = ref(k8s?.secret);
    if (secretRef) {
      const secret = await getter.secret(namespace, secretRef.name);
      if (!secret || gone(secret)) return fail('service account token has been invalidated');
      if (secret.metadata.uid !== secretRef.uid) return fail(`secret UID (${secret.metadata.uid}) does not match service account secret ref claim (${secretRef.uid})`);
    }
    const extra: Record<string, string[]> = {};
    const podRef = ref(k8s?.pod);
    if (podRef) {
      const pod = await getter.pod(namespace, podRef.name);
      if (!pod || gone(pod)) return fail('service account token has been invalidated');
      if (pod.metadata.uid !== podRef.uid) return fail(`pod UID (${pod.metadata.uid}) does not match service account pod ref claim (${podRef.uid})`);
      extra['authentication.kubernetes.io/pod-name'] = [podRef.name];
      extra['authentication.kubernetes.io/pod-uid'] = [podRef.uid];
    }
    const nodeRef = ref(k8s?.node);
    if (nodeRef) {
      if (!podRef) {
        // Bound to the node itself: the node must still be there.
        const node = await getter.node(nodeRef.name);
        if (!node || gone(node)) return fail('service account token has been invalidated');
        if (node.metadata.uid !== nodeRef.uid) return fail(`node UID (${node.metadata.uid}) does not match service account node ref claim (${nodeRef.uid})`);
      }
      extra['authentication.kubernetes.io/node-name'] = [nodeRef.name];
      extra['authentication.kubernetes.io/node-uid'] = [nodeRef.uid];
    }
    if (typeof claims.jti === 'string' && claims.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims.jti}`];

    return {
      ok: true,
      user: {
        name: `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${sa.name}`,
        uid: sa.uid,
        groups: [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`, AUTHENTICATED_GROUP],
        ...(Object.keys(extra).length ? { extra } : {}),
      },
    };
  }
}
