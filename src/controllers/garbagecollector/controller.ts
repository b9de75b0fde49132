// The garbage collector: keeps a graph of ownerReferences over every object and
//  - deletes dependents whose owners are all gone (background propagation),
//  - deletes an owner's dependents first when it is deleted with foregroundDeletion,
//  - strips references to an owner deleted with the orphan finalizer.
// It watches the whole store once, so it sees every kind without one watch per resource.
import { EMPTY_ARRAY, type KObject, type OwnerReference } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import { STORED_RESOURCES, lookupKind, parseApiVersion, storageKey } from '../../api/scheme.ts';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, type Registry } from '../../apiserver/registry/registry.ts';
import { decode } from '../../apiserver/registry/codec.ts';
import type { KeyValue, Watcher } from '../../store/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { Logger } from '../../util/log.ts';

interface GraphNode {
  r: ResourceInfo;
  namespace?: string;
  name: string;
  owners: readonly OwnerReference[];
  finalizers: readonly string[];
  deleting: boolean;
}

const PREFIXES = STORED_RESOURCES.map((r) => ({ prefix: storageKey(r, undefined), r }));

function resourceOfKey(key: string): ResourceInfo | undefined {
  return PREFIXES.find((p) => key.startsWith(p.prefix))?.r;
}

export class GarbageCollector {
  readonly #registry: Registry;
  readonly #log: Logger;
  readonly #nodes = new Map<string, GraphNode>();
  readonly #dependents = new Map<string, Set<string>>();
  readonly #queue: WorkQueue;
  #watcher?: Watcher;

  constructor(registry: Registry, log: Logger) {
    this.#registry = registry;
    this.#log = log;
    this.#queue = new WorkQueue((uid) => this.sync(uid), {
      onError: (uid, err) => log.warn('garbage collection failed', { uid, error: String(err) }),
    });
  }

  async start(): Promise<void> {
    const store = this.#registry.store;
    const snapshot = await store.list('/registry/');
    for (const kv of snapshot.items) this.#observe(kv);
    for (const [uid, node] of this.#nodes) if (this.#needsWork(uid, node)) this.#queue.add(uid);
    this.#watcher = store.watch('/registry/', snapshot.revision, {
      onEvent: (ev) => {
        if (ev.type === 'delete') this.#forget(ev.kv);
        else {
          const uid = this.#observe(ev.kv);
          const node = uid ? this.#nodes.get(uid) : undefined;
          if (uid && node && this.#needsWork(uid, node)) this.#queue.add(uid);
        }
      },
      onError: (err) => this.#log.error('garbage collector watch ended', { error: String(err) }),
    });
  }

  stop(): void {
    this.#watcher?.close();
    this.#queue.stop();
  }

  get idle(): boolean { return this.#queue.idle; }

  #observe(kv: KeyValue): string | undefined {
    const r = resourceOfKey(kv.key);
    if (!r) return undefined;
    const obj = decode(kv);
    const uid = obj.metadata.uid;
    if (!uid) return undefined;
    const previous = this.#nodes.get(uid);
    for (const o of previous?.owners ?? []) this.#dependents.get(o.uid)?.delete(uid);
    const node: GraphNode = {
      r, namespace: obj.metadata.namespace, name: obj.metadata.name!,
      owners: obj.metadata.ownerReferences ?? EMPTY_ARRAY, finalizers: obj.metadata.finalizers ?? EMPTY_ARRAY, // one per object of every kind
      deleting: Boolean(obj.metadata.deletionTimestamp),
    };
    this.#nodes.set(uid, node);
    for (const o of node.owners) {
      let set = this.#dependents.get(o.uid);
      if (!set) this.#dependents.set(o.uid, (set = new Set()));
      set.add(uid);
    }
    return uid;
  }

  #forget(kv: KeyValue): void {
    const obj = decode(kv);
    const uid = obj.metadata.uid;
    if (!uid) return;
    const node = this.#nodes.get(uid);
    this.#nodes.delete(uid);
    for (const o of node?.owners ?? []) {
      this.#dependents.get(o.uid)?.delete(uid);
      // An owner waiting in foreground deletion may now be free to go.
      if (this.#nodes.has(o.uid)) this.#queue.add(o.uid);
    }
    for (const dep of this.#dependents.get(uid) ?? []) this.#queue.add(dep);
  }

  #needsWork(uid: string, node: GraphNode): boolean {
    if (node.deleting && (node.finalizers.includes(FINALIZER_FOREGROUND) || node.finalizers.includes(FINALIZER_ORPHAN))) return true;
    return node.owners.some((o) => !this.#nodes.has(o.uid)) || (this.#dependents.get(uid)?.size ?? 0) > 0 && node.deleting;
  }

  async sync(uid: string): Promise<void> {
    const node = this.#nodes.get(uid);
    if (!node) return;
    const obj = await this.#registry.tryGet(node.r, node.namespace, node.name);
    if (!obj || obj.metadata.uid !== uid) return;
    const finalizers = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp && finalizers.includes(FINALIZER_ORPHAN)) {
      await this.#orphanDependents(uid);
      await this.#removeFinalizer(node, uid, FINALIZER_ORPHAN);
      return;
    }
    if (obj.metadata.deletionTimestamp && finalizers.includes(FINALIZER_FOREGROUND)) {
      const deps = [...(this.#dependents.get(uid) ?? [])].filter((d) => this.#nodes.has(d));
      for (const d of deps) {
        const dep = this.#nodes.get(d)!;
        if (dep.deleting) continue;
        await this.#deleteQuietly(dep, d, 'Foreground');
      }
      if (deps.length === 0) await this.#removeFinalizer(node, uid, FINALIZER_FOREGROUND);
      return;
    }
    const owners = obj.metadata.ownerReferences ?? [];
    if (!owners.length) return;
    const dangling: OwnerReference[] = [];
    for (const o of owners) if (!(await this.#ownerExists(o, obj))) dangling.push(o);
    if (!dangling.length) return;
    if (dangling.length === owners.length) {
      await this.#deleteQuietly(node, uid, 'Background');
      return;
    }
    const gone = new Set(dangling.map((o) => o.uid));
    await this.#registry.guaranteedUpdate(node.r, node.namespace, node.name, (cur) => {
      cur.metadata.ownerReferences = (cur.metadata.ownerReferences ?? []).filter((o) => !gone.has(o.uid));
      return cur;
    }, { fieldManager: 'skiff-garbage-collector' });
  }

  async #ownerExists(o: OwnerReference, dependent: KObject): Promise<boolean> {
    if (this.#nodes.has(o.uid)) return true;
    const { group, version } = parseApiVersion(o.apiVersion ?? '');
    const r = lookupKind(group, version, o.kind);
    if (!r) return true; // an owner kind we do not serve: leave the dependent alone
    const owner = await this.#registry.tryGet(r, r.namespaced ? dependent.metadata.namespace : undefined, o.name);
    return owner?.metadata.uid === o.uid;
  }

  async #orphanDependents(uid: string): Promise<void> {
    for (const d of [...(this.#dependents.get(uid) ?? [])]) {
      const dep = this.#nodes.get(d);
      if (!dep) continue;
      try {
        await this.#registry.guaranteedUpdate(dep.r, dep.namespace, dep.name, (cur) => {
          const refs = (cur.metadata.ownerReferences ?? []).filter((o) => o.uid !== uid);
          if (refs.length) cur.metadata.ownerReferences = refs; else delete cur.metadata.ownerReferences;
          return cur;
        }, { fieldManager: 'skiff-garbage-collector' });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
      }
    }
  }

  async #removeFinalizer(node: GraphNode, uid: string, finalizer: string): Promise<void> {
    try {
      await this.#registry.guaranteedUpdate(node.r, node.namespace, node.name, (cur) => {
        if (cur.metadata.uid !== uid) return cur;
        const rest = (cur.metadata.finalizers ?? []).filter((f) => f !== finalizer);
        if (rest.length) cur.metadata.finalizers = rest; else delete cur.metadata.finalizers;
        return cur;
      }, { fieldManager: 'skiff-garbage-collector' });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }

  async #deleteQuietly(node: GraphNode, uid: string, propagationPolicy: 'Background' | 'Foreground'): Promise<void> {
    try {
      await this.#registry.delete(node.r, node.namespace, node.name, { propagationPolicy, preconditions: { uid } });
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== 404 && code !== 409) throw err;
    }
  }
}
