// The Endpoints controller: for every Service with a selector, an Endpoints object of the
// same name listing the selected pods' addresses (ready and not ready) and ports.
//
//   services ─┐
//   pods ─────┼─► queue of service keys ─► sync(ns/name): pods from the cache → subsets
//   endpoints ┘                                            → create / update / delete
//
// Services without a selector are left alone (their Endpoints are written by hand), and an
// Endpoints whose Service is gone is deleted. Nothing is written when nothing changed.
import type { KObject } from '../../api/object.ts';
import { jsonEqual } from '../../api/kinds/access.ts';
import { splitKey } from '../../client/cache.ts';
import type { Informer } from '../../client/informer.ts';
import { isAlreadyExists, isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { Controller, ControllerContext } from '../types.ts';
import {
  HEADLESS_LABEL, NAMESPACE_INDEX, isHeadless, namespaceIndex, podChangeMatters, selectedPods, serviceLabels,
  serviceSelector, servicesForPodChange,
} from './pods.ts';
import { buildSubsets } from './subsets.ts';

export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
export const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
const FIELD_MANAGER = 'endpoint-controller';

export interface EndpointsControllerOptions {
  /** Parallel syncs (different services); one service is never synced twice at once. */
  workers?: number;
}

export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  readonly #opts: EndpointsControllerOptions;
  #ctx?: ControllerContext;
  #queue?: WorkQueue;
  #services?: Informer;
  #pods?: Informer;
  #endpoints?: Informer;
  #api?: ResourceInterface;
  /** Service key → when the oldest change not yet written happened (ms). */
  readonly #triggers = new Map<string, number>();
  readonly #unsubscribe: (() => void)[] = [];

  constructor(opts: EndpointsControllerOptions = {}) {
    this.#opts = opts;
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#api = ctx.api.resource('', 'v1', 'endpoints');
    const indexers = { [NAMESPACE_INDEX]: namespaceIndex };
    const services = this.#services = ctx.informers.informer('', 'v1', 'services', { indexers });
    this.#pods = ctx.informers.informer('', 'v1', 'pods', { indexers });
    const endpoints = this.#endpoints = ctx.informers.informer('', 'v1', 'endpoints');
    const log = ctx.log;
    this.#queue = new WorkQueue((key) => this.sync(key), {
      concurrency: this.#opts.workers ?? 4,
      onError: (key, err) => log.warn('endpoints sync failed', { service: key, error: String(err) }),
    });
    const enqueue = (key: string): void => {
      if (!this.#triggers.has(key)) this.#triggers.set(key, ctx.now());
      this.#queue!.add(key);
    };
    const serviceKey = (o: KObject): string => `${o.metadata.namespace}/${o.metadata.name}`;
    this.#unsubscribe.push(
      services.addEventHandler({
        onAdd: (svc) => enqueue(serviceKey(svc)),
        onUpdate: (_old, svc) => enqueue(serviceKey(svc)),
        onDelete: (svc) => enqueue(serviceKey(svc)),
      }),
      this.#pods.addEventHandler({
        onAdd: (pod) => { for (const k of servicesForPodChange(services, undefined, pod)) enqueue(k); },
        onUpdate: (old, pod) => {
          if (!podChangeMatters(old, pod)) return;
          for (const k of servicesForPodChange(services, old, pod)) enqueue(k);
        },
        onDelete: (pod) => { for (const k of servicesForPodChange(services, undefined, pod)) enqueue(k); },
      }),
      // Someone else changed or deleted an Endpoints: put it back as it should be.
      endpoints.addEventHandler({
        onUpdate: (_old, ep) => this.#queue!.add(serviceKey(ep)),
        onDelete: (ep) => this.#queue!.add(serviceKey(ep)),
      }),
    );
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#queue?.stop();
  }

  /** True when no sync is queued or running (tests wait on it). */
  get idle(): boolean {
    return this.#queue?.idle ?? true;
  }

  async sync(key: string): Promise<void> {
    const ctx = this.#ctx!;
    const { namespace, name } = splitKey(key);
    const svc = this.#services!.get(key);
    const existing = this.#endpoints!.get(key);
    if (!svc) {
      this.#triggers.delete(key);
      if (!existing) return;
      try {
        await this.#api!.delete(namespace, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    if (!serviceSelector(svc)) {
      this.#triggers.delete(key);
      return;
    }
    const trigger = this.#triggers.get(key);
    this.#triggers.delete(key);

    const { subsets, truncated } = buildSubsets(svc, selectedPods(this.#pods!, svc));
    const labels = serviceLabels(svc, [HEADLESS_LABEL]);
    if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';

    if (existing) {
      const annotations = existing.metadata.annotations ?? {};
      const sameSubsets = jsonEqual(existing.subsets ?? [], subsets);
      const sameLabels = sameMap(existing.metadata.labels, labels);
      const capacityOk = truncated ? annotations[OVER_CAPACITY] === 'truncated' : annotations[OVER_CAPACITY] === undefined;
      if (sameSubsets && sameLabels && capacityOk) return;
    }

    const next: KObject = existing ? structuredClone(existing) : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
    next.metadata.labels = labels;
    const annotations = { ...next.metadata.annotations };
    annotations[LAST_CHANGE_TRIGGER_TIME] = new Date(trigger ?? ctx.now()).toISOString();
    if (truncated) annotations[OVER_CAPACITY] = 'truncated'; else delete annotations[OVER_CAPACITY];
    next.metadata.annotations = annotations;
    if (subsets.length) next.subsets = subsets; else delete next.subsets;
    try {
      if (existing) await this.#api!.update(next, { fieldManager: FIELD_MANAGER });
      else await this.#api!.create(next, { fieldManager: FIELD_MANAGER });
    } catch (err) {
      // Our cache was behind (409 or AlreadyExists): retry once it has caught up, keeping
      // the original trigger time; a namespace being deleted refuses creates for good.
      if (trigger !== undefined && !this.#triggers.has(key)) this.#triggers.set(key, trigger);
      if (isAlreadyExists(err) || (err as { code?: number }).code === 409) throw err;
      if (isNotFound(err)) return;
      if ((err as { code?: number }).code === 403) {
        ctx.recorder('endpoint-controller').event(svc, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${key}: ${(err as Error).message}`);
        return;
      }
      throw err;
    }
  }
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a![k] === b[k]);
}
