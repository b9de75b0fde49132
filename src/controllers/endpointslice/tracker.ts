// Expectations for our own slice writes: after creating, updating or deleting a slice the
// controller must not reconcile that service again until its informer has seen the write,
// or it would plan from a stale cache and create duplicates. Informer handlers report what
// they see; sync asks whether the service's cache is stale.
import type { KObject } from '../../api/object.ts';

const DELETED = -1;

export class SliceTracker {
  /** Service key → slice name → resourceVersion we wrote (DELETED for a delete). */
  readonly #expected = new Map<string, Map<string, { rv: number; at: number }>>();
  readonly #now: () => number;
  readonly #cached: (namespace: string, name: string) => KObject | undefined;
  readonly #timeoutMs: number;

  /** `cached` reads the informer: a write the cache already reflects needs no expectation. */
  constructor(now: () => number, cached: (namespace: string, name: string) => KObject | undefined, timeoutMs = 30_000) {
    this.#now = now;
    this.#cached = cached;
    this.#timeoutMs = timeoutMs;
  }

  expectWritten(serviceKey: string, slice: KObject): void {
    const rv = Number(slice.metadata.resourceVersion ?? 0);
    const seen = this.#cached(slice.metadata.namespace!, slice.metadata.name!);
    if (seen && Number(seen.metadata.resourceVersion ?? 0) >= rv) return;
    this.#set(serviceKey, slice.metadata.name!, rv);
  }

  expectDeleted(serviceKey: string, slice: KObject): void {
    if (!this.#cached(slice.metadata.namespace!, slice.metadata.name!)) return;
    this.#set(serviceKey, slice.metadata.name!, DELETED);
  }

  /** An informer event for a slice of this service. */
  observe(serviceKey: string, slice: KObject, deleted: boolean): void {
    const m = this.#expected.get(serviceKey);
    const e = m?.get(slice.metadata.name!);
    if (!m || !e) return;
    if (deleted || (e.rv !== DELETED && Number(slice.metadata.resourceVersion ?? 0) >= e.rv)) m.delete(slice.metadata.name!);
    if (m.size === 0) this.#expected.delete(serviceKey);
  }

  /** True while some write of ours has not reached the cache yet (and has not timed out). */
  stale(serviceKey: string): boolean {
    const m = this.#expected.get(serviceKey);
    if (!m) return false;
    const now = this.#now();
    for (const [name, e] of m) if (now - e.at > this.#timeoutMs) m.delete(name);
    if (m.size === 0) { this.#expected.delete(serviceKey); return false; }
    return true;
  }

  forget(serviceKey: string): void {
    this.#expected.delete(serviceKey);
  }

  #set(serviceKey: string, name: string, rv: number): void {
    let m = this.#expected.get(serviceKey);
    if (!m) this.#expected.set(serviceKey, m = new Map());
    m.set(name, { rv, at: this.#now() });
  }
}
