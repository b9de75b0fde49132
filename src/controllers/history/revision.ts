// ControllerRevisions as DaemonSets and StatefulSets keep them: each distinct pod template
// is stored once, as the strategic merge patch `{spec: {template: {..., $patch: replace}}}`
// (what `kubectl rollout undo` applies), named `<owner>-<hash>`, numbered by `revision`.
// Pods carry the revision in their `controller-revision-hash` label, which is how the
// controllers tell old pods from new ones.
import type { KObject, OwnerReference } from '../../api/object.ts';
import { jsonEqual } from '../../api/kinds/access.ts';
import type { ResourceInterface } from '../../client/types.ts';
import { isAlreadyExists } from '../../client/types.ts';

export const REVISION_HASH_LABEL = 'controller-revision-hash';

/** Kubernetes' "safe" alphabet for generated suffixes: no vowels, no look-alike digits. */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with object keys sorted, so equal data always hashes equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The revision hash: FNV-32a of the data (and the collision count), safe-encoded like Kubernetes. */
export function hashRevisionData(data: unknown, collisionCount = 0): string {
  const sum = fnv32a(canonicalJson(data) + (collisionCount ? String(collisionCount) : ''));
  return [...String(sum)].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

/** What a revision stores for a workload: its pod template, as a replacing patch. */
export function templatePatch(owner: KObject): Record<string, unknown> {
  const template = structuredClone(((owner.spec ?? {}) as { template?: Record<string, unknown> }).template ?? {});
  return { spec: { template: { ...template, $patch: 'replace' } } };
}

/** The pod template a revision holds (the inverse of templatePatch). */
export function templateOf(revision: KObject): Record<string, unknown> {
  const data = (revision.data ?? {}) as { spec?: { template?: Record<string, unknown> } };
  const { $patch: _p, ...template } = structuredClone(data.spec?.template ?? {});
  return template;
}

export const revisionNumber = (r: KObject): number => (typeof r.revision === 'number' ? r.revision : 0);

/** Oldest first (by revision number, then creation, then name). */
export function sortRevisions(revs: KObject[]): KObject[] {
  return [...revs].sort((a, b) => revisionNumber(a) - revisionNumber(b)
    || (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '')
    || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

export function nextRevisionNumber(revs: KObject[]): number {
  return revs.reduce((max, r) => Math.max(max, revisionNumber(r)), 0) + 1;
}

export function controllerRefTo(owner: KObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion!, kind: owner.kind!, name: owner.metadata.name!, uid: owner.metadata.uid!,
    controller: true, blockOwnerDeletion: true,
  };
}

export function controllerRefOf(obj: KObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** Informer index: the uid of an object's controlling owner. */
export const CONTROLLER_UID_INDEX = 'history/controllerUid';
export const byControllerUid = (obj: KObject): string[] => {
  const ref = controllerRefOf(obj);
  return ref ? [ref.uid] : [];
};

export interface RevisionResult {
  revision: KObject;
  /** The owner's status.collisionCount after hash collisions were stepped over. */
  collisionCount: number;
}

/**
 * The revision for the owner's current template: an existing one with equal data
 * (renumbered to be the newest if it is not, as a rollback does), or a new one.
 * `revisions` are the owner's revisions as the cache has them.
 */
export async function ensureRevision(
  api: ResourceInterface, owner: KObject, revisions: KObject[], collisionCount: number,
): Promise<RevisionResult> {
  const data = templatePatch(owner);
  const next = nextRevisionNumber(revisions);
  const equal = sortRevisions(revisions.filter((r) => jsonEqual(r.data, data)));
  const existing = equal[equal.length - 1];
  if (existing) {
    if (revisionNumber(existing) === next - 1) return { revision: existing, collisionCount };
    const renumbered = structuredClone(existing);
    renumbered.revision = next;
    return { revision: await api.update(renumbered), collisionCount };
  }
  for (let count = collisionCount; ; count++) {
    const hash = hashRevisionData(data, count);
    const template = ((owner.spec ?? {}) as { template?: { metadata?: { labels?: Record<string, string> } } }).template;
    const rev: KObject = {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: {
        name: `${owner.metadata.name}-${hash}`, namespace: owner.metadata.namespace,
        labels: { ...(template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
        ownerReferences: [controllerRefTo(owner)],
      },
      data, revision: next,
    };
    try {
      return { revision: await api.create(rev), collisionCount: count };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // Our own earlier write not yet in the cache, or a true hash collision.
      const found = await api.tryGet(owner.metadata.namespace, rev.metadata.name!);
      if (found && jsonEqual(found.data, data) && controllerRefOf(found)?.uid === owner.metadata.uid) {
        return { revision: found, collisionCount: count };
      }
    }
  }
}

/**
 * Deletes the oldest revisions beyond `limit`, never one in `live` (names the pods or the
 * status still refer to).
 */
export async function truncateHistory(api: ResourceInterface, revisions: KObject[], live: Set<string>, limit: number): Promise<void> {
  const dead = sortRevisions(revisions).filter((r) => !live.has(r.metadata.name!));
  const excess = dead.length - Math.max(0, limit);
  for (const r of dead.slice(0, Math.max(0, excess))) {
    try {
      await api.delete(r.metadata.namespace, r.metadata.name!);
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }
}
