// The EndpointSlice controller: for every Service with a selector, discovery.k8s.io/v1
// EndpointSlices (IPv4, at most 100 endpoints each) labelled with the service name and
// this controller as manager, owned by the Service.
//
//   services, pods, nodes (zones), slices ─► queue of service keys ─► sync(ns/name):
//     desired groups (desired.ts) + cached slices ─► reconcileSlices (reconciler.ts)
//     ─► creates / updates / deletes, each remembered by the tracker until seen
//
// A sync whose cache has not caught up with the controller's own writes waits for it.
import type { KObject } from '../../api/object.ts';
import type { IndexFunc } from '../../client/cache.ts';
import type { Informer } from '../../client/informer.ts';
import { isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { logSyncError, type Controller, type ControllerContext } from '../types.ts';
import {
  NAMESPACE_INDEX, namespaceIndex, podChangeMatters, selectedPods, serviceSelector, servicesForPodChange,
} from '../endpoints/pods.ts';
import { ZONE_LABEL, desiredGroups } from './desired.ts';
import { CONTROLLER_NAME, MANAGED_BY_LABEL, MAX_ENDPOINTS_PER_SLICE, SERVICE_NAME_LABEL, reconcileSlices } from './reconciler.ts';
import { SliceTracker } from './tracker.ts';

const SERVICE_INDEX = 'skiff.endpointslice/service';
const FIELD_MANAGER = CONTROLLER_NAME;

/** Slices this controller manages, by `namespace/service`. */
const byService: IndexFunc = (slice) => {
  const labels = slice.metadata.labels ?? {};
  if (labels[MANAGED_BY_LABEL] !== CONTROLLER_NAME || !labels[SERVICE_NAME_LABEL]) return [];
  return [`${slice.metadata.namespace}/${labels[SERVICE_NAME_LABEL]}`];
};

export interface EndpointSliceControllerOptions {
  maxEndpointsPerSlice?: number;
  workers?: number;
}

export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';
  readonly #maxPerSlice: number;
  readonly #workers: number;
  #ctx?: ControllerContext;
  #queue?: WorkQueue;
  #services?: Informer;
  #pods?: Informer;
  #nodes?: Informer;
  #slices?: Informer;
  #api?: ResourceInterface;
  #tracker?: SliceTracker;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(opts: EndpointSliceControllerOptions = {}) {
    this.#maxPerSlice = opts.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
    this.#workers = opts.workers ?? 4;
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#api = ctx.api.resource('discovery.k8s.io', 'v1', 'endpointslices');
    const indexers = { [NAMESPACE_INDEX]: namespaceIndex };
    const services = this.#services = ctx.informers.informer('', 'v1', 'services', { indexers });
    const pods = this.#pods = ctx.informers.informer('', 'v1', 'pods', { indexers });
    const nodes = this.#nodes = ctx.informers.informer('', 'v1', 'nodes');
    const slices = this.#slices = ctx.informers.informer('discovery.k8s.io', 'v1', 'endpointslices', { indexers: { [SERVICE_INDEX]: byService } });
    const tracker = this.#tracker = new SliceTracker(ctx.now, (ns, name) => slices.getByName(ns, name));
    const log = ctx.log;
    const queue = this.#queue = new WorkQueue((key) => this.sync(key), {
      concurrency: this.#workers,
      onError: logSyncError(log, 'endpointslice sync failed', 'service'),
    });
    const serviceKey = (o: KObject): string => `${o.metadata.namespace}/${o.metadata.name}`;
    const sliceEvent = (slice: KObject, deleted: boolean): void => {
      for (const key of byService(slice)) {
        if (!key) continue;
        tracker.observe(key, slice, deleted);
        queue.add(key);
      }
    };
    this.#unsubscribe.push(
      services.addEventHandler({
        onAdd: (svc) => queue.add(serviceKey(svc)),
        onUpdate: (_old, svc) => queue.add(serviceKey(svc)),
        onDelete: (svc) => queue.add(serviceKey(svc)),
      }),
      pods.addEventHandler({
        onAdd: (pod) => { for (const k of servicesForPodChange(services, undefined, pod)) queue.add(k); },
        onUpdate: (old, pod) => {
          if (!podChangeMatters(old, pod)) return;
          for (const k of servicesForPodChange(services, old, pod)) queue.add(k);
        },
        onDelete: (pod) => { for (const k of servicesForPodChange(services, undefined, pod)) queue.add(k); },
      }),
      // A node's zone is copied onto its endpoints; zones rarely change, so resync everything then.
      nodes.addEventHandler({
        onUpdate: (old, node) => {
          if (old.metadata.labels?.[ZONE_LABEL] === node.metadata.labels?.[ZONE_LABEL]) return;
          for (const svc of services.list()) queue.add(serviceKey(svc));
        },
      }),
      slices.addEventHandler({
        onAdd: (s) => sliceEvent(s, false),
        onUpdate: (_old, s) => sliceEvent(s, false),
        onDelete: (s) => sliceEvent(s, true),
      }),
    );
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#queue?.stop();
  }

  get idle(): boolean {
    return this.#queue?.idle ?? true;
  }

  async sync(key: string): Promise<void> {
    const tracker = this.#tracker!;
    if (tracker.stale(key)) {
      // The events that clear the expectations enqueue the key again; this is a fallback.
      this.#queue!.addAfter(key, 1000);
      return;
    }
    const svc = this.#services!.get(key);
    const existing = this.#slices!.byIndex(SERVICE_INDEX, key);
    if (!svc || !serviceSelector(svc)) {
      // Gone (the garbage collector would get there too, through the owner reference), or no
      // longer ours to fill.
      for (const slice of existing) await this.#delete(key, slice);
      if (!svc) tracker.forget(key);
      return;
    }
    const owned = existing.filter((s) => (s.metadata.ownerReferences ?? []).some((r) => r.uid === svc.metadata.uid) || !s.metadata.ownerReferences?.length);
    // Slices left over from an older Service of the same name.
    for (const slice of existing) if (!owned.includes(slice)) await this.#delete(key, slice);

    const desired = desiredGroups(svc, selectedPods(this.#pods!, svc), this.#nodes);
    const plan = reconcileSlices(svc, desired, owned, this.#maxPerSlice);
    const errors: unknown[] = [];
    // Creates and updates first, so traffic never sees a moment with fewer endpoints.
    for (const slice of plan.create) {
      try {
        tracker.expectWritten(key, await this.#api!.create(slice, { fieldManager: FIELD_MANAGER }));
      } catch (err) { errors.push(err); }
    }
    for (const slice of plan.update) {
      try {
        tracker.expectWritten(key, await this.#api!.update(slice, { fieldManager: FIELD_MANAGER }));
      } catch (err) { if (!isNotFound(err)) errors.push(err); }
    }
    for (const slice of plan.delete) {
      try { await this.#delete(key, slice); } catch (err) { errors.push(err); }
    }
    if (errors.length) {
      const code = (errors[0] as { code?: number }).code;
      if (code === 403) {
        // The namespace is going away: nothing to retry.
        this.#ctx!.recorder('endpoint-slice-controller').event(svc, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${key}: ${String(errors[0])}`);
        return;
      }
      throw errors[0];
    }
  }

  async #delete(key: string, slice: KObject): Promise<void> {
    try {
      await this.#api!.delete(slice.metadata.namespace, slice.metadata.name!, { preconditions: { uid: slice.metadata.uid } });
      this.#tracker!.expectDeleted(key, slice);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
