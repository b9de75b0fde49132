// The Deployment controller: owns ReplicaSets named `<deployment>-<pod template hash>`
// and moves replicas from old ones to the new one (RollingUpdate or Recreate). Informer
// handlers only enqueue the Deployment's `namespace/name`; sync(key) claims ReplicaSets
// and hands them to a Rollout (rollout.ts), which does the work for that one pass.
import type { KObject } from '../../api/object.ts';
import { isEmptySelector, type LabelSelector } from '../../api/validation/index.ts';
import { jsonEqual } from '../../api/kinds/access.ts';
import { byNamespace, objectKey, splitKey } from '../../client/cache.ts';
import type { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { isConflict, type ResourceInterface } from '../../client/types.ts';
import type { EventRecorder } from '../events.ts';
import type { Controller, ControllerContext } from '../types.ts';
import {
  CONTROLLER_INDEX, NAMESPACE_INDEX, byController, claim, controllerOf, orphanIndexValue, sameRef, selects, withControllerRef, withoutRef,
} from '../replicaset/ownership.ts';
import { FIELD_MANAGER, Rollout } from './rollout.ts';
import { isRecreate, type Deployment, type ReplicaSet } from './util.ts';

export interface DeploymentControllerOptions {
  /** Parallel syncs (different Deployments). */
  workers?: number;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  readonly #workers: number;
  #ctx?: ControllerContext;
  #queue?: WorkQueue;
  #dInformer?: Informer;
  #rsInformer?: Informer;
  #podInformer?: Informer;
  #deployments?: ResourceInterface;
  #replicaSets?: ResourceInterface;
  #recorder?: EventRecorder;
  #unsubscribe: (() => void)[] = [];

  constructor(opts: DeploymentControllerOptions = {}) {
    this.#workers = opts.workers ?? 5;
  }

  /** True when no Deployment is queued or being synced (tests wait on it). */
  get idle(): boolean { return this.#queue?.idle ?? true; }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#recorder = ctx.recorder(FIELD_MANAGER);
    this.#deployments = ctx.api.resource('apps', 'v1', 'deployments');
    this.#replicaSets = ctx.api.resource('apps', 'v1', 'replicasets');
    this.#queue = new WorkQueue((key) => this.sync(key), {
      concurrency: this.#workers,
      // Conflicts are routine (a write raced the cache): retried quietly.
      onError: (key, err) => (isConflict(err) ? ctx.log.debug : ctx.log.warn)('deployment sync failed', { deployment: key, error: message(err) }),
    });
    const dInformer = ctx.informers.informer('apps', 'v1', 'deployments', { indexers: { [NAMESPACE_INDEX]: byNamespace } });
    const rsInformer = ctx.informers.informer('apps', 'v1', 'replicasets', { indexers: { [NAMESPACE_INDEX]: byNamespace, [CONTROLLER_INDEX]: byController } });
    const podInformer = ctx.informers.informer('', 'v1', 'pods', { indexers: { [CONTROLLER_INDEX]: byController } });
    this.#dInformer = dInformer;
    this.#rsInformer = rsInformer;
    this.#podInformer = podInformer;

    this.#unsubscribe.push(dInformer.addEventHandler({
      onAdd: (d) => this.#enqueue(d),
      onUpdate: (_old, d) => this.#enqueue(d),
      onDelete: (d) => this.#enqueue(d),
    }));
    this.#unsubscribe.push(rsInformer.addEventHandler({
      onAdd: (rs) => this.#replicaSetAdded(rs),
      onUpdate: (old, rs) => this.#replicaSetUpdated(old, rs),
      onDelete: (rs) => this.#replicaSetDeleted(rs),
    }));
    this.#unsubscribe.push(podInformer.addEventHandler({ onDelete: (pod) => this.#podDeleted(pod) }));
  }

  stop(): void {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#queue?.stop();
  }

  // ---- event handlers ---------------------------------------------------------------------

  #enqueue(d: KObject): void {
    this.#queue?.add(objectKey(d));
  }

  #resolve(namespace: string | undefined, ref: ReturnType<typeof controllerOf>): KObject | undefined {
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = this.#dInformer!.getByName(namespace, ref.name);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  /** Deployments whose selector matches an orphaned ReplicaSet. */
  #matching(rs: KObject): KObject[] {
    return this.#dInformer!.byIndex(NAMESPACE_INDEX, rs.metadata.namespace ?? '')
      .filter((d) => selects((d as Deployment).spec?.selector, rs.metadata.labels));
  }

  #replicaSetAdded(rs: KObject): void {
    if (rs.metadata.deletionTimestamp) { this.#replicaSetDeleted(rs); return; }
    const ref = controllerOf(rs);
    if (ref) {
      const d = this.#resolve(rs.metadata.namespace, ref);
      if (d) this.#enqueue(d);
      return;
    }
    for (const d of this.#matching(rs)) this.#enqueue(d);
  }

  #replicaSetUpdated(old: KObject, rs: KObject): void {
    if (old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
    const ref = controllerOf(rs);
    const oldRef = controllerOf(old);
    const refChanged = !sameRef(ref, oldRef);
    if (refChanged && oldRef) {
      const d = this.#resolve(old.metadata.namespace, oldRef);
      if (d) this.#enqueue(d);
    }
    if (ref) {
      const d = this.#resolve(rs.metadata.namespace, ref);
      if (d) this.#enqueue(d);
      return;
    }
    const labelsChanged = !jsonEqual(old.metadata.labels ?? {}, rs.metadata.labels ?? {});
    if (labelsChanged || refChanged) for (const d of this.#matching(rs)) this.#enqueue(d);
  }

  #replicaSetDeleted(rs: KObject): void {
    const d = this.#resolve(rs.metadata.namespace, controllerOf(rs));
    if (d) this.#enqueue(d);
  }

  /** A Recreate rollout waits for old pods to be gone: each deletion may let it go on. */
  #podDeleted(pod: KObject): void {
    const rsRef = controllerOf(pod);
    if (rsRef?.kind !== 'ReplicaSet') return;
    const rs = this.#rsInformer!.getByName(pod.metadata.namespace, rsRef.name);
    if (!rs || rs.metadata.uid !== rsRef.uid) return;
    const d = this.#resolve(rs.metadata.namespace, controllerOf(rs));
    if (d && isRecreate(d as Deployment)) this.#enqueue(d);
  }

  // ---- sync ---------------------------------------------------------------------------------

  async sync(key: string): Promise<void> {
    const cached = this.#dInformer!.get(key);
    if (!cached) return;
    const d = structuredClone(cached) as Deployment;
    let rsList: ReplicaSet[] = [];
    const rollout: Rollout = new Rollout(d, {
      deployments: this.#deployments!,
      replicaSets: this.#replicaSets!,
      recorder: this.#recorder!,
      now: this.#ctx!.now,
      podsByReplicaSet: () => this.#podsByReplicaSet(rollout.d, rsList),
    });
    const selector = d.spec?.selector;
    if (!selector || isEmptySelector(selector)) {
      this.#recorder!.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      return;
    }
    rsList = (await this.#claimReplicaSets(d, selector, splitKey(key).namespace)).map((rs) => structuredClone(rs) as ReplicaSet);
    await rollout.reconcile(rsList);
    if (rollout.requeueAfterMs !== undefined) this.#queue!.addAfter(key, rollout.requeueAfterMs);
  }

  async #claimReplicaSets(d: Deployment, selector: LabelSelector, namespace: string | undefined): Promise<KObject[]> {
    const candidates = [
      ...this.#rsInformer!.byIndex(CONTROLLER_INDEX, d.metadata.uid!),
      ...this.#rsInformer!.byIndex(CONTROLLER_INDEX, orphanIndexValue(namespace)),
    ];
    return claim(candidates, {
      owner: d,
      selector,
      adopt: (rs) => this.#replicaSets!.update(withControllerRef(rs, d), { fieldManager: FIELD_MANAGER }),
      release: (rs) => this.#replicaSets!.update(withoutRef(rs, d.metadata.uid!), { fieldManager: FIELD_MANAGER }),
      canAdopt: async () => {
        const fresh = await this.#deployments!.tryGet(d.metadata.namespace, d.metadata.name!);
        return !!fresh && fresh.metadata.uid === d.metadata.uid && !fresh.metadata.deletionTimestamp;
      },
    });
  }

  /** Pods the Deployment selects, by the uid of the ReplicaSet (of this Deployment) controlling them. */
  #podsByReplicaSet(d: Deployment, rsList: ReplicaSet[]): Map<string, KObject[]> {
    const map = new Map<string, KObject[]>();
    for (const rs of rsList) {
      const uid = rs.metadata.uid!;
      map.set(uid, this.#podInformer!.byIndex(CONTROLLER_INDEX, uid).filter((p) => selects(d.spec.selector, p.metadata.labels)));
    }
    return map;
  }
}
