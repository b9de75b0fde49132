// Controller references (ownerReferences with controller: true) and the claim step every
// workload controller runs before counting what it owns: keep what it controls and still
// selects, adopt matching orphans, release what it controls but no longer selects.
import type { KObject, OwnerReference } from '../../api/object.ts';
import type { IndexFunc } from '../../client/cache.ts';
import { isNotFound } from '../../client/types.ts';
import { isEmptySelector, selectorMatches, type LabelSelector } from '../../api/validation/index.ts';

export function controllerOf(o: KObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function controllerRefFor(owner: KObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion!, kind: owner.kind!, name: owner.metadata.name!, uid: owner.metadata.uid!,
    controller: true, blockOwnerDeletion: true,
  };
}

export function sameRef(a: OwnerReference | undefined, b: OwnerReference | undefined): boolean {
  return a?.uid === b?.uid && a?.name === b?.name && a?.kind === b?.kind;
}

/** Index value for objects without a controller, per namespace. */
export const orphanIndexValue = (namespace: string | undefined): string => `orphan/${namespace ?? ''}`;

/** Index by namespace (prefixed: other controllers' 'namespace' indexes may use other functions). */
export const NAMESPACE_INDEX = 'skiff.controllers/namespace';

/** Index by controller uid, with orphans filed under orphanIndexValue(namespace). */
export const CONTROLLER_INDEX = 'skiff.controllers/controller-uid';
export const byController: IndexFunc = (o) => [controllerOf(o)?.uid ?? orphanIndexValue(o.metadata.namespace)];

/** Selects nothing when empty or missing (apps/v1 semantics: validation forbids empty). */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  return !!selector && !isEmptySelector(selector) && selectorMatches(selector, labels);
}

export interface ClaimOptions {
  owner: KObject;
  selector: LabelSelector;
  /** Writes the owner's controller reference onto an orphan; returns the object as written. */
  adopt(child: KObject): Promise<KObject>;
  /** Removes the owner's reference from a child. */
  release(child: KObject): Promise<unknown>;
  /** Asked once, before the first adoption: is the owner (by a fresh read) still alive, same uid? */
  canAdopt(): Promise<boolean>;
}

/**
 * The children the owner controls after adopting and releasing. Children controlled by
 * someone else are left alone. Errors other than NotFound are thrown after every child
 * has been tried.
 */
export async function claim(children: KObject[], o: ClaimOptions): Promise<KObject[]> {
  const uid = o.owner.metadata.uid;
  const deleting = !!o.owner.metadata.deletionTimestamp;
  const claimed: KObject[] = [];
  const errors: unknown[] = [];
  let adoptable: Promise<boolean> | undefined;
  for (const child of children) {
    const ref = controllerOf(child);
    const matches = selects(o.selector, child.metadata.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches) { claimed.push(child); continue; }
      if (deleting) continue;
      try { await o.release(child); } catch (err) { if (!isNotFound(err)) errors.push(err); }
      continue;
    }
    if (deleting || !matches || child.metadata.deletionTimestamp) continue;
    if (child.metadata.namespace !== o.owner.metadata.namespace) continue;
    adoptable ??= o.canAdopt();
    if (!(await adoptable)) continue;
    try {
      claimed.push(await o.adopt(child));
    } catch (err) {
      if (!isNotFound(err)) errors.push(err);
    }
  }
  if (errors.length) throw errors[0];
  return claimed;
}

/** A copy of `child` with the owner's controller reference added. */
export function withControllerRef(child: KObject, owner: KObject): KObject {
  const copy = structuredClone(child);
  copy.metadata.ownerReferences = [...(copy.metadata.ownerReferences ?? []), controllerRefFor(owner)];
  return copy;
}

/** A copy of `child` without references to the owner's uid. */
export function withoutRef(child: KObject, ownerUid: string): KObject {
  const copy = structuredClone(child);
  const refs = (copy.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
  if (refs.length) copy.metadata.ownerReferences = refs; else delete copy.metadata.ownerReferences;
  return copy;
}
