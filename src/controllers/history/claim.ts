// Claiming pods (Kubernetes' ControllerRefManager): a controller owns the pods whose
// controller reference names it; it adopts orphans its selector matches and releases
// owned pods its selector no longer matches. Writes are plain updates, so a concurrent
// change makes them fail with a conflict and the sync retries.
import type { KObject } from '../../api/object.ts';
import { byNamespace } from '../../client/cache.ts';
import type { Informer } from '../../client/informer.ts';
import type { ResourceInterface } from '../../client/types.ts';
import { isConflict, isNotFound } from '../../client/types.ts';
import { selectorMatches, type LabelSelector } from '../../api/validation/index.ts';
import { CONTROLLER_UID_INDEX, byControllerUid, controllerRefOf, controllerRefTo } from './revision.ts';

export const NAMESPACE_INDEX = 'history/namespace';

/** The indexers claimPods needs on the pod informer. */
export const POD_INDEXERS = { [CONTROLLER_UID_INDEX]: byControllerUid, [NAMESPACE_INDEX]: byNamespace };

/**
 * The owner's pods after adopting and releasing: cached objects for pods already owned,
 * the updated objects for pods just adopted. A pod that could not be adopted is left out.
 */
export async function claimPods(api: ResourceInterface, pods: Informer, owner: KObject, selector: LabelSelector): Promise<KObject[]> {
  const uid = owner.metadata.uid!;
  const out: KObject[] = [];
  for (const pod of pods.byIndex(CONTROLLER_UID_INDEX, uid)) {
    if (selectorMatches(selector, pod.metadata.labels) || pod.metadata.deletionTimestamp) { out.push(pod); continue; }
    await release(api, pod, uid);
  }
  if (owner.metadata.deletionTimestamp) return out;
  for (const pod of pods.byIndex(NAMESPACE_INDEX, owner.metadata.namespace!)) {
    if (controllerRefOf(pod) || pod.metadata.deletionTimestamp || !selectorMatches(selector, pod.metadata.labels)) continue;
    const copy = structuredClone(pod);
    copy.metadata.ownerReferences = [...(copy.metadata.ownerReferences ?? []), controllerRefTo(owner)];
    try {
      out.push(await api.update(copy));
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
  return out;
}

async function release(api: ResourceInterface, pod: KObject, uid: string): Promise<void> {
  const copy = structuredClone(pod);
  copy.metadata.ownerReferences = (copy.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
  try {
    await api.update(copy);
  } catch (err) {
    if (!isNotFound(err) && !isConflict(err)) throw err;
  }
}
