// Projected service-account tokens for pods: the kubelet's token manager
// (pkg/kubelet/token). Each token is asked for through the TokenRequest subresource, bound
// to its pod (so deleting the pod revokes it), and cached per (pod uid, service account,
// audience, lifetime). The pod worker re-projects volumes every few seconds; a new token
// is requested only when 80% of the old one's lifetime has passed or it is 24 h old (with
// up to 10 s of jitter, so a node's pods do not all refresh at once). If a refresh fails
// the cached token is served while it is still valid.
import type { KObject } from '../../api/object.ts';

/** POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token; resolves with the answered TokenRequest. */
export type TokenRequester = (namespace: string, serviceAccount: string, body: KObject) => Promise<KObject>;

const MAX_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_JITTER_MS = 10_000;

interface Cached {
  token: string;
  /** ms since the epoch, from status.expirationTimestamp. */
  expiresAt: number;
  /** ms since the epoch: expiresAt minus the requested lifetime. */
  issuedAt: number;
  podUid: string;
}

export interface ServiceAccountTokenSourceOptions {
  request: TokenRequester;
  now?: () => number;
  /** 0..1; inject in tests. */
  random?: () => number;
}

export class ServiceAccountTokenSource {
  readonly #request: TokenRequester;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #cache = new Map<string, Cached>();
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(opts: ServiceAccountTokenSourceOptions) {
    this.#request = opts.request;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
  }

  /** A token for `pod`'s service account; `audience` undefined = the API server's. */
  token(audience: string | undefined, expirationSeconds: number, pod: KObject): Promise<string> {
    const ns = pod.metadata.namespace ?? 'default';
    const sa = String((pod.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName || 'default');
    const uid = pod.metadata.uid ?? '';
    const key = JSON.stringify([uid, ns, sa, audience ?? '', expirationSeconds]);
    const cached = this.#cache.get(key);
    if (cached && !this.#needsRefresh(cached)) return Promise.resolve(cached.token);
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#fetch(key, ns, sa, audience, expirationSeconds, pod).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  /** Forgets a pod's tokens (after its volumes are torn down). */
  forgetPod(uid: string): void {
    for (const [key, c] of this.#cache) if (c.podUid === uid) this.#cache.delete(key);
  }

  get size(): number {
    return this.#cache.size;
  }

  async #fetch(key: string, ns: string, sa: string, audience: string | undefined, expirationSeconds: number, pod: KObject): Promise<string> {
    const body: KObject = {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {},
      spec: {
        ...(audience ? { audiences: [audience] } : {}),
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    };
    try {
      const tr = await this.#request(ns, sa, body);
      const status = (tr.status ?? {}) as { token?: string; expirationTimestamp?: string };
      const seconds = (tr.spec as { expirationSeconds?: number } | undefined)?.expirationSeconds ?? expirationSeconds;
      const expiresAt = Date.parse(status.expirationTimestamp ?? '');
      if (!status.token || !Number.isFinite(expiresAt)) throw new Error(`the TokenRequest for ${ns}/${sa} came back without a token`);
      this.#cache.set(key, { token: status.token, expiresAt, issuedAt: expiresAt - seconds * 1000, podUid: pod.metadata.uid ?? '' });
      return status.token;
    } catch (err) {
      const old = this.#cache.get(key);
      if (old && this.#now() < old.expiresAt) return old.token;
      throw new Error(`failed to fetch token: ${(err as Error).message}`);
    }
  }

  /** The kubelet's requiresRefresh: 24 h old, or within 20% of the lifetime of expiry (minus jitter). */
  #needsRefresh(c: Cached): boolean {
    const now = this.#now();
    const jitter = Math.floor(this.#random() * MAX_JITTER_MS / 1000) * 1000;
    if (now > c.issuedAt + MAX_TTL_MS - jitter) return true;
    const ttl = c.expiresAt - c.issuedAt;
    return now > c.expiresAt - ttl * 0.2 - jitter;
  }
}

/** A TokenRequester over a client with a raw `request` (the agent's HttpClient); undefined for clients without one. */
export function httpTokenRequester(client: unknown): TokenRequester | undefined {
  const c = client as { request?: (method: string, path: string, opts: { body: unknown }) => Promise<{ body: unknown }> };
  if (typeof c?.request !== 'function') return undefined;
  return async (ns, name, body) =>
    (await c.request!('POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(name)}/token`, { body })).body as KObject;
}
