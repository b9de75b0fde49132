// The common write, recorded without decoding anyone's fields: a manager rewriting fields
// it already owns (a Lease renewal, a node's status heartbeat, a pod's status). Ownership
// then does not move; only the writer's entry gets a new time. Decoding every entry into
// field sets and encoding them back (what updateManagedFields does otherwise) was most of
// the cost of such a write; here the changed paths are looked up in the stored fieldsV1.
import type { ManagedFieldsEntry } from '../../api/object.ts';
import type { FieldSet } from './field-set.ts';
import { jsonEqual } from './json.ts';
import { compareManagers, sameManager, toSecondPrecision, type Manager } from './managed-fields.ts';

/**
 * The entries after the write, or undefined when the fast path does not apply and the
 * full bookkeeping must run. Applies only when the entries are the stored ones unchanged
 * (so they are canonical: written by encodeManagedFields), the writer has an entry of its
 * own owning every changed path, nothing was removed, and no other entry owns a changed
 * path. `entries` must be the caller's own copy: it is changed and returned.
 */
export function withUnchangedOwnership(
  entries: ManagedFieldsEntry[], stored: readonly ManagedFieldsEntry[] | undefined,
  me: Omit<Manager, 'fields'>, changed: FieldSet, removed: FieldSet, now: string,
): ManagedFieldsEntry[] | undefined {
  if (!removed.isEmpty() || !stored || entries.length !== stored.length || !jsonEqual(entries, stored)) return undefined;
  let mine: ManagedFieldsEntry | undefined;
  for (const e of entries) {
    if (e.fieldsType !== 'FieldsV1' || !e.fieldsV1 || typeof e.manager !== 'string' || !e.operation) return undefined;
    if (sameManager(asManager(e), me)) {
      if (mine) return undefined; // not canonical
      mine = e;
    }
  }
  if (!mine || (!changed.isEmpty() && mine.time === undefined)) return undefined;
  for (const path of changed.paths()) {
    if (!isMember(mine.fieldsV1!, path)) return undefined;
    for (const e of entries) if (e !== mine && isMember(e.fieldsV1!, path)) return undefined;
  }
  if (!changed.isEmpty()) {
    mine.time = toSecondPrecision(now);
    entries.sort((a, b) => compareManagers(asManager(a), asManager(b)));
  }
  return entries;
}

function asManager(e: ManagedFieldsEntry): Omit<Manager, 'fields'> {
  const m: Omit<Manager, 'fields'> = { manager: e.manager ?? '', operation: e.operation === 'Apply' ? 'Apply' : 'Update' };
  if (e.apiVersion !== undefined) m.apiVersion = e.apiVersion;
  if (e.time !== undefined) m.time = e.time;
  if (e.subresource) m.subresource = e.subresource;
  return m;
}

/** Whether fieldsV1 holds `path` itself (a node with "." or with nothing under it). */
function isMember(fieldsV1: Record<string, unknown>, path: readonly string[]): boolean {
  let node: unknown = fieldsV1;
  for (const element of path) {
    if (typeof node !== 'object' || node === null) return false;
    node = (node as Record<string, unknown>)[element];
    if (node === undefined) return false;
  }
  if (typeof node !== 'object' || node === null) return false;
  const keys = Object.keys(node);
  return keys.length === 0 || keys.includes('.');
}
