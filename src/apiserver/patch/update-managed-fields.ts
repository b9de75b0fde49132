// Ownership bookkeeping for ordinary writes (create, update, every non-apply patch): the
// fields a request changed become owned by its manager in an "Update" entry and stop being
// owned by anyone else. This is what later makes `kubectl apply --server-side` conflict
// with "kubectl-create" or "kubectl-client-side-apply".

import type { KObject, ManagedFieldsEntry } from '../../api/object.ts';
import type { SchemaNode } from '../../api/openapi/types.ts';
import { diffFields } from './field-diff.ts';
import { FieldSet } from './field-set.ts';
import { decodeManagedFields, encodeManagedFields, ownableFields, sameManager, toSecondPrecision } from './managed-fields.ts';
import type { Manager } from './managed-fields.ts';
import { withUnchangedOwnership } from './unchanged-ownership.ts';

export interface UpdateManagedFieldsArgs {
  /** The stored object before the write; undefined on create. */
  old: KObject | undefined;
  /** The object about to be stored; its metadata.managedFields is rewritten in place. */
  updated: KObject;
  manager: string;
  operation: 'Update';
  apiVersion: string;
  now: string;
  subresource?: string;
  /** Without a schema every list is atomic, so ownership of list items is coarse. */
  schema?: SchemaNode | undefined;
}

export function updateManagedFields(args: UpdateManagedFieldsArgs): void {
  const { old, updated, manager, apiVersion, subresource } = args;
  const sent = updated.metadata.managedFields;
  // A client may replace managedFields; `[]` or none keeps the stored ones, `[{}]` clears them.
  if (isResetRequest(sent)) {
    delete updated.metadata.managedFields;
    return;
  }
  const diff = diffFields(ownablePart(old, subresource), ownablePart(updated, subresource), args.schema);
  const changed = ownableFields(diff.changed, subresource);
  const removed = ownableFields(diff.removed, subresource);
  const touched = changed.union(removed);

  const me: Omit<Manager, 'fields'> = { manager, operation: 'Update', apiVersion, ...(subresource ? { subresource } : {}) };
  if (sent && sent.length > 0) {
    const kept = withUnchangedOwnership(sent, old?.metadata.managedFields, me, changed, removed, args.now);
    if (kept) {
      updated.metadata.managedFields = kept;
      return;
    }
  }
  const managers = decodeManagedFields(sent && sent.length > 0 ? sent : old?.metadata.managedFields);
  let mine = managers.find((m) => sameManager(m, me));
  for (const m of managers) if (m !== mine) m.fields = m.fields.difference(touched);
  if (!mine && !changed.isEmpty()) {
    mine = { ...me, fields: new FieldSet() };
    managers.push(mine);
  }
  if (mine) {
    mine.fields = mine.fields.union(changed).difference(removed);
    if (!changed.isEmpty()) mine.time = toSecondPrecision(args.now);
  }

  const encoded = encodeManagedFields(managers);
  if (encoded.length > 0) updated.metadata.managedFields = encoded;
  else delete updated.metadata.managedFields;
}

function isResetRequest(sent: ManagedFieldsEntry[] | undefined): boolean {
  return sent !== undefined && sent.length === 1 && Object.keys(sent[0] ?? {}).length === 0;
}

/**
 * The part of the object a write through this (sub)resource can own; ownableFields would
 * drop the rest of the diff anyway, so it is not compared at all: a status write (say, a
 * node's pod status) compares statuses only, any other write everything but status.
 */
function ownablePart(obj: KObject | undefined, subresource: string | undefined): Record<string, unknown> | undefined {
  if (!obj) return undefined;
  if (subresource === 'status') return { status: obj.status };
  const { status: _status, ...rest } = obj;
  const metadata = { ...obj.metadata };
  delete metadata.managedFields;
  return { ...rest, metadata };
}
