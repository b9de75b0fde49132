// Server-side apply (PATCH with application/apply-patch+yaml). The configuration is merged
// into the live object; its field set becomes the manager's "Apply" entry; fields the
// manager applied before and dropped now are removed unless someone else owns them.
// Changing a field another manager owns is a conflict, unless forced, which moves the
// field to this manager.

import type { KObject } from '../../api/object.ts';
import type { SchemaNode } from '../../api/openapi/types.ts';
import { mergeApplied } from './apply-merge.ts';
import { pruneUnowned } from './apply-prune.ts';
import { ApplyConflictError, describeManager, malformed } from './errors.ts';
import type { ApplyConflict } from './errors.ts';
import { diffFields } from './field-diff.ts';
import { FieldSet } from './field-set.ts';
import { fieldSetOf } from './field-set-of.ts';
import { cloneJson, isPlainObject, jsonEqual } from './json.ts';
import { decodeManagedFields, encodeManagedFields, ownableFields, sameManager, toSecondPrecision } from './managed-fields.ts';
import type { Manager } from './managed-fields.ts';
import { formatPath } from './path-element.ts';

export interface ApplyArgs {
  /** The stored object; undefined when the apply creates it. */
  live: KObject | undefined;
  /** The apply configuration as sent (a partial object). */
  applied: KObject;
  manager: string;
  force: boolean;
  schema: SchemaNode | undefined;
  apiVersion: string;
  now: string;
  /** "status" to apply through the status subresource; main resource otherwise. */
  subresource?: string;
}

// Set by the server, never taken from the configuration once the object exists.
const SERVER_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink'];

export function applyServerSide(args: ApplyArgs): KObject {
  const { live, manager, schema, subresource } = args;
  const config = configForSubresource(args.applied, subresource);
  const appliedSet = ownableFields(fieldSetOf(config, schema), subresource);

  const base: KObject = live ? cloneJson(live) : { metadata: {} };
  delete base.metadata.managedFields;
  const merged = cloneJson(mergeApplied(base, config, schema)) as KObject;
  if (live) keepServerMetadata(merged, base);

  const managers = decodeManagedFields(live?.metadata.managedFields);
  const me: Omit<Manager, 'fields'> = { manager, operation: 'Apply', apiVersion: args.apiVersion, ...(subresource ? { subresource } : {}) };
  const previous = managers.find((m) => sameManager(m, me));
  const others = managers.filter((m) => m !== previous);

  const diff = diffFields(base, merged, schema);
  const touched = ownableFields(diff.changed.union(diff.removed), subresource);
  const conflicts = others.flatMap((m) => conflictsWith(m, touched));
  if (conflicts.length > 0 && !args.force) throw new ApplyConflictError(conflicts);
  if (args.force) for (const m of others) m.fields = m.fields.difference(touched);

  const owned = others.reduce((all, m) => all.union(m.fields), appliedSet);
  pruneUnowned(merged, previous?.fields ?? new FieldSet(), owned, schema);

  const unchanged = live !== undefined && previous !== undefined && previous.fields.equals(appliedSet) && previous.apiVersion === args.apiVersion && jsonEqual(merged, base);
  const mine: Manager = { ...me, fields: appliedSet };
  // A no-op apply keeps its old timestamp, so it changes nothing at all.
  const time = unchanged ? previous.time : toSecondPrecision(args.now);
  if (time !== undefined) mine.time = time;

  const entries = encodeManagedFields([...others, mine]);
  if (entries.length > 0) merged.metadata.managedFields = entries;
  return merged;
}

function configForSubresource(applied: KObject, subresource: string | undefined): KObject {
  if (!isPlainObject(applied) || !isPlainObject(applied.metadata)) throw malformed('apply configuration must be an object with metadata');
  if (applied.metadata.managedFields !== undefined && applied.metadata.managedFields !== null) {
    throw malformed('metadata.managedFields must be nil');
  }
  const config = cloneJson(applied);
  if (subresource === 'status') {
    // Through /status only status is applied; identity fields are kept to name the object.
    const { name, namespace } = config.metadata;
    const onlyStatus: KObject = { metadata: { ...(name !== undefined ? { name } : {}), ...(namespace !== undefined ? { namespace } : {}) } };
    if (config.apiVersion !== undefined) onlyStatus.apiVersion = config.apiVersion;
    if (config.kind !== undefined) onlyStatus.kind = config.kind;
    if (config['status'] !== undefined) onlyStatus['status'] = config['status'];
    return onlyStatus;
  }
  // Status is owned through the status subresource; the main resource ignores it.
  delete config['status'];
  return config;
}

function keepServerMetadata(merged: KObject, base: KObject): void {
  for (const key of SERVER_METADATA) {
    if (base.metadata[key] === undefined) delete merged.metadata[key];
    else merged.metadata[key] = base.metadata[key];
  }
}

function conflictsWith(m: Manager, touched: FieldSet): ApplyConflict[] {
  return m.fields.intersection(touched).paths().map((path) => {
    const conflict: ApplyConflict = {
      manager: m.manager,
      operation: m.operation,
      field: formatPath(path),
      message: `conflict with ${describeManager(m)}`,
    };
    if (m.apiVersion !== undefined) conflict.apiVersion = m.apiVersion;
    if (m.subresource) conflict.subresource = m.subresource;
    return conflict;
  });
}
