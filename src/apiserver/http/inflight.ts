// Overload protection: a bound on requests being served at once, as kube-apiserver's
// --max-requests-inflight / --max-mutating-requests-inflight, with one change that API
// Priority and Fairness makes too: nodes have a budget of their own, so a client flooding
// the API cannot starve the agents' heartbeats and status updates. Long-running requests
// (watches, log follows, exec/attach/port-forward) hold no slot, as in Kubernetes.
// A request over the bound gets 429 TooManyRequests with Retry-After: 1.
import { ApiError } from '../errors.ts';

export interface InflightLimits {
  /** Reads at once (0: no bound). Kubernetes' default is 400. */
  readOnly: number;
  /** Writes at once (0: no bound). Kubernetes' default is 200. */
  mutating: number;
  /** Requests from nodes at once, reads and writes together (0: no bound). */
  nodes: number;
}

export const DEFAULT_INFLIGHT: InflightLimits = { readOnly: 400, mutating: 200, nodes: 200 };

export type Pool = keyof InflightLimits;

const NODE_GROUPS = new Set(['system:nodes', 'system:bootstrappers']);
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function poolOf(method: string, groups: readonly string[]): Pool {
  if (groups.some((g) => NODE_GROUPS.has(g))) return 'nodes';
  return MUTATING.has(method) ? 'mutating' : 'readOnly';
}

/** Requests that stay open for as long as the client wants: they take no slot. */
export function isLongRunning(method: string, path: string, query: URLSearchParams): boolean {
  if (method !== 'GET' && method !== 'POST') return false;
  const watch = query.get('watch');
  if (method === 'GET' && (watch === 'true' || watch === '1' || /^\/apis?\/(?:[^/]+\/)?[^/]+\/watch\//.test(path))) return true;
  if (/\/pods\/[^/]+\/(exec|attach|portforward|proxy)$/.test(path)) return true;
  return /\/pods\/[^/]+\/log$/.test(path) && (query.get('follow') === 'true' || query.get('follow') === '1');
}

export class InflightLimiter {
  readonly #limits: InflightLimits;
  readonly #inUse: Record<Pool, number> = { readOnly: 0, mutating: 0, nodes: 0 };
  #rejected = 0;

  constructor(limits: InflightLimits = DEFAULT_INFLIGHT) {
    this.#limits = limits;
  }

  /** Takes a slot or throws 429; the returned function gives it back (once). */
  acquire(pool: Pool): () => void {
    const limit = this.#limits[pool];
    if (limit > 0 && this.#inUse[pool] >= limit) {
      this.#rejected++;
      throw new ApiError(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 1 });
    }
    this.#inUse[pool]++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse[pool]--;
    };
  }

  stats(): { inUse: Record<Pool, number>; rejected: number } {
    return { inUse: { ...this.#inUse }, rejected: this.#rejected };
  }
}
