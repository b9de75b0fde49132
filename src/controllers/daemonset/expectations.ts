// Expectations (Kubernetes' ControllerExpectations): how many pod creations and deletions
// a controller has asked for and not yet seen in its informer cache. Until they are seen
// (or time out), a sync must not judge the pod count, or it would create or delete twice.
// Deletions are tracked by pod uid, so seeing a pod both start terminating and go away
// counts once (Kubernetes' UIDTrackingControllerExpectations).
const TIMEOUT_MS = 5 * 60 * 1000;

interface Expected { adds: number; dels: Set<string>; at: number }

export class Expectations {
  readonly #items = new Map<string, Expected>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** True when nothing is outstanding (or what is has waited too long to trust). */
  satisfied(key: string): boolean {
    const e = this.#items.get(key);
    if (!e) return true;
    if (e.adds <= 0 && e.dels.size === 0) return true;
    return this.#now() - e.at > TIMEOUT_MS;
  }

  /** Replaces what is expected for the key (call before issuing the writes). */
  expect(key: string, adds: number, deleteUids: readonly string[]): void {
    this.#items.set(key, { adds, dels: new Set(deleteUids), at: this.#now() });
  }

  creationObserved(key: string): void {
    const e = this.#items.get(key);
    if (e) e.adds--;
  }

  deletionObserved(key: string, uid: string): void {
    this.#items.get(key)?.dels.delete(uid);
  }

  forget(key: string): void {
    this.#items.delete(key);
  }
}
