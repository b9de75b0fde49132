// The informer's store: objects by `namespace/name` (or `name` for cluster-scoped ones),
// with named indexes kept in step on every write. Objects are stored as given and handed
// out as stored: shared, so treat them as read-only.
import type { KObject } from '../api/object.ts';

/** Computes the values an object is indexed under (e.g. byNode: pod => [pod.spec.nodeName]). */
export type IndexFunc = (obj: KObject) => readonly (string | undefined | null)[];
export type Indexers = Record<string, IndexFunc>;

/** client-go's MetaNamespaceKeyFunc: `namespace/name`, or `name` when there is no namespace. */
export function objectKey(obj: Pick<KObject, 'metadata'>): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name}` : `${name}`;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** An index by namespace, which most namespaced informers want. */
export const byNamespace: IndexFunc = (obj) => [obj.metadata.namespace];

export class IndexedCache {
  readonly #items = new Map<string, KObject>();
  readonly #indexers = new Map<string, IndexFunc>();
  /** index name → value → keys */
  readonly #indices = new Map<string, Map<string, Set<string>>>();
  /** key → index name → the values it was filed under (so removal never re-runs index funcs). */
  readonly #filed = new Map<string, Map<string, string[]>>();

  constructor(indexers: Indexers = {}) {
    this.addIndexers(indexers);
  }

  /** Adds indexes, building them over what is already stored. A name may be added once. */
  addIndexers(indexers: Indexers): void {
    for (const [name, fn] of Object.entries(indexers)) {
      const existing = this.#indexers.get(name);
      if (existing === fn) continue;
      if (existing) throw new Error(`indexer ${JSON.stringify(name)} already exists`);
      this.#indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.#indices.set(name, index);
      for (const [key, obj] of this.#items) this.#file(key, name, valuesOf(fn, obj));
    }
  }

  hasIndexer(name: string): boolean {
    return this.#indexers.has(name);
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): KObject | undefined {
    return this.#items.get(key);
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  list(): KObject[] {
    return [...this.#items.values()];
  }

  /** Adds or replaces; returns the object it replaced. */
  set(obj: KObject): KObject | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(key);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) this.#file(key, name, valuesOf(fn, obj));
    return old;
  }

  /** Removes by key; returns what was there. */
  delete(key: string): KObject | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unindex(key);
    this.#items.delete(key);
    return old;
  }

  /** Objects whose index `name` contains `value`. */
  byIndex(name: string, value: string): KObject[] {
    return this.indexKeys(name, value).map((k) => this.#items.get(k)!);
  }

  indexKeys(name: string, value: string): string[] {
    const index = this.#indices.get(name);
    if (!index) throw new Error(`no indexer ${JSON.stringify(name)}`);
    return [...(index.get(value) ?? [])];
  }

  /** The values index `name` currently holds (e.g. every node with pods). */
  indexValues(name: string): string[] {
    const index = this.#indices.get(name);
    if (!index) throw new Error(`no indexer ${JSON.stringify(name)}`);
    return [...index.keys()];
  }

  #file(key: string, name: string, values: string[]): void {
    const index = this.#indices.get(name)!;
    for (const v of values) {
      let keys = index.get(v);
      if (!keys) index.set(v, (keys = new Set()));
      keys.add(key);
    }
    let filed = this.#filed.get(key);
    if (!filed) this.#filed.set(key, (filed = new Map()));
    filed.set(name, values);
  }

  #unindex(key: string): void {
    const filed = this.#filed.get(key);
    if (!filed) return;
    this.#filed.delete(key);
    for (const [name, values] of filed) {
      const index = this.#indices.get(name)!;
      for (const v of values) {
        const keys = index.get(v);
        if (!keys) continue;
        keys.delete(key);
        if (!keys.size) index.delete(v); // no empty sets left behind by churn
      }
    }
  }
}

/** Index values without blanks or duplicates; an index function that throws indexes nothing. */
function valuesOf(fn: IndexFunc, obj: KObject): string[] {
  let values: readonly (string | undefined | null)[];
  try {
    values = fn(obj);
  } catch {
    return [];
  }
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))];
}
