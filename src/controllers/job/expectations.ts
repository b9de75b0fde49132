// Expectations, as Kubernetes controllers keep them: after creating or deleting pods a
// controller waits until its informer has seen those writes before it acts on the same
// owner again, so it never counts stale cache contents and overshoots. Entries expire, so
// a lost event cannot wedge an owner forever.

const DEFAULT_TTL_MS = 5 * 60 * 1000;

interface Entry { adds: number; deletes: Set<string>; at: number }

export class Expectations {
  readonly #items = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(now: () => number, ttlMs = DEFAULT_TTL_MS) {
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  expectCreations(key: string, n: number): void {
    const e = this.#entry(key);
    e.adds += n;
    e.at = this.#now();
  }

  /** A create was seen in the cache (or failed, so it never will be). */
  creationObserved(key: string): void {
    const e = this.#items.get(key);
    if (e && e.adds > 0) e.adds--;
  }

  expectDeletions(key: string, uids: string[]): void {
    const e = this.#entry(key);
    for (const uid of uids) e.deletes.add(uid);
    e.at = this.#now();
  }

  deletionObserved(key: string, uid: string): void {
    this.#items.get(key)?.deletes.delete(uid);
  }

  satisfied(key: string): boolean {
    const e = this.#items.get(key);
    if (!e) return true;
    if (e.adds <= 0 && e.deletes.size === 0) return true;
    return this.#now() - e.at > this.#ttlMs;
  }

  forget(key: string): void {
    this.#items.delete(key);
  }

  #entry(key: string): Entry {
    let e = this.#items.get(key);
    if (!e) this.#items.set(key, (e = { adds: 0, deletes: new Set(), at: this.#now() }));
    return e;
  }
}

/** Per-owner sets of pod uids whose finalizer removal has been sent but not yet seen. */
export class UidExpectations {
  readonly #items = new Map<string, Set<string>>();

  expect(key: string, uid: string): void {
    let s = this.#items.get(key);
    if (!s) this.#items.set(key, (s = new Set()));
    s.add(uid);
  }

  observed(key: string, uid: string): void {
    const s = this.#items.get(key);
    if (!s) return;
    s.delete(uid);
    if (s.size === 0) this.#items.delete(key);
  }

  has(key: string, uid: string): boolean {
    return this.#items.get(key)?.has(uid) ?? false;
  }

  forget(key: string): void {
    this.#items.delete(key);
  }
}
