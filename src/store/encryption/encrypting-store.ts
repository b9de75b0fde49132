// Encryption at rest as a layer over any Store (SQLite or etcd): values under the
// encrypted prefixes are encrypted on the way in and decrypted on the way out (gets,
// lists, watch events, the current value carried by a conflict). Everything above the
// store sees plain objects; the database file holds only ciphertext for them.
import { RevisionConflictError, type KeyValue, type ListOptions, type ListResult, type Store, type WatchHandlers, type Watcher } from '../types.ts';
import type { Transformer } from './transformer.ts';

export class EncryptingStore implements Store {
  readonly #inner: Store;
  readonly #t: Transformer;
  readonly #prefixes: string[];

  constructor(inner: Store, transformer: Transformer, prefixes: string[]) {
    this.#inner = inner;
    this.#t = transformer;
    this.#prefixes = prefixes;
  }

  #covers(key: string): boolean {
    return this.#prefixes.some((p) => key.startsWith(p));
  }

  #in(key: string, value: string): string {
    return this.#covers(key) ? this.#t.encrypt(value) : value;
  }

  #out<T extends KeyValue | undefined>(kv: T): T {
    if (!kv || !this.#covers(kv.key)) return kv;
    return { ...kv, value: this.#t.decrypt(kv.value) };
  }

  async #conflicts<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      if (err instanceof RevisionConflictError && err.current) throw new RevisionConflictError(err.key, this.#out(err.current));
      throw err;
    }
  }

  currentRevision(): Promise<number> { return this.#inner.currentRevision(); }
  compactRevision(): Promise<number> { return this.#inner.compactRevision(); }
  count(prefix: string): Promise<number> { return this.#inner.count(prefix); }
  compact(revision: number): Promise<void> { return this.#inner.compact(revision); }
  close(): Promise<void> { return this.#inner.close(); }

  async get(key: string): Promise<KeyValue | undefined> {
    return this.#out(await this.#inner.get(key));
  }

  async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    const r = await this.#inner.list(prefix, opts);
    return { ...r, items: r.items.map((kv) => this.#out(kv)) };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    return { ...(await this.#inner.create(key, this.#in(key, value))), value };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return { ...(await this.#conflicts(this.#inner.update(key, this.#in(key, value), expectedRevision))), value };
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.#out(await this.#conflicts(this.#inner.delete(key, expectedRevision)));
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    return this.#inner.watch(prefix, fromRevision, {
      ...handlers,
      onEvent: (ev) => {
        let out;
        try {
          out = { ...ev, kv: this.#out(ev.kv), prev: this.#out(ev.prev) };
        } catch (err) {
          handlers.onError?.(err as Error);
          return;
        }
        handlers.onEvent(out);
      },
    });
  }

  /** The raw store underneath (key rotation reads and rewrites ciphertext through it). */
  get inner(): Store {
    return this.#inner;
  }
}
