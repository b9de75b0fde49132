// One reconciliation of one Deployment, after Kubernetes' deployment controller
// (sync.go, rolling.go, recreate.go, progress.go): find or create the new ReplicaSet and
// keep revisions in step, scale ReplicaSets (proportionally when replicas change
// mid-rollout), roll forward within maxSurge/maxUnavailable or Recreate, clean up old
// ReplicaSets beyond revisionHistoryLimit, and write status and conditions.
//
// A Rollout holds working copies: every ReplicaSet or Deployment it writes is replaced by
// what the server returned, so later steps in the same sync see their own writes.
import type { KObject } from '../../api/object.ts';
import { jsonEqual } from '../../api/kinds/access.ts';
import { isAlreadyExists, isNotFound, type ResourceInterface } from '../../client/types.ts';
import type { EventRecorder } from '../events.ts';
import { controllerOf, controllerRefFor } from '../replicaset/ownership.ts';
import {
  POD_TEMPLATE_HASH, REASON, REVISION, activeReplicaSets, actualReplicaCount, availableReplicaCount, byCreation,
  byRevision, bySizeNewer, bySizeOlder, computeHash, deploymentComplete, deploymentProgressing, deploymentTimedOut,
  desiredReplicasAnnotation, equalIgnoreHash, findActiveOrLatest, findNewReplicaSet, getCondition, hasProgressDeadline,
  hasRevisionHistoryLimit, isRecreate, isSaturated, maxRevision, maxSurge, maxUnavailable, newCondition,
  newRSNewReplicas, proportion, readyReplicaCount, removeCondition, replicasAnnotationsNeedUpdate, replicasOf,
  rsReplicas, setCondition, setNewReplicaSetAnnotations, setReplicasAnnotations, specReplicaCount,
  type Deployment, type DeploymentStatus, type ReplicaSet,
} from './util.ts';

export const FIELD_MANAGER = 'deployment-controller';

export interface RolloutDeps {
  deployments: ResourceInterface;
  replicaSets: ResourceInterface;
  recorder: EventRecorder;
  now(): number;
  /** Pods of the Deployment by their ReplicaSet's uid (Recreate waits for old ones to go). */
  podsByReplicaSet(): Map<string, KObject[]>;
}

interface Split { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Replace `target`'s contents with `source`'s (a ReplicaSet the server just returned). */
function assign(target: ReplicaSet, source: KObject): void {
  for (const k of Object.keys(target)) delete (target as Record<string, unknown>)[k];
  Object.assign(target, source);
}

function putCount(s: DeploymentStatus, key: keyof DeploymentStatus, n: number): void {
  if (n !== 0) s[key] = n;
}

export class Rollout {
  d: Deployment;
  readonly #deps: RolloutDeps;
  /** Look again after this many milliseconds (progress deadline). */
  requeueAfterMs: number | undefined;

  constructor(d: Deployment, deps: RolloutDeps) {
    this.d = d;
    this.#deps = deps;
  }

  /** Claimed ReplicaSets in, everything reconciled out. */
  async reconcile(rsList: ReplicaSet[]): Promise<void> {
    if (this.d.metadata.deletionTimestamp) return this.#syncStatusOnly(rsList);
    await this.#checkPausedConditions();
    if (this.d.spec.paused) return this.#sync(rsList);
    if (await this.#isScalingEvent(rsList)) return this.#sync(rsList);
    if (isRecreate(this.d)) return this.#rolloutRecreate(rsList);
    return this.#rolloutRolling(rsList);
  }

  // ---- writes -----------------------------------------------------------------------------

  async #writeStatus(status: DeploymentStatus): Promise<void> {
    const next = structuredClone(this.d);
    next.status = status;
    this.d = await this.#deps.deployments.updateStatus(next, { fieldManager: FIELD_MANAGER }) as Deployment;
  }

  /** The Deployment's revision annotation follows its new ReplicaSet's (metadata, so not a status write). */
  async #syncDeploymentRevision(revision: string): Promise<void> {
    if (this.d.metadata.annotations?.[REVISION] === revision) return;
    const next = structuredClone(this.d);
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [REVISION]: revision };
    this.d = await this.#deps.deployments.update(next, { fieldManager: FIELD_MANAGER }) as Deployment;
  }

  async #updateReplicaSet(rs: ReplicaSet, change: (copy: ReplicaSet) => void): Promise<void> {
    const copy = structuredClone(rs);
    change(copy);
    assign(rs, await this.#deps.replicaSets.update(copy, { fieldManager: FIELD_MANAGER }));
  }

  async #scaleReplicaSetAndRecordEvent(rs: ReplicaSet, newScale: number): Promise<boolean> {
    if (rsReplicas(rs) === newScale) return false;
    return this.#scaleReplicaSet(rs, newScale, rsReplicas(rs) < newScale ? 'up' : 'down');
  }

  async #scaleReplicaSet(rs: ReplicaSet, newScale: number, direction: 'up' | 'down' | undefined): Promise<boolean> {
    const desired = replicasOf(this.d);
    const max = desired + maxSurge(this.d);
    const sizeChanges = rsReplicas(rs) !== newScale;
    if (!sizeChanges && !replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
    await this.#updateReplicaSet(rs, (copy) => {
      copy.spec.replicas = newScale;
      setReplicasAnnotations(copy, desired, max);
    });
    if (!sizeChanges) return false;
    const word = direction === 'down' ? 'down' : 'up';
    this.#deps.recorder.event(this.d, 'Normal', 'ScalingReplicaSet', `Scaled ${word} replica set ${rs.metadata.name} to ${newScale}`);
    return true;
  }

  // ---- the new ReplicaSet and revisions -----------------------------------------------------

  async #getAllReplicaSetsAndSyncRevision(rsList: ReplicaSet[], createIfMissing: boolean): Promise<Split> {
    const existing = findNewReplicaSet(this.d, rsList);
    const oldRSs = rsList.filter((rs) => rs !== existing);
    const newRS = await this.#getNewReplicaSet(existing, oldRSs, createIfMissing);
    if (newRS && !existing) rsList.push(newRS);
    return { newRS, oldRSs };
  }

  async #getNewReplicaSet(existing: ReplicaSet | undefined, oldRSs: ReplicaSet[], createIfMissing: boolean): Promise<ReplicaSet | undefined> {
    const d = this.d;
    const newRevision = maxRevision(oldRSs) + 1;
    const now = this.#deps.now();
    if (existing) {
      const copy = structuredClone(existing);
      const annotationsChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReadySeconds = d.spec.minReadySeconds ?? 0;
      if (annotationsChanged || (existing.spec.minReadySeconds ?? 0) !== minReadySeconds) {
        await this.#updateReplicaSet(existing, (rs) => {
          rs.metadata.annotations = copy.metadata.annotations;
          rs.spec.minReadySeconds = minReadySeconds;
        });
        // The update's event brings us back to sync the Deployment's revision.
        return existing;
      }
      await this.#syncDeploymentRevision(existing.metadata.annotations?.[REVISION] ?? String(newRevision));
      if (hasProgressDeadline(d) && !getCondition(this.d.status, 'Progressing')) {
        const status = structuredClone(this.d.status ?? {});
        setCondition(status, newCondition('Progressing', 'True', REASON.foundNewRS, `Found new replica set "${existing.metadata.name}"`, now));
        await this.#writeStatus(status);
      }
      return existing;
    }
    if (!createIfMissing) return undefined;

    // A new ReplicaSet: the template labelled with its hash, a selector that includes it.
    const template = structuredClone(d.spec.template ?? {});
    const hash = computeHash(template, d.status?.collisionCount);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash } };
    const selector = structuredClone(d.spec.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        ownerReferences: [controllerRefFor(d)],
        labels: { ...(template.metadata.labels ?? {}) },
      },
      spec: { replicas: 0, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
    };
    const replicas = newRSNewReplicas(d, [...oldRSs, rs], rs);
    rs.spec.replicas = replicas;
    setNewReplicaSetAnnotations(d, rs, newRevision, false);

    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = await this.#deps.replicaSets.create(rs, { fieldManager: FIELD_MANAGER }) as ReplicaSet;
    } catch (err) {
      if (isAlreadyExists(err)) {
        const found = await this.#deps.replicaSets.tryGet(rs.metadata.namespace, rs.metadata.name!) as ReplicaSet | undefined;
        if (found && controllerOf(found)?.uid === d.metadata.uid && equalIgnoreHash(found.spec.template, d.spec.template)) {
          created = found;
          alreadyExisted = true;
        } else {
          // A hash collision: count it, so the next try hashes differently.
          const status = structuredClone(this.d.status ?? {});
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await this.#writeStatus(status).catch(() => {});
          throw err;
        }
      } else {
        const msg = `Failed to create new replica set "${rs.metadata.name}": ${errorMessage(err)}`;
        if (hasProgressDeadline(d)) {
          const status = structuredClone(this.d.status ?? {});
          setCondition(status, newCondition('Progressing', 'False', REASON.failedRSCreate, msg, now));
          await this.#writeStatus(status).catch(() => {});
        }
        this.#deps.recorder.event(this.d, 'Warning', REASON.failedRSCreate, msg);
        throw err;
      }
    }
    if (!alreadyExisted && replicas > 0) {
      this.#deps.recorder.event(this.d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} to ${replicas}`);
    }
    await this.#syncDeploymentRevision(String(newRevision));
    if (!alreadyExisted && hasProgressDeadline(d)) {
      const status = structuredClone(this.d.status ?? {});
      setCondition(status, newCondition('Progressing', 'True', REASON.newRSCreated, `Created new replica set "${created.metadata.name}"`, now));
      await this.#writeStatus(status);
    }
    return created;
  }

  // ---- scaling (paused, or replicas changed) -------------------------------------------------

  /** A ReplicaSet with replicas whose desired-replicas annotation is not the Deployment's replicas. */
  async #isScalingEvent(rsList: ReplicaSet[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.#getAllReplicaSetsAndSyncRevision(rsList, false);
    for (const rs of activeReplicaSets([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired !== undefined && desired !== replicasOf(this.d)) return true;
    }
    return false;
  }

  async #sync(rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.#getAllReplicaSetsAndSyncRevision(rsList, false);
    await this.#scale(newRS, oldRSs);
    if (this.d.spec.paused) await this.#cleanup(oldRSs);
    await this.#syncDeploymentStatus([...oldRSs, newRS], newRS);
  }

  async #scale(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const d = this.d;
    const replicas = replicasOf(d);
    // One ReplicaSet with replicas (or none: the newest) takes the whole count.
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (rsReplicas(activeOrLatest) !== replicas) await this.#scaleReplicaSetAndRecordEvent(activeOrLatest, replicas);
      return;
    }
    // The new ReplicaSet is saturated: old ones go to zero.
    if (isSaturated(d, newRS)) {
      for (const old of activeReplicaSets(oldRSs)) await this.#scaleReplicaSetAndRecordEvent(old, 0);
      return;
    }
    if (isRecreate(d)) return;
    // Mid-rollout: spread the change over the active ReplicaSets in proportion to their size.
    const all = activeReplicaSets([...oldRSs, newRS]);
    const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
    const toAdd = allowed - specReplicaCount(all);
    let direction: 'up' | 'down' | undefined;
    if (toAdd > 0) { all.sort(bySizeNewer); direction = 'up'; }
    if (toAdd < 0) { all.sort(bySizeOlder); direction = 'down'; }
    let added = 0;
    const sizes = new Map<ReplicaSet, number>();
    for (const rs of all) {
      if (toAdd !== 0) {
        const p = proportion(rs, d, toAdd, added);
        sizes.set(rs, rsReplicas(rs) + p);
        added += p;
      } else {
        sizes.set(rs, rsReplicas(rs));
      }
    }
    for (const [i, rs] of all.entries()) {
      // Leftovers go to the largest ReplicaSet.
      if (i === 0 && toAdd !== 0) sizes.set(rs, Math.max(0, sizes.get(rs)! + toAdd - added));
      await this.#scaleReplicaSet(rs, sizes.get(rs)!, direction);
    }
  }

  // ---- rolling update ---------------------------------------------------------------------

  async #rolloutRolling(rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.#getAllReplicaSetsAndSyncRevision(rsList, true);
    const all = [...oldRSs, newRS];
    if (newRS && await this.#reconcileNewReplicaSet(all, newRS)) return this.#syncRolloutStatus(all, newRS);
    if (newRS && await this.#reconcileOldReplicaSets(all, activeReplicaSets(oldRSs), newRS)) return this.#syncRolloutStatus(all, newRS);
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.#cleanup(oldRSs);
    return this.#syncRolloutStatus(all, newRS);
  }

  async #reconcileNewReplicaSet(all: (ReplicaSet | undefined)[], newRS: ReplicaSet): Promise<boolean> {
    const replicas = replicasOf(this.d);
    if (rsReplicas(newRS) === replicas) return false;
    if (rsReplicas(newRS) > replicas) return this.#scaleReplicaSetAndRecordEvent(newRS, replicas);
    return this.#scaleReplicaSetAndRecordEvent(newRS, newRSNewReplicas(this.d, all, newRS));
  }

  async #reconcileOldReplicaSets(all: (ReplicaSet | undefined)[], oldRSs: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
    if (specReplicaCount(oldRSs) === 0) return false;
    const minAvailable = replicasOf(this.d) - maxUnavailable(this.d);
    const newUnavailable = rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = specReplicaCount(all) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // Unhealthy old replicas first: they would otherwise block the rollout.
    const cleaned = await this.#cleanupUnhealthyReplicas(oldRSs, maxScaledDown);
    const scaled = await this.#scaleDownOldForRollingUpdate([...oldRSs, newRS], oldRSs);
    return cleaned + scaled > 0;
  }

  async #cleanupUnhealthyReplicas(oldRSs: ReplicaSet[], maxCleanup: number): Promise<number> {
    let total = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (total >= maxCleanup) break;
      const available = rs.status?.availableReplicas ?? 0;
      if (rsReplicas(rs) === 0 || rsReplicas(rs) === available) continue;
      const n = Math.min(maxCleanup - total, rsReplicas(rs) - available);
      await this.#scaleReplicaSetAndRecordEvent(rs, rsReplicas(rs) - n);
      total += n;
    }
    return total;
  }

  async #scaleDownOldForRollingUpdate(all: ReplicaSet[], oldRSs: ReplicaSet[]): Promise<number> {
    const minAvailable = replicasOf(this.d) - maxUnavailable(this.d);
    const available = availableReplicaCount(all);
    if (available <= minAvailable) return 0;
    const budget = available - minAvailable;
    let total = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (total >= budget) break;
      if (rsReplicas(rs) === 0) continue;
      const n = Math.min(rsReplicas(rs), budget - total);
      await this.#scaleReplicaSetAndRecordEvent(rs, rsReplicas(rs) - n);
      total += n;
    }
    return total;
  }

  // ---- recreate ---------------------------------------------------------------------------

  async #rolloutRecreate(rsList: ReplicaSet[]): Promise<void> {
    let { newRS, oldRSs } = await this.#getAllReplicaSetsAndSyncRevision(rsList, false);
    let all = [...oldRSs, newRS];
    let scaledDown = false;
    for (const rs of activeReplicaSets(oldRSs)) if (await this.#scaleReplicaSetAndRecordEvent(rs, 0)) scaledDown = true;
    if (scaledDown) return this.#syncRolloutStatus(all, newRS);
    // Not one old pod may still run (or be terminating) when new ones start.
    if (this.#oldPodsRunning(newRS, oldRSs)) return this.#syncRolloutStatus(all, newRS);
    if (!newRS) {
      ({ newRS, oldRSs } = await this.#getAllReplicaSetsAndSyncRevision(rsList, true));
      all = [...oldRSs, newRS];
    }
    if (newRS) await this.#scaleReplicaSetAndRecordEvent(newRS, replicasOf(this.d));
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.#cleanup(oldRSs);
    return this.#syncRolloutStatus(all, newRS);
  }

  #oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): boolean {
    if (actualReplicaCount(oldRSs) > 0) return true;
    for (const [uid, pods] of this.#deps.podsByReplicaSet()) {
      if (newRS && newRS.metadata.uid === uid) continue;
      for (const pod of pods) {
        const phase = (pod.status as { phase?: string } | undefined)?.phase;
        if (phase !== 'Succeeded' && phase !== 'Failed') return true;
      }
    }
    return false;
  }

  // ---- history ------------------------------------------------------------------------------

  /** Deletes the oldest old ReplicaSets with nothing left in them, beyond revisionHistoryLimit. */
  async #cleanup(oldRSs: ReplicaSet[]): Promise<void> {
    if (!hasRevisionHistoryLimit(this.d)) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - this.d.spec.revisionHistoryLimit!;
    if (diff <= 0) return;
    cleanable.sort(byRevision);
    for (const rs of cleanable.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || rsReplicas(rs) !== 0) continue;
      if ((rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.#deps.replicaSets.delete(rs.metadata.namespace, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  // ---- status -------------------------------------------------------------------------------

  #calculateStatus(all: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): DeploymentStatus {
    const d = this.d;
    const available = availableReplicaCount(all);
    const s: DeploymentStatus = {};
    putCount(s, 'observedGeneration', d.metadata.generation ?? 0);
    putCount(s, 'replicas', actualReplicaCount(all));
    putCount(s, 'updatedReplicas', actualReplicaCount([newRS]));
    putCount(s, 'readyReplicas', readyReplicaCount(all));
    putCount(s, 'availableReplicas', available);
    putCount(s, 'unavailableReplicas', Math.max(0, specReplicaCount(all) - available));
    if (d.status?.collisionCount !== undefined) s.collisionCount = d.status.collisionCount;
    if (d.status?.conditions?.length) s.conditions = d.status.conditions.map((c) => ({ ...c }));
    const now = this.#deps.now();
    if (available >= replicasOf(d) - maxUnavailable(d)) {
      setCondition(s, newCondition('Available', 'True', REASON.minAvailable, 'Deployment has minimum availability.', now));
    } else {
      setCondition(s, newCondition('Available', 'False', REASON.minUnavailable, 'Deployment does not have minimum availability.', now));
    }
    return s;
  }

  async #syncStatusOnly(rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.#getAllReplicaSetsAndSyncRevision(rsList, false);
    await this.#syncDeploymentStatus([...oldRSs, newRS], newRS);
  }

  async #syncDeploymentStatus(all: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = this.#calculateStatus(all, newRS);
    if (jsonEqual(this.d.status ?? {}, status)) return;
    await this.#writeStatus(status);
  }

  /** Status plus the Progressing condition: complete, progressing, or past its deadline. */
  async #syncRolloutStatus(all: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const d = this.d;
    const now = this.#deps.now();
    const status = this.#calculateStatus(all, newRS);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = getCondition(d.status, 'Progressing');
    const complete = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === REASON.newRSAvailable;
    if (hasProgressDeadline(d) && !complete) {
      const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
      if (deploymentComplete(d, status)) {
        setCondition(status, newCondition('Progressing', 'True', REASON.newRSAvailable, `${subject} has successfully progressed.`, now));
      } else if (deploymentProgressing(d, status)) {
        const c = newCondition('Progressing', 'True', REASON.rsUpdated, `${subject} is progressing.`, now);
        // Progress moves lastUpdateTime even when the reason stays the same.
        if (current) {
          if (current.status === 'True') c.lastTransitionTime = current.lastTransitionTime;
          removeCondition(status, 'Progressing');
        }
        setCondition(status, c);
      } else if (deploymentTimedOut(d, status, now)) {
        setCondition(status, newCondition('Progressing', 'False', REASON.timedOut, `${subject} has timed out progressing.`, now));
      }
    }
    // The new ReplicaSet's failure first, else any old one's.
    const failure = [newRS, ...all].flatMap((rs) => rs?.status?.conditions ?? []).find((c) => c.type === 'ReplicaFailure');
    if (failure) {
      setCondition(status, { type: 'ReplicaFailure', status: 'True', lastUpdateTime: failure.lastTransitionTime, lastTransitionTime: failure.lastTransitionTime, reason: failure.reason, message: failure.message });
    } else {
      removeCondition(status, 'ReplicaFailure');
    }
    if (jsonEqual(d.status ?? {}, status)) {
      this.#requeueIfStuck(status, now);
      return;
    }
    await this.#writeStatus(status);
  }

  /** While a rollout is unfinished, look again when its progress deadline passes. */
  #requeueIfStuck(status: DeploymentStatus, now: number): void {
    const c = getCondition(status, 'Progressing');
    if (!hasProgressDeadline(this.d) || !c || deploymentComplete(this.d, status) || c.reason === REASON.timedOut) return;
    const from = Date.parse(c.lastUpdateTime ?? '');
    if (Number.isNaN(from)) return;
    const after = from + this.d.spec.progressDeadlineSeconds! * 1000 - now;
    this.requeueAfterMs = after < 1000 ? Math.max(after, 0) + 100 : after + 1000;
  }

  // ---- paused -------------------------------------------------------------------------------

  async #checkPausedConditions(): Promise<void> {
    const d = this.d;
    if (!hasProgressDeadline(d)) return;
    const c = getCondition(d.status, 'Progressing');
    if (c?.reason === REASON.timedOut) return;
    const pausedCondition = c?.reason === REASON.paused;
    const status = structuredClone(d.status ?? {});
    const now = this.#deps.now();
    if (d.spec.paused && !pausedCondition) {
      setCondition(status, newCondition('Progressing', 'Unknown', REASON.paused, 'Deployment is paused', now));
    } else if (!d.spec.paused && pausedCondition) {
      setCondition(status, newCondition('Progressing', 'Unknown', REASON.resumed, 'Deployment is resumed', now));
    } else {
      return;
    }
    await this.#writeStatus(status);
  }
}
