// Expectations: what a controller has asked the API for and not yet seen in its informer
// cache. While a key has outstanding expectations its sync must not create or delete
// again, or it would act twice on a stale cache. Creations are counted (the pods get
// generated names); deletions are tracked by pod key, so a deletion seen twice (graceful
// delete, then the final delete) is counted once. A record older than the TTL is
// considered satisfied, so a lost watch event cannot wedge a controller forever.
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Record_ {
  add: number;
  del: Set<string>;
  at: number;
}

export class Expectations {
  readonly #records = new Map<string, Record_>();
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(now: () => number = Date.now, ttlMs = EXPECTATIONS_TTL_MS) {
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /** True when nothing is outstanding for `key` (or what is has expired). */
  satisfied(key: string): boolean {
    const r = this.#records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del.size === 0) return true;
    return this.#now() - r.at > this.#ttlMs;
  }

  expectCreations(key: string, count: number): void {
    this.#records.set(key, { add: count, del: new Set(), at: this.#now() });
  }

  expectDeletions(key: string, podKeys: string[]): void {
    this.#records.set(key, { add: 0, del: new Set(podKeys), at: this.#now() });
  }

  creationObserved(key: string): void {
    const r = this.#records.get(key);
    if (r) r.add--;
  }

  deletionObserved(key: string, podKey: string): void {
    this.#records.get(key)?.del.delete(podKey);
  }

  /** Forget the key (its owner is gone). */
  delete(key: string): void {
    this.#records.delete(key);
  }

  /** For tests and logs: what is still expected. */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.#records.get(key);
    return r ? { add: Math.max(0, r.add), del: r.del.size } : undefined;
  }
}
