// The StatefulSet controller: pods `<set>-0 .. <set>-(n-1)` with stable names, hostnames
// and claims.
//
// sync(namespace/name):
//   1. find or create the update revision (the current template); the current revision is
//      status.currentRevision while a rollout is in progress;
//   2. claim pods; split them into members (ordinal in range) and condemned (beyond it);
//   3. members, lowest first: replace failed or finished pods, create missing ones (claims
//      first), fix identity labels. OrderedReady stops at the first pod that is not yet
//      Running and Ready (and available); Parallel carries on;
//   4. condemned, highest first: delete. OrderedReady deletes one at a time and only when
//      every other pod is healthy;
//   5. RollingUpdate: from the highest ordinal down to the partition, delete one pod of an
//      old revision at a time, waiting for each replacement to be healthy (step 3 of a later
//      sync recreates it from the update revision). OnDelete: only recreated pods update;
//   6. claim ownership for persistentVolumeClaimRetentionPolicy, history, status.
// Pods are never created twice: names are fixed, so a second create is AlreadyExists.
import type { KObject, OwnerReference } from '../../api/object.ts';
import { isEmptySelector, selectorMatches, type LabelSelector } from '../../api/validation/index.ts';
import { objectKey } from '../../client/cache.ts';
import type { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { isAlreadyExists, isConflict, isNotFound, type ResourceInterface } from '../../client/types.ts';
import { jsonEqual } from '../../api/kinds/access.ts';
import type { EventRecorder } from '../events.ts';
import type { Controller, ControllerContext } from '../types.ts';
import { POD_INDEXERS, claimPods } from '../history/claim.ts';
import { isFinished, isRunningAndReady, isTerminating, msUntilAvailable, podPhase } from '../history/pods.ts';
import {
  CONTROLLER_UID_INDEX, REVISION_HASH_LABEL, byControllerUid, controllerRefOf, controllerRefTo, ensureRevision, templateOf, truncateHistory,
} from '../history/revision.ts';
import { writeStatus } from '../history/status.ts';
import { claimsFor, identityMatches, newStatefulPod, ordinalOf, podName, specOf, withIdentityLabels } from './identity.ts';

const COMPONENT = 'statefulset-controller';
const FIELD_MANAGER = 'skiff-statefulset-controller';

export interface StatefulSetControllerOptions {
  /** Workers syncing different StatefulSets at once (default 2). */
  concurrency?: number;
}

/** What one pass over the pods found and did; status is computed from it. */
interface Pass {
  sts: KObject;
  key: string;
  members: Map<number, KObject>;
  condemned: KObject[];
  currentRevision: KObject;
  updateRevision: KObject;
  /** Shortest wait until a ready pod becomes available, for a timed re-sync. */
  recheckMs?: number;
}

export class StatefulSetController implements Controller {
  readonly name = 'statefulset';
  readonly #opts: StatefulSetControllerOptions;
  #ctx?: ControllerContext;
  #queue?: WorkQueue;
  #recorder?: EventRecorder;
  #sets?: Informer;
  #pods?: Informer;
  #revisions?: Informer;
  #claims?: Informer;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(opts: StatefulSetControllerOptions = {}) {
    this.#opts = opts;
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#recorder = ctx.recorder(COMPONENT);
    this.#queue = new WorkQueue((key) => this.sync(key), {
      concurrency: this.#opts.concurrency ?? 2,
      onError: (key, err) => ctx.log.warn('statefulset sync failed', { statefulset: key, error: String(err) }),
    });
    this.#sets = ctx.informers.informer('apps', 'v1', 'statefulsets');
    this.#pods = ctx.informers.informer('', 'v1', 'pods', { indexers: POD_INDEXERS });
    this.#revisions = ctx.informers.informer('apps', 'v1', 'controllerrevisions', { indexers: { [CONTROLLER_UID_INDEX]: byControllerUid } });
    this.#claims = ctx.informers.informer('', 'v1', 'persistentvolumeclaims');

    this.#unsubscribe.push(this.#sets.addEventHandler({
      onAdd: (s) => this.#queue!.add(objectKey(s)),
      onUpdate: (_old, s) => this.#queue!.add(objectKey(s)),
      onDelete: (s) => this.#queue!.add(objectKey(s)),
    }));
    this.#unsubscribe.push(this.#pods.addEventHandler({
      onAdd: (pod) => this.#podChanged(pod),
      onUpdate: (old, pod) => {
        const oldKey = this.#ownerKey(old);
        if (oldKey && oldKey !== this.#ownerKey(pod)) this.#queue!.add(oldKey);
        if (this.#ownerKey(pod) || !jsonEqual(old.metadata.labels, pod.metadata.labels)) this.#podChanged(pod);
      },
      onDelete: (pod) => { const key = this.#ownerKey(pod); if (key) this.#queue!.add(key); },
    }));
    this.#unsubscribe.push(this.#revisions.addEventHandler({
      onDelete: (rev) => { const key = this.#ownerKey(rev); if (key) this.#queue!.add(key); },
    }));
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#queue?.stop();
  }

  /** True when no sync is queued or running (for tests). */
  get idle(): boolean {
    return this.#queue?.idle ?? true;
  }

  #podChanged(pod: KObject): void {
    const key = this.#ownerKey(pod);
    if (key) { this.#queue!.add(key); return; }
    if (controllerRefOf(pod) || isTerminating(pod)) return;
    // An orphan: a set in its namespace whose selector matches may adopt it.
    for (const s of this.#sets!.list()) {
      const selector = specOf(s).selector as LabelSelector | undefined;
      if (s.metadata.namespace !== pod.metadata.namespace || !selector || isEmptySelector(selector)) continue;
      if (selectorMatches(selector, pod.metadata.labels)) this.#queue!.add(objectKey(s));
    }
  }

  #ownerKey(obj: KObject): string | undefined {
    const ref = controllerRefOf(obj);
    if (!ref || ref.kind !== 'StatefulSet') return undefined;
    const key = `${obj.metadata.namespace}/${ref.name}`;
    const s = this.#sets!.get(key);
    return s && s.metadata.uid === ref.uid ? key : undefined;
  }

  // ---- sync -----------------------------------------------------------------------------

  async sync(key: string): Promise<void> {
    const ctx = this.#ctx!;
    const sts = this.#sets!.get(key);
    if (!sts || sts.metadata.deletionTimestamp) return; // claims to delete already name the set as owner
    const spec = specOf(sts);
    const selector = spec.selector as LabelSelector | undefined;
    if (!selector || isEmptySelector(selector)) {
      this.#recorder!.event(sts, 'Warning', 'SelectingAll', 'This statefulset is selecting all pods. A non-empty selector is required.');
      return;
    }
    const revApi = ctx.api.resource('apps', 'v1', 'controllerrevisions');
    const revisions = this.#revisions!.byIndex(CONTROLLER_UID_INDEX, sts.metadata.uid!);
    const oldStatus = (sts.status ?? {}) as Record<string, unknown>;
    const { revision: updateRevision, collisionCount } = await ensureRevision(revApi, sts, revisions, (oldStatus.collisionCount as number | undefined) ?? 0);
    const currentRevision = revisions.find((r) => r.metadata.name === oldStatus.currentRevision) ?? updateRevision;

    const pods = await claimPods(ctx.api.resource('', 'v1', 'pods'), this.#pods!, sts, selector);
    const start = spec.ordinals?.start ?? 0;
    const replicas = spec.replicas ?? 1;
    const members = new Map<number, KObject>();
    const condemned: KObject[] = [];
    for (const pod of pods) {
      const ordinal = ordinalOf(sts, pod);
      if (ordinal === undefined) continue; // matches the selector but is not one of ours by name
      if (ordinal >= start && ordinal < start + replicas) members.set(ordinal, pod);
      else condemned.push(pod);
    }
    condemned.sort((a, b) => ordinalOf(sts, b)! - ordinalOf(sts, a)!);
    const pass: Pass = { sts, key, members, condemned, currentRevision, updateRevision };

    await this.#reconcile(pass);

    const live = new Set([currentRevision.metadata.name!, updateRevision.metadata.name!]);
    for (const pod of pods) { const r = pod.metadata.labels?.[REVISION_HASH_LABEL]; if (r) live.add(r); }
    await truncateHistory(revApi, revisions, live, spec.revisionHistoryLimit ?? 10);

    if (pass.recheckMs !== undefined) this.#queue!.addAfter(key, pass.recheckMs + 10);
    await writeStatus(ctx.api.resource('apps', 'v1', 'statefulsets'), sts, this.#status(pass, collisionCount), FIELD_MANAGER);
  }

  /** Steps 3–5; returns early wherever OrderedReady has to wait. */
  async #reconcile(pass: Pass): Promise<void> {
    const { sts, members, condemned, updateRevision } = pass;
    const spec = specOf(sts);
    const monotonic = spec.podManagementPolicy !== 'Parallel';
    const start = spec.ordinals?.start ?? 0;
    const end = start + (spec.replicas ?? 1);

    // 3. members, lowest ordinal first
    for (let ordinal = start; ordinal < end; ordinal++) {
      const pod = members.get(ordinal);
      if (pod && isFinished(pod) && !isTerminating(pod)) {
        this.#recorder!.event(sts, 'Warning', podPhase(pod) === 'Failed' ? 'RecreatingFailedPod' : 'RecreatingTerminatedPod',
          `StatefulSet ${sts.metadata.namespace}/${sts.metadata.name} is recreating ${podPhase(pod) === 'Failed' ? 'failed' : 'terminated'} Pod ${pod.metadata.name}`);
        await this.#deletePod(sts, pod);
        if (monotonic) return;
        continue;
      }
      if (!pod) {
        await this.#createPod(pass, ordinal);
        if (monotonic) return;
        continue;
      }
      if (isTerminating(pod)) {
        if (monotonic) return; // the same name comes back once this one is gone
        continue;
      }
      if (!identityMatches(sts, pod, ordinal)) await this.#updatePod(sts, withIdentityLabels(pod, ordinal));
      await this.#ensureClaims(sts, ordinal, pod);
      if (monotonic && !this.#healthy(pass, pod)) return;
    }

    // 4. condemned, highest ordinal first
    const unhealthy = [...[...members.values()].sort((a, b) => ordinalOf(sts, a)! - ordinalOf(sts, b)!), ...condemned]
      .find((p) => !this.#healthy(pass, p));
    for (const pod of condemned) {
      if (isTerminating(pod)) {
        if (monotonic) return;
        continue;
      }
      if (monotonic && unhealthy && unhealthy !== pod) return;
      await this.#ensureClaims(sts, ordinalOf(sts, pod)!, pod, true);
      await this.#deletePod(sts, pod);
      if (monotonic) return;
    }

    // 5. rolling update, highest ordinal first, down to the partition
    if (spec.updateStrategy?.type === 'OnDelete') return;
    const partition = Math.max(start, spec.updateStrategy?.rollingUpdate?.partition ?? 0);
    for (let ordinal = end - 1; ordinal >= partition; ordinal--) {
      const pod = members.get(ordinal);
      if (!pod) return;
      if (pod.metadata.labels?.[REVISION_HASH_LABEL] !== updateRevision.metadata.name && !isTerminating(pod)) {
        this.#recorder!.event(sts, 'Normal', 'RollingUpdate', `Pod ${pod.metadata.name} of StatefulSet ${sts.metadata.name} is replaced with revision ${updateRevision.metadata.name}`);
        await this.#deletePod(sts, pod);
        return;
      }
      if (isTerminating(pod) || !this.#healthy(pass, pod)) return;
    }
  }

  /** Running, Ready, and available for minReadySeconds (noting when it will be). */
  #healthy(pass: Pass, pod: KObject): boolean {
    if (isTerminating(pod) || !isRunningAndReady(pod)) return false;
    const wait = msUntilAvailable(pod, specOf(pass.sts).minReadySeconds ?? 0, this.#ctx!.now());
    if (wait === 0) return true;
    if (wait !== undefined) pass.recheckMs = Math.min(pass.recheckMs ?? wait, wait);
    return false;
  }

  async #createPod(pass: Pass, ordinal: number): Promise<void> {
    const { sts, currentRevision, updateRevision } = pass;
    const spec = specOf(sts);
    // Below the partition, a new pod keeps the current revision.
    const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const revision = rolling && ordinal < (spec.updateStrategy?.rollingUpdate?.partition ?? 0) ? currentRevision : updateRevision;
    const template = revision === updateRevision ? (spec.template ?? {}) : templateOf(revision);
    if (!(await this.#ensureClaims(sts, ordinal, undefined))) return;
    const pod = newStatefulPod(sts, template, ordinal, revision.metadata.name!, controllerRefTo(sts));
    try {
      await this.#ctx!.api.resource('', 'v1', 'pods').create(pod, { fieldManager: FIELD_MANAGER });
      this.#recorder!.event(sts, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful`);
    } catch (err) {
      if (isAlreadyExists(err)) return; // our earlier create, not yet in the cache
      this.#recorder!.event(sts, 'Warning', 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} failed error: ${(err as Error).message}`);
      throw err;
    }
  }

  async #updatePod(sts: KObject, pod: KObject): Promise<void> {
    try {
      await this.#ctx!.api.resource('', 'v1', 'pods').update(pod, { fieldManager: FIELD_MANAGER });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return; // an event for the newer pod brings another sync
      this.#recorder!.event(sts, 'Warning', 'FailedUpdate', `update Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} failed error: ${(err as Error).message}`);
      throw err;
    }
  }

  async #deletePod(sts: KObject, pod: KObject): Promise<void> {
    try {
      await this.#ctx!.api.resource('', 'v1', 'pods').delete(pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      this.#recorder!.event(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful`);
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return; // already gone, or already replaced
      this.#recorder!.event(sts, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} failed error: ${(err as Error).message}`);
      throw err;
    }
  }

  /**
   * Creates the ordinal's missing claims and keeps their owner references as the retention
   * policy asks. False (with an event) when a claim is being deleted: the pod must wait.
   */
  async #ensureClaims(sts: KObject, ordinal: number, pod: KObject | undefined, condemned = false): Promise<boolean> {
    const api = this.#ctx!.api.resource('', 'v1', 'persistentvolumeclaims');
    const pName = podName(sts, ordinal);
    for (const claim of claimsFor(sts, ordinal)) {
      const name = claim.metadata.name!;
      const existing = this.#claims!.getByName(sts.metadata.namespace, name);
      if (existing?.metadata.deletionTimestamp) {
        this.#recorder!.event(sts, 'Warning', 'FailedCreate', `create Pod ${pName} in StatefulSet ${sts.metadata.name} failed error: pvc ${name} is being deleted`);
        return false;
      }
      if (!existing) {
        if (condemned) continue; // never create storage for a pod on its way out
        const owners = claimOwners(sts, [], pod, condemned);
        if (owners.length) claim.metadata.ownerReferences = owners;
        try {
          await api.create(claim, { fieldManager: FIELD_MANAGER });
          this.#recorder!.event(sts, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${pName} in StatefulSet ${sts.metadata.name} success`);
        } catch (err) {
          if (isAlreadyExists(err)) continue;
          this.#recorder!.event(sts, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${pName} in StatefulSet ${sts.metadata.name} failed error: ${(err as Error).message}`);
          throw err;
        }
        continue;
      }
      const owners = claimOwners(sts, existing.metadata.ownerReferences ?? [], pod, condemned);
      if (jsonEqual(owners, existing.metadata.ownerReferences ?? [])) continue;
      const copy = structuredClone(existing);
      if (owners.length) copy.metadata.ownerReferences = owners; else delete copy.metadata.ownerReferences;
      try {
        await api.update(copy, { fieldManager: FIELD_MANAGER });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    return true;
  }

  #status(pass: Pass, collisionCount: number): Record<string, unknown> {
    const { sts, members, condemned, currentRevision, updateRevision } = pass;
    const spec = specOf(sts);
    const now = this.#ctx!.now();
    let replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
    for (const pod of [...members.values(), ...condemned]) {
      const created = podPhase(pod) !== '';
      if (created) replicas++;
      if (isRunningAndReady(pod)) {
        ready++;
        if (msUntilAvailable(pod, spec.minReadySeconds ?? 0, now) === 0) available++;
      }
      if (created && !isTerminating(pod)) {
        const rev = pod.metadata.labels?.[REVISION_HASH_LABEL];
        if (rev === currentRevision.metadata.name) current++;
        if (rev === updateRevision.metadata.name) updated++;
      }
    }
    const old = (sts.status ?? {}) as Record<string, unknown>;
    const status: Record<string, unknown> = {
      ...old,
      observedGeneration: sts.metadata.generation,
      replicas, readyReplicas: ready, currentReplicas: current, updatedReplicas: updated, availableReplicas: available,
      currentRevision: currentRevision.metadata.name, updateRevision: updateRevision.metadata.name,
    };
    if (collisionCount) status.collisionCount = collisionCount;
    // A finished rolling update: the update revision becomes the current one.
    if ((spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && updated === replicas && ready === replicas) {
      status.currentReplicas = updated;
      status.currentRevision = updateRevision.metadata.name;
    }
    return status;
  }
}

/**
 * A claim's owner references under persistentVolumeClaimRetentionPolicy: the set when
 * whenDeleted is Delete, the pod instead when whenScaled is Delete and the pod is being
 * scaled away (the garbage collector then deletes the claim with its owner).
 */
function claimOwners(sts: KObject, refs: OwnerReference[], pod: KObject | undefined, condemned: boolean): OwnerReference[] {
  const policy = specOf(sts).persistentVolumeClaimRetentionPolicy ?? {};
  const setUid = sts.metadata.uid;
  const podUid = pod?.metadata.uid;
  const podNamePrefix = `${sts.metadata.name}-`;
  // Keep references we do not manage: anything that is neither this set nor one of its pods
  // (a pod reference left from a scale-down that was undone must not take the claim away).
  const kept = refs.filter((r) => r.uid !== setUid && !(r.kind === 'Pod' && r.name.startsWith(podNamePrefix)));
  const out = [...kept];
  if (condemned && policy.whenScaled === 'Delete' && pod && podUid) {
    out.push({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: podUid });
  } else if (policy.whenDeleted === 'Delete') {
    out.push({ apiVersion: sts.apiVersion ?? 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name!, uid: setUid! });
  }
  return out;
}
