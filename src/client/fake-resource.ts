// An in-memory ResourceInterface for unit tests of informers and controllers: objects
// with resourceVersions, a history watches replay from, compaction (410 Gone), broken
// watches and injected failures. Events are delivered synchronously, in order.
import type { KObject } from '../api/object.ts';
import { gone } from '../apiserver/errors.ts';
import { applyMergePatch } from '../apiserver/patch/index.ts';
import { objectKey } from './cache.ts';
import { ClientError } from './types.ts';
import type {
  DeleteResult, ListOptions, ListResult, PatchType, ResourceInterface, WatchEvent, WatchHandle, WatchOptions,
} from './types.ts';

interface Change { rv: number; type: 'ADDED' | 'MODIFIED' | 'DELETED'; obj: KObject }
interface OpenWatch { from: number; onEvent: (ev: WatchEvent) => void; onEnd: (err?: Error) => void; ns?: string }

export class FakeResource implements ResourceInterface {
  readonly #objects = new Map<string, KObject>();
  #history: Change[] = [];
  #rv = 0;
  #compacted = 0;
  #uid = 0;
  readonly #watches = new Set<OpenWatch>();
  /** Errors the next calls of an operation throw, in order. */
  readonly failures: Partial<Record<'list' | 'watch', Error[]>> = {};
  /** Every list and watch call, for assertions. */
  readonly calls: { op: 'list' | 'watch'; ns?: string; opts: ListOptions | WatchOptions }[] = [];

  get revision(): number {
    return this.#rv;
  }

  get openWatches(): number {
    return this.#watches.size;
  }

  async get(ns: string | undefined, name: string): Promise<KObject> {
    const obj = await this.tryGet(ns, name);
    if (!obj) throw new ClientError(404, 'NotFound', `"${name}" not found`);
    return obj;
  }

  async tryGet(ns: string | undefined, name: string): Promise<KObject | undefined> {
    const obj = this.#objects.get(ns ? `${ns}/${name}` : name);
    return obj && structuredClone(obj);
  }

  async list(ns: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    this.calls.push({ op: 'list', ns, opts });
    const fail = this.failures.list?.shift();
    if (fail) throw fail;
    const all = [...this.#objects.values()].filter((o) => !ns || o.metadata.namespace === ns).sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
    const start = opts.continue ? Number(opts.continue) : 0;
    const end = opts.limit ? start + opts.limit : all.length;
    const out: ListResult = { items: all.slice(start, end).map((o) => structuredClone(o)), resourceVersion: String(this.#rv) };
    if (end < all.length) out.continue = String(end);
    return out;
  }

  async create(obj: KObject): Promise<KObject> {
    const key = objectKey(obj);
    if (this.#objects.has(key)) throw new ClientError(409, 'AlreadyExists', `"${obj.metadata.name}" already exists`);
    const stored = structuredClone(obj);
    stored.metadata.uid ??= `uid-${++this.#uid}`;
    return this.#commit('ADDED', stored);
  }

  async update(obj: KObject): Promise<KObject> {
    const key = objectKey(obj);
    const current = this.#objects.get(key);
    if (!current) throw new ClientError(404, 'NotFound', `"${obj.metadata.name}" not found`);
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) throw new ClientError(409, 'Conflict', 'the object has been modified');
    const stored = structuredClone(obj);
    stored.metadata.uid = current.metadata.uid;
    return this.#commit('MODIFIED', stored);
  }

  updateStatus(obj: KObject): Promise<KObject> {
    return this.update(obj);
  }

  async patch(ns: string | undefined, name: string, type: PatchType, body: unknown): Promise<KObject> {
    if (type !== 'merge') throw new ClientError(415, 'UnsupportedMediaType', 'the fake takes merge patches only');
    const current = await this.get(ns, name);
    const next = applyMergePatch(current, body) as KObject;
    delete next.metadata.resourceVersion;
    return this.update(next);
  }

  async delete(ns: string | undefined, name: string): Promise<DeleteResult> {
    const key = ns ? `${ns}/${name}` : name;
    const current = this.#objects.get(key);
    if (!current) throw new ClientError(404, 'NotFound', `"${name}" not found`);
    return { obj: this.#commit('DELETED', structuredClone(current)), pending: false };
  }

  async watch(ns: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void = () => {}): Promise<WatchHandle> {
    this.calls.push({ op: 'watch', ns, opts });
    const fail = this.failures.watch?.shift();
    if (fail) throw fail;
    const from = opts.resourceVersion ? Number(opts.resourceVersion) : 0;
    const w: OpenWatch = { from, onEvent, onEnd, ns };
    if (from < this.#compacted) {
      // As the API server does: the watch opens, says 410 in an ERROR event, and ends.
      queueMicrotask(() => {
        onEvent({ type: 'ERROR', object: gone(`too old resource version: ${from} (${this.#compacted})`).toStatus() });
        onEnd();
      });
      return { close() {} };
    }
    this.#watches.add(w);
    // Replayed before returning, as the in-process watch sends initial events.
    for (const c of this.#history) if (c.rv > from && this.#watches.has(w)) this.#send(w, c);
    return { close: () => { this.#watches.delete(w); } };
  }

  /** Forgets history up to the current revision: older watches get 410. */
  compact(): void {
    this.#compacted = this.#rv;
    this.#history = [];
  }

  /** Ends every open watch, with an error or cleanly. */
  endWatches(err?: Error): void {
    const open = [...this.#watches];
    this.#watches.clear();
    for (const w of open) w.onEnd(err);
  }

  /** Sends a BOOKMARK at the current revision to every open watch. */
  bookmark(): void {
    for (const w of this.#watches) w.onEvent({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.#rv) } } });
  }

  /** Changes that no watch will see (as if they happened while nobody was watching). */
  silently(fn: () => void): void {
    const open = [...this.#watches];
    this.#watches.clear();
    try { fn(); } finally { for (const w of open) this.#watches.add(w); }
    for (const w of open) w.from = this.#rv;
  }

  #commit(type: Change['type'], obj: KObject): KObject {
    obj.metadata.resourceVersion = String(++this.#rv);
    const key = objectKey(obj);
    if (type === 'DELETED') this.#objects.delete(key); else this.#objects.set(key, obj);
    const change = { rv: this.#rv, type, obj: structuredClone(obj) };
    this.#history.push(change);
    for (const w of this.#watches) this.#send(w, change);
    return structuredClone(obj);
  }

  #send(w: OpenWatch, c: Change): void {
    if (c.rv <= w.from || (w.ns && c.obj.metadata.namespace !== w.ns)) return;
    w.from = c.rv;
    w.onEvent({ type: c.type, object: structuredClone(c.obj) });
  }
}
