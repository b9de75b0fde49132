// Which node may see which object (Kubernetes' node authorizer graph, in small): every pod
// bound to a node (spec.nodeName) links that node to the pod and to the Secrets,
// ConfigMaps, PersistentVolumeClaims and ServiceAccount the pod uses (volumes, projected
// sources, env and envFrom of every container, imagePullSecrets). Kept up to date from
// the pods watch cache: one subscription, reference counts per (object, node), so a
// request costs one map lookup even with thousands of nodes and pods.
import type { KObject } from '../../api/object.ts';
import { lookupResource, storageKey } from '../../api/scheme.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceCache } from '../watchcache/index.ts';

export type RefKind = 'pod' | 'secret' | 'configmap' | 'persistentvolumeclaim' | 'serviceaccount';

type Json = Record<string, unknown>;
const o = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? v as Json : {});
const a = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x) => x && typeof x === 'object') as Json[] : []);
const s = (v: unknown): string => (typeof v === 'string' ? v : '');

const refKey = (kind: RefKind, ns: string, name: string): string => `${kind}/${ns}/${name}`;

/** The objects a pod uses, as graph keys (its own key included). */
export function podReferences(pod: KObject): string[] {
  const ns = pod.metadata.namespace ?? '';
  const spec = o(pod.spec);
  const out = new Set<string>([refKey('pod', ns, pod.metadata.name ?? '')]);
  const add = (kind: RefKind, name: string) => { if (name) out.add(refKey(kind, ns, name)); };
  add('serviceaccount', s(spec.serviceAccountName) || s(spec.serviceAccount));
  for (const p of a(spec.imagePullSecrets)) add('secret', s(p.name));
  for (const v of a(spec.volumes)) {
    add('secret', s(o(v.secret).secretName));
    add('configmap', s(o(v.configMap).name));
    add('persistentvolumeclaim', s(o(v.persistentVolumeClaim).claimName));
    add('secret', s(o(o(v.csi).nodePublishSecretRef).name));
    for (const src of a(o(v.projected).sources)) {
      add('secret', s(o(src.secret).name));
      add('configmap', s(o(src.configMap).name));
    }
  }
  for (const c of [...a(spec.initContainers), ...a(spec.containers), ...a(spec.ephemeralContainers)]) {
    for (const e of a(c.env)) {
      const from = o(e.valueFrom);
      add('secret', s(o(from.secretKeyRef).name));
      add('configmap', s(o(from.configMapKeyRef).name));
    }
    for (const e of a(c.envFrom)) {
      add('secret', s(o(e.secretRef).name));
      add('configmap', s(o(e.configMapRef).name));
    }
  }
  return [...out];
}

export class NodeGraph {
  readonly #registry: Registry;
  /** graph key → node → how many of that node's pods use it. */
  readonly #edges = new Map<string, Map<string, number>>();
  /** pod storage key → what it contributed. */
  readonly #pods = new Map<string, { node: string; refs: string[] }>();
  #cache?: ResourceCache;
  #sub?: { close(): void };
  #starting?: Promise<void>;

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  async #ensure(): Promise<void> {
    if (this.#sub) return;
    this.#starting ??= (async () => {
      const r = lookupResource('', 'v1', 'pods')!;
      const cache = await this.#registry.watchCache.for(r);
      this.#edges.clear();
      this.#pods.clear();
      const all = { prefix: storageKey(r, undefined), matches: () => true };
      // Subscribe at the cache's revision and load what is there, with no await between: nothing is missed or seen twice.
      this.#sub = cache.watch(all, cache.revision, {
        onEvent: (type, c) => (type === 'DELETED' ? this.#remove(c.key) : this.#set(c.key, c.obj)),
        onEnd: () => { this.#sub = undefined; },
      });
      for (const c of cache.list(all)) this.#set(c.key, c.obj);
      this.#cache = cache;
    })().finally(() => { this.#starting = undefined; });
    await this.#starting;
  }

  #set(key: string, pod: KObject): void {
    const node = s(o(pod.spec).nodeName);
    const prev = this.#pods.get(key);
    if (!node) { if (prev) this.#remove(key); return; }
    const refs = podReferences(pod);
    if (prev && prev.node === node && prev.refs.length === refs.length && prev.refs.every((r, i) => r === refs[i])) return;
    if (prev) this.#remove(key);
    this.#pods.set(key, { node, refs });
    for (const ref of refs) {
      const nodes = this.#edges.get(ref) ?? new Map<string, number>();
      nodes.set(node, (nodes.get(node) ?? 0) + 1);
      this.#edges.set(ref, nodes);
    }
  }

  #remove(key: string): void {
    const prev = this.#pods.get(key);
    if (!prev) return;
    this.#pods.delete(key);
    for (const ref of prev.refs) {
      const nodes = this.#edges.get(ref);
      const n = (nodes?.get(prev.node) ?? 0) - 1;
      if (!nodes) continue;
      if (n > 0) nodes.set(prev.node, n); else nodes.delete(prev.node);
      if (!nodes.size) this.#edges.delete(ref);
    }
  }

  /** Whether `node` has a pod that uses (or is) the object. */
  async related(node: string, kind: RefKind, namespace: string, name: string): Promise<boolean> {
    await this.#ensure();
    return this.#edges.get(refKey(kind, namespace, name))?.has(node) ?? false;
  }

  /** Waits until the graph has seen the store's current revision (before saying no). */
  async catchUp(): Promise<void> {
    await this.#ensure();
    const rev = await this.#registry.store.currentRevision();
    await this.#cache?.waitFor(rev);
  }

  stop(): void {
    this.#sub?.close();
    this.#sub = undefined;
  }
}
