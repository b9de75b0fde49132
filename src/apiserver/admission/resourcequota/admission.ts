// ResourceQuota admission: a create in a namespace with quotas is refused when it would
// take any tracked resource past its hard limit ("exceeded quota: q, requested: pods=1,
// used: pods=2, limited: pods=2"), or when a quota tracks requests/limits a pod's
// containers do not state ("failed quota: q: must specify limits.cpu for: c"). Usage is
// counted from the namespace's current objects at admission time, and creates in a
// namespace with quotas are serialised, so two racing creates cannot both take the last unit.
import type { KObject } from '../../../api/object.ts';
import { forbidden } from '../../errors.ts';
import { countedResource, formatUsage, quantityOf, usageOf, type Usage } from './usage.ts';

type Json = Record<string, any>;

const COMPUTE = /^(requests\.|limits\.)?(cpu|memory|ephemeral-storage)$/;

function missingSpecs(pod: KObject, names: string[]): string[] {
  const out: string[] = [];
  const containers = [...((pod.spec as Json)?.initContainers ?? []), ...((pod.spec as Json)?.containers ?? [])] as Json[];
  for (const name of names.filter((n) => COMPUTE.test(n)).sort()) {
    const [, kind, res] = COMPUTE.exec(name)!;
    const field = kind === 'limits.' ? 'limits' : 'requests';
    const lacking = containers.filter((c) => c.resources?.[field]?.[res!] === undefined).map((c) => c.name);
    if (lacking.length) out.push(`${name} for: ${lacking.join(',')}`);
  }
  return out;
}

/**
 * Checks `obj` (being created as `resource`.`group`) against every quota of its namespace.
 * `usage(resource, group)` sums what the namespace's current objects of that kind use.
 */
export async function admitResourceQuota(
  resource: string, group: string, obj: KObject, quotas: KObject[],
  usage: (resource: string, group: string) => Promise<Usage>,
): Promise<void> {
  const delta = usageOf(resource, group, obj);
  if (!Object.keys(delta).length) return;
  const cache = new Map<string, Promise<Usage>>();
  const usedOf = (name: string) => {
    const target = countedResource(name)!;
    const key = `${target.resource}.${target.group}`;
    if (!cache.has(key)) cache.set(key, usage(target.resource, target.group));
    return cache.get(key)!;
  };
  for (const quota of [...quotas].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!))) {
    const hard = ((quota.spec as Json)?.hard ?? {}) as Record<string, string>;
    const tracked = Object.keys(hard).filter((n) => {
      const target = countedResource(n);
      return target?.resource === resource && target.group === group;
    });
    if (!tracked.length) continue;
    if (resource === 'pods' && group === '') {
      const missing = missingSpecs(obj, tracked);
      if (missing.length) throw forbidden(`${resource} "${obj.metadata.name}" is forbidden: failed quota: ${quota.metadata.name}: must specify ${missing.join('; ')}`);
    }
    const over: { name: string; req: number; used: number; limit: number }[] = [];
    for (const name of tracked.sort()) {
      const req = delta[name] ?? 0;
      if (!req) continue;
      const used = (await usedOf(name))[name] ?? 0;
      const limit = quantityOf(hard[name]);
      if (used + req > limit) over.push({ name, req, used, limit });
    }
    if (over.length) {
      const list = (f: (o: typeof over[number]) => number) => over.map((o) => `${o.name}=${formatUsage(o.name, f(o))}`).join(',');
      throw forbidden(`${resource} "${obj.metadata.name}" is forbidden: exceeded quota: ${quota.metadata.name}, requested: ${list((o) => o.req)}, used: ${list((o) => o.used)}, limited: ${list((o) => o.limit)}`);
    }
  }
}

/** One create at a time per namespace, for namespaces that have quotas. */
export class NamespaceLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(ns: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(ns) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.#tails.set(ns, tail);
    try {
      return await next;
    } finally {
      if (this.#tails.get(ns) === tail) this.#tails.delete(ns);
    }
  }
}
