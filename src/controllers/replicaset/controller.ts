// The ReplicaSet controller: keeps spec.replicas active pods that match the selector and
// are controlled by the ReplicaSet. Informer handlers only enqueue `namespace/name`; one
// sync per key claims pods (adopt/release), creates or deletes the difference (guarded by
// expectations, creations in slow-start batches), and writes status.
import type { KObject } from '../../api/object.ts';
import type { LabelSelector } from '../../api/validation/index.ts';
import { byNamespace, objectKey, splitKey } from '../../client/cache.ts';
import type { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { isConflict, isNotFound, type ResourceInterface } from '../../client/types.ts';
import { jsonEqual } from '../../api/kinds/access.ts';
import type { EventRecorder } from '../events.ts';
import type { Controller, ControllerContext } from '../types.ts';
import { Expectations } from './expectations.ts';
import {
  CONTROLLER_INDEX, NAMESPACE_INDEX, byController, claim, controllerOf, controllerRefFor, orphanIndexValue, sameRef, selects,
  withControllerRef, withoutRef,
} from './ownership.ts';
import { availableAt, isPodActive, podFromTemplate, podKey, podsToDelete, type PodTemplate } from './pods.ts';
import { slowStartBatch } from './slow-start.ts';
import { calculateStatus, specReplicas, minReadySeconds, type ReplicaSetStatus, type ReplicaSetView } from './status.ts';

export interface ReplicaSetControllerOptions {
  /** Parallel syncs (different ReplicaSets). */
  workers?: number;
  /** Most pods created or deleted by one sync. */
  burstReplicas?: number;
  /** How long outstanding expectations block a ReplicaSet before they are given up. */
  expectationsTtlMs?: number;
}

const COMPONENT = 'replicaset-controller';
const STATUS_UPDATE_RETRIES = 1;

/** A failed create inside a namespace being deleted: nothing to report, nothing to retry. */
function namespaceTerminating(err: unknown): boolean {
  const causes = (err as { details?: { causes?: { reason?: string }[] } } | null)?.details?.causes;
  return !!causes?.some((c) => c.reason === 'NamespaceTerminating');
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';
  readonly #opts: Required<ReplicaSetControllerOptions>;
  #ctx?: ControllerContext;
  #queue?: WorkQueue;
  #rsInformer?: Informer;
  #podInformer?: Informer;
  #pods?: ResourceInterface;
  #replicaSets?: ResourceInterface;
  #recorder?: EventRecorder;
  #expectations = new Expectations();
  #unsubscribe: (() => void)[] = [];

  constructor(opts: ReplicaSetControllerOptions = {}) {
    this.#opts = {
      workers: opts.workers ?? 5,
      burstReplicas: opts.burstReplicas ?? 500,
      expectationsTtlMs: opts.expectationsTtlMs ?? 5 * 60 * 1000,
    };
  }

  /** True when no ReplicaSet is queued or being synced (tests wait on it). */
  get idle(): boolean { return this.#queue?.idle ?? true; }

  /** Outstanding expectations for a ReplicaSet key (for tests). */
  expectationsFor(key: string): { add: number; del: number } | undefined {
    return this.#expectations.pending(key);
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#expectations = new Expectations(ctx.now, this.#opts.expectationsTtlMs);
    this.#recorder = ctx.recorder(COMPONENT);
    this.#pods = ctx.api.resource('', 'v1', 'pods');
    this.#replicaSets = ctx.api.resource('apps', 'v1', 'replicasets');
    this.#queue = new WorkQueue((key) => this.sync(key), {
      concurrency: this.#opts.workers,
      // Conflicts are routine (a write raced the cache): retried quietly.
      onError: (key, err) => (isConflict(err) ? ctx.log.debug : ctx.log.warn)('replicaset sync failed', { replicaset: key, error: message(err) }),
    });
    const rsInformer = ctx.informers.informer('apps', 'v1', 'replicasets', { indexers: { [NAMESPACE_INDEX]: byNamespace } });
    const podInformer = ctx.informers.informer('', 'v1', 'pods', { indexers: { [CONTROLLER_INDEX]: byController } });
    this.#rsInformer = rsInformer;
    this.#podInformer = podInformer;

    this.#unsubscribe.push(rsInformer.addEventHandler({
      onAdd: (rs) => this.#enqueue(rs),
      onUpdate: (_old, rs) => this.#enqueue(rs),
      onDelete: (rs) => {
        this.#expectations.delete(objectKey(rs));
        this.#enqueue(rs);
      },
    }));
    this.#unsubscribe.push(podInformer.addEventHandler({
      onAdd: (pod) => this.#podAdded(pod),
      onUpdate: (old, pod) => this.#podUpdated(old, pod),
      onDelete: (pod) => this.#podDeleted(pod),
    }));
  }

  stop(): void {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#queue?.stop();
  }

  // ---- event handlers: find the ReplicaSet(s) concerned, note expectations, enqueue ----

  #enqueue(rs: KObject): void {
    this.#queue?.add(objectKey(rs));
  }

  /** The ReplicaSet a controller reference points at, if it is the one in the cache. */
  #resolve(namespace: string | undefined, ref: ReturnType<typeof controllerOf>): KObject | undefined {
    if (!ref || ref.kind !== 'ReplicaSet') return undefined;
    const rs = this.#rsInformer!.getByName(namespace, ref.name);
    return rs && rs.metadata.uid === ref.uid ? rs : undefined;
  }

  /** ReplicaSets in the pod's namespace whose selector matches it (for orphans). */
  #matching(pod: KObject): KObject[] {
    return this.#rsInformer!.byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? '')
      .filter((rs) => selects((rs as ReplicaSetView).spec?.selector as LabelSelector | undefined, pod.metadata.labels));
  }

  #podAdded(pod: KObject): void {
    if (pod.metadata.deletionTimestamp) {
      // Restarted with a pod already being deleted: it must not count as a creation.
      this.#podDeleted(pod);
      return;
    }
    const ref = controllerOf(pod);
    if (ref) {
      const rs = this.#resolve(pod.metadata.namespace, ref);
      if (!rs) return;
      this.#expectations.creationObserved(objectKey(rs));
      this.#enqueue(rs);
      return;
    }
    for (const rs of this.#matching(pod)) this.#enqueue(rs);
  }

  #podUpdated(old: KObject, pod: KObject): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const labelsChanged = !jsonEqual(old.metadata.labels ?? {}, pod.metadata.labels ?? {});
    if (pod.metadata.deletionTimestamp) {
      // Graceful deletion started: for expectations the pod is gone now.
      this.#podDeleted(pod);
      if (labelsChanged) this.#podDeleted(old);
      return;
    }
    const ref = controllerOf(pod);
    const oldRef = controllerOf(old);
    const refChanged = !sameRef(ref, oldRef);
    if (refChanged && oldRef) {
      const rs = this.#resolve(old.metadata.namespace, oldRef);
      if (rs) this.#enqueue(rs);
    }
    if (ref) {
      const rs = this.#resolve(pod.metadata.namespace, ref);
      if (rs) this.#enqueue(rs);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.#matching(pod)) this.#enqueue(rs);
  }

  #podDeleted(pod: KObject): void {
    const rs = this.#resolve(pod.metadata.namespace, controllerOf(pod));
    if (!rs) return;
    const key = objectKey(rs);
    this.#expectations.deletionObserved(key, podKey(pod));
    this.#enqueue(rs);
  }

  // ---- sync -----------------------------------------------------------------------------

  async sync(key: string): Promise<void> {
    const ctx = this.#ctx!;
    const rs = this.#rsInformer!.get(key) as ReplicaSetView | undefined;
    if (!rs) {
      this.#expectations.delete(key);
      return;
    }
    const needsSync = this.#expectations.satisfied(key);
    const selector = rs.spec?.selector as LabelSelector | undefined;
    const { namespace } = splitKey(key);
    const candidates = [
      ...this.#podInformer!.byIndex(CONTROLLER_INDEX, rs.metadata.uid!),
      ...this.#podInformer!.byIndex(CONTROLLER_INDEX, orphanIndexValue(namespace)),
    ].filter(isPodActive);
    const pods = await this.#claimPods(rs, selector ?? {}, candidates);

    let manageError: unknown;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      try {
        await this.#manageReplicas(key, rs, pods);
      } catch (err) {
        manageError = err;
      }
    }
    const now = ctx.now();
    const status = calculateStatus(rs, pods, manageError, now);
    await this.#updateStatus(rs, status);
    if (manageError !== undefined) throw manageError;

    // Look again when the next Ready pod has been Ready for minReadySeconds.
    const minReady = minReadySeconds(rs);
    if (minReady > 0) {
      let next: number | undefined;
      for (const p of pods) {
        const at = availableAt(p, minReady, now);
        if (at !== undefined && (next === undefined || at < next)) next = at;
      }
      if (next !== undefined) this.#queue!.addAfter(key, next - now + 50);
    }
  }

  async #claimPods(rs: ReplicaSetView, selector: LabelSelector, candidates: KObject[]): Promise<KObject[]> {
    return claim(candidates, {
      owner: rs,
      selector,
      adopt: (pod) => this.#pods!.update(withControllerRef(pod, rs)),
      release: (pod) => this.#pods!.update(withoutRef(pod, rs.metadata.uid!)),
      canAdopt: async () => {
        // A fresh read: never adopt for a ReplicaSet that was replaced or is being deleted.
        const fresh = await this.#replicaSets!.tryGet(rs.metadata.namespace, rs.metadata.name!);
        return !!fresh && fresh.metadata.uid === rs.metadata.uid && !fresh.metadata.deletionTimestamp;
      },
    });
  }

  async #manageReplicas(key: string, rs: ReplicaSetView, pods: KObject[]): Promise<void> {
    const diff = pods.length - specReplicas(rs);
    if (diff < 0) {
      const count = Math.min(-diff, this.#opts.burstReplicas);
      // Expect before writing: the informer may report a new pod before create() returns.
      this.#expectations.expectCreations(key, count);
      const { successes, error } = await slowStartBatch(count, 1, () => this.#createPod(rs));
      // Pods never created will never be observed.
      for (let i = successes; i < count; i++) this.#expectations.creationObserved(key);
      if (error !== undefined) throw error;
    } else if (diff > 0) {
      const count = Math.min(diff, this.#opts.burstReplicas);
      const victims = podsToDelete(pods, this.#relatedPods(rs), count, this.#ctx!.now());
      this.#expectations.expectDeletions(key, victims.map(podKey));
      const results = await Promise.allSettled(victims.map((p) => this.#deletePod(rs, p)));
      let firstError: unknown;
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        // A deletion that failed will never be observed.
        this.#expectations.deletionObserved(key, podKey(victims[i]!));
        if (!isNotFound(r.reason) && firstError === undefined) firstError = r.reason;
      });
      if (firstError !== undefined) throw firstError;
    }
  }

  async #createPod(rs: ReplicaSetView): Promise<void> {
    const template = (rs.spec?.template ?? {}) as PodTemplate;
    const pod = podFromTemplate(template, rs.metadata.namespace!, rs.metadata.name!, controllerRefFor(rs));
    if (!pod.metadata.labels || Object.keys(pod.metadata.labels).length === 0) {
      const err = new Error('unable to create pods, no labels');
      this.#recorder!.event(rs, 'Warning', 'FailedCreate', `Error creating: ${err.message}`);
      throw err;
    }
    try {
      const created = await this.#pods!.create(pod, { fieldManager: COMPONENT });
      this.#recorder!.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    } catch (err) {
      if (namespaceTerminating(err)) return;
      this.#recorder!.event(rs, 'Warning', 'FailedCreate', `Error creating: ${message(err)}`);
      throw err;
    }
  }

  async #deletePod(rs: ReplicaSetView, pod: KObject): Promise<void> {
    try {
      await this.#pods!.delete(pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      this.#recorder!.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (err) {
      if (!isNotFound(err)) this.#recorder!.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${message(err)}`);
      throw err;
    }
  }

  /**
   * Active pods of every ReplicaSet that shares this one's controller (a Deployment's
   * old and new ReplicaSets), so scale-down prefers nodes where they are doubled up.
   */
  #relatedPods(rs: ReplicaSetView): KObject[] {
    const owner = controllerOf(rs);
    const siblings = owner
      ? this.#rsInformer!.byIndex(NAMESPACE_INDEX, rs.metadata.namespace ?? '').filter((o) => controllerOf(o)?.uid === owner.uid)
      : [rs];
    return siblings.flatMap((s) => this.#podInformer!.byIndex(CONTROLLER_INDEX, s.metadata.uid!)).filter(isPodActive);
  }

  async #updateStatus(rs: ReplicaSetView, status: ReplicaSetStatus): Promise<void> {
    if (jsonEqual(rs.status ?? {}, status)) return;
    let current: KObject = rs;
    for (let attempt = 0; ; attempt++) {
      const next = structuredClone(current);
      next.status = status;
      try {
        await this.#replicaSets!.updateStatus(next, { fieldManager: COMPONENT });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= STATUS_UPDATE_RETRIES) throw err;
        const fresh = await this.#replicaSets!.tryGet(rs.metadata.namespace, rs.metadata.name!);
        if (!fresh || fresh.metadata.uid !== rs.metadata.uid) return;
        current = fresh;
      }
    }
  }
}
