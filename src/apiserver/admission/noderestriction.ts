// NodeRestriction admission (kube-apiserver's plugin of that name): what the Node
// authorizer lets a node write, limited to its own objects. A node may create and modify
// only its own Node (status included) and may not set, change or remove labels under
// node-restriction.kubernetes.io/ (those are for the cluster admin to steer workloads by);
// it may create only its own Lease, and only mirror pods bound to itself. Applied by
// wrapping the registry for one request (like ../authz/escalation.ts), so create, update,
// patch and apply all pass through it.
import type { KObject } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import { forbidden } from '../errors.ts';
import type { Registry } from '../registry/registry.ts';

export const RESTRICTED_LABEL_PREFIX = 'node-restriction.kubernetes.io/';
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

function refused(r: ResourceInfo, name: string, why: string) {
  const qualified = r.group ? `${r.resource}.${r.group}` : r.resource;
  return forbidden(`${qualified} ${JSON.stringify(name)} is forbidden: ${why}`, { name, ...(r.group ? { group: r.group } : {}), kind: r.resource });
}

const isNodes = (r: ResourceInfo) => r.group === '' && r.resource === 'nodes';
const isPods = (r: ResourceInfo) => r.group === '' && r.resource === 'pods';
const isLeases = (r: ResourceInfo) => r.group === 'coordination.k8s.io' && r.resource === 'leases';

function restrictedLabels(labels: Record<string, string> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(labels ?? {})) if (k.startsWith(RESTRICTED_LABEL_PREFIX)) out.set(k, v);
  return out;
}

/** Restricted label keys that differ between two label sets. */
export function changedRestrictedLabels(before: Record<string, string> | undefined, after: Record<string, string> | undefined): string[] {
  const a = restrictedLabels(before);
  const b = restrictedLabels(after);
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

/** Throws 403 if node `node` may not create `obj`. */
export function checkCreate(node: string, r: ResourceInfo, obj: KObject): void {
  const name = obj.metadata?.name ?? '';
  if (isNodes(r)) {
    if (name !== node) throw refused(r, name, `node ${JSON.stringify(node)} is not allowed to modify node ${JSON.stringify(name)}`);
    const bad = changedRestrictedLabels(undefined, obj.metadata.labels);
    if (bad.length) throw refused(r, name, `node ${JSON.stringify(node)} is not allowed to set the following labels: ${bad.join(', ')}`);
  } else if (isLeases(r)) {
    if (name !== node) throw refused(r, name, 'can only access node lease with the same name as the requesting node');
  } else if (isPods(r)) {
    if (!obj.metadata?.annotations?.[MIRROR_ANNOTATION]) {
      throw refused(r, name, `pod does not have ${JSON.stringify(MIRROR_ANNOTATION)} annotation, node ${JSON.stringify(node)} can only create mirror pods`);
    }
    const bound = (obj.spec as { nodeName?: string } | undefined)?.nodeName;
    if (bound !== node) throw refused(r, name, `node ${JSON.stringify(node)} can only create pods with spec.nodeName set to itself`);
  }
}

/** Throws 403 if node `node` may not turn `current` into `next`. */
export function checkUpdate(node: string, r: ResourceInfo, name: string, current: KObject | undefined, next: KObject): void {
  if (isNodes(r)) {
    if (name !== node) throw refused(r, name, `node ${JSON.stringify(node)} is not allowed to modify node ${JSON.stringify(name)}`);
    const bad = changedRestrictedLabels(current?.metadata.labels, next.metadata?.labels ?? current?.metadata.labels);
    if (bad.length) throw refused(r, name, `node ${JSON.stringify(node)} is not allowed to modify labels: ${bad.join(', ')}`);
  } else if (isLeases(r)) {
    if (name !== node) throw refused(r, name, 'can only access node lease with the same name as the requesting node');
  }
}

/** The registry as a node's request sees it. */
export function nodeRestrictedRegistry(registry: Registry, node: string): Registry {
  return new Proxy(registry, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'create') {
        return async (r: ResourceInfo, ns: string | undefined, input: KObject, ...rest: unknown[]) => {
          checkCreate(node, r, input);
          return (target.create as (...a: unknown[]) => unknown).call(target, r, ns, input, ...rest);
        };
      }
      if (prop === 'update') {
        return async (r: ResourceInfo, ns: string | undefined, name: string, input: KObject, ...rest: unknown[]) => {
          if (isNodes(r) || isLeases(r)) {
            const current = isNodes(r) && name === node ? await target.tryGet(r, ns, name) : undefined;
            checkUpdate(node, r, name, current, input);
          }
          return (target.update as (...a: unknown[]) => unknown).call(target, r, ns, name, input, ...rest);
        };
      }
      if (prop === 'guaranteedUpdate') {
        return (r: ResourceInfo, ns: string | undefined, name: string, mutate: (cur: KObject) => KObject | Promise<KObject>, ...rest: unknown[]) => {
          const checked = async (cur: KObject) => {
            // mutate may change `cur` in place (it is a private copy), so what the check
            // compares against is kept first.
            const before = { metadata: { labels: cur.metadata.labels && { ...cur.metadata.labels } } } as KObject;
            const next = await mutate(cur);
            checkUpdate(node, r, name, before, next);
            return next;
          };
          if (isNodes(r) || isLeases(r)) checkUpdate(node, r, name, undefined, { metadata: {} } as KObject); // refuse others' objects before reading them
          return (target.guaranteedUpdate as (...a: unknown[]) => unknown).call(target, r, ns, name, checked, ...rest);
        };
      }
      if (prop === 'delete') {
        return async (r: ResourceInfo, ns: string | undefined, name: string, ...rest: unknown[]) => {
          if (isNodes(r) && name !== node) throw refused(r, name, `node ${JSON.stringify(node)} is not allowed to modify node ${JSON.stringify(name)}`);
          return (target.delete as (...a: unknown[]) => unknown).call(target, r, ns, name, ...rest);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
