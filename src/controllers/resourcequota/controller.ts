// ResourceQuota status: for every quota, status.hard mirrors spec.hard and status.used is
// what the namespace's objects use now (counted by the same code the admission check
// uses), so `kubectl describe quota` shows it. Recomputed when a quota changes, when pods,
// services, configmaps, secrets or PVCs in its namespace change, and every 30 s for the
// other counted kinds.
import type { KObject } from '../../api/object.ts';
import { STORED_RESOURCES } from '../../api/scheme.ts';
import type { Informer } from '../../client/informer.ts';
import { isConflict, isNotFound } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { countedResource, formatUsage, usageOf, type Usage } from '../../apiserver/admission/resourcequota/usage.ts';
import type { Controller, ControllerContext } from '../types.ts';

type Json = Record<string, any>;
const WATCHED = ['pods', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims'];

export class ResourceQuotaController implements Controller {
  readonly name = 'resourcequota';
  readonly #queue: WorkQueue;
  readonly #resyncMs: number;
  #ctx!: ControllerContext;
  #quotas!: Informer;
  #timer?: NodeJS.Timeout;

  constructor(opts: { resyncMs?: number } = {}) {
    this.#resyncMs = opts.resyncMs ?? 30_000;
    this.#queue = new WorkQueue((key) => this.sync(key), {
      concurrency: 2,
      onError: (key, err) => this.#ctx?.log.warn('resourcequota sync failed', { quota: key, error: String(err) }),
    });
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#quotas = ctx.informers.informer('', 'v1', 'resourcequotas');
    const key = (q: KObject) => `${q.metadata.namespace}/${q.metadata.name}`;
    this.#quotas.addEventHandler({ onAdd: (q) => this.#queue.add(key(q)), onUpdate: (_o, q) => this.#queue.add(key(q)) });
    const touched = (o: KObject) => {
      for (const q of this.#quotas.list()) if (q.metadata.namespace === o.metadata.namespace) this.#queue.add(key(q));
    };
    for (const resource of WATCHED) {
      ctx.informers.informer('', 'v1', resource).addEventHandler({ onAdd: touched, onUpdate: (_o, n) => touched(n), onDelete: touched });
    }
    this.#timer = setInterval(() => { for (const q of this.#quotas.list()) this.#queue.add(key(q)); }, this.#resyncMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#queue.stop();
  }

  async sync(key: string): Promise<void> {
    const quota = this.#quotas.get(key);
    if (!quota) return;
    const ns = quota.metadata.namespace!;
    const hard = ((quota.spec as Json)?.hard ?? {}) as Record<string, string>;
    const byResource = new Map<string, Promise<Usage>>();
    const used: Record<string, string> = {};
    for (const name of Object.keys(hard).sort()) {
      const target = countedResource(name)!;
      const k = `${target.resource}.${target.group}`;
      if (!byResource.has(k)) byResource.set(k, this.#usage(ns, target.resource, target.group));
      used[name] = formatUsage(name, (await byResource.get(k)!)[name] ?? 0);
    }
    const status = (quota.status ?? {}) as Json;
    if (JSON.stringify(status.hard) === JSON.stringify(hard) && JSON.stringify(status.used) === JSON.stringify(used)) return;
    try {
      await this.#ctx.api.resource('', 'v1', 'resourcequotas').updateStatus({ ...quota, status: { hard, used } });
    } catch (err) {
      if (isConflict(err)) { this.#queue.add(key); return; }
      if (!isNotFound(err)) throw err;
    }
  }

  async #usage(ns: string, resource: string, group: string): Promise<Usage> {
    const info = STORED_RESOURCES.find((r) => r.resource === resource && r.group === group);
    if (!info) return {};
    const { items } = await this.#ctx.api.resource(group, info.version, resource).list(ns);
    const total: Usage = {};
    for (const o of items) for (const [k, v] of Object.entries(usageOf(resource, group, o))) total[k] = (total[k] ?? 0) + v;
    return total;
  }
}
