// Kubernetes strategic merge patch (application/strategic-merge-patch+json), the patch
// kubectl sends for client-side apply, edit, label, annotate, scale and `patch` by default.
// Like a JSON merge patch, except that the schema's patch tags say how lists merge:
// - patchStrategy "merge" + patchMergeKey: lists of objects merge item by item on the key;
// - patchStrategy "merge" without a key: lists of primitives are unioned;
// - otherwise lists are replaced; patchStrategy "replace" replaces maps too.
// Directives: `$patch: replace|delete|merge` (in a map or a list item), `$retainKeys`,
// `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`. None reach the result.

import type { SchemaNode } from '../../api/openapi/types.ts';
import { orderMergedList } from './element-order.ts';
import type { ItemIdentity } from './element-order.ts';
import { malformed, unprocessable } from './errors.ts';
import { cloneJson, isPlainObject, jsonEqual } from './json.ts';
import type { JsonObject } from './json.ts';
import { applyMergePatch } from './merge-patch.ts';
import { childSchema, itemSchema, patchMeta } from './schema-lookup.ts';

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

/**
 * Applies `patch` to a copy of `doc`. With no schema (an unknown kind) this is a JSON merge
 * patch; Kubernetes would refuse SMP for custom resources with 415, the caller decides that.
 */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, schema: SchemaNode | undefined): unknown {
  if (!schema) return applyMergePatch(doc, patch);
  if (!isPlainObject(patch)) throw malformed('strategic merge patch must be a JSON object');
  const original = isPlainObject(doc) ? cloneJson(doc) : {};
  return mergeMap(original, patch, schema);
}

function isDirectiveKey(key: string): boolean {
  return key === PATCH || key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE_LIST);
}

/** Merges `patch` into `original`, which is a private copy and is changed in place. */
function mergeMap(original: JsonObject, patch: JsonObject, schema: SchemaNode | undefined): JsonObject {
  const directive = patch[PATCH];
  if (directive !== undefined) {
    if (directive === 'delete') return {};
    if (directive === 'replace') return mergeMap({}, withoutKey(patch, PATCH), schema);
    if (directive !== 'merge') throw malformed(`unknown patch type ${JSON.stringify(directive)} in ${PATCH} directive`);
  }

  applyRetainKeys(original, patch);

  // Lists named by $setElementOrder are reordered after merging, against their old order.
  const elementOrders = new Map<string, unknown[]>();
  const listsBeforeMerge = new Map<string, unknown[]>();
  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const field = directiveField(key, SET_ELEMENT_ORDER);
    if (!Array.isArray(value)) throw malformed(`${key} must be a list`);
    elementOrders.set(field, value);
    const current = original[field];
    listsBeforeMerge.set(field, Array.isArray(current) ? [...current] : []);
  }

  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue;
    const field = directiveField(key, DELETE_FROM_PRIMITIVE_LIST);
    if (!Array.isArray(value)) throw malformed(`${key} must be a list`);
    const current = original[field];
    if (Array.isArray(current)) original[field] = current.filter((item) => !value.some((gone) => jsonEqual(gone, item)));
  }

  for (const [key, value] of Object.entries(patch)) {
    if (isDirectiveKey(key)) continue;
    if (value === null) {
      delete original[key];
      continue;
    }
    original[key] = mergeValue(original[key], value, childSchema(schema, key));
  }

  for (const [field, order] of elementOrders) {
    const merged = original[field];
    if (!Array.isArray(merged)) continue;
    const fieldSchema = childSchema(schema, field);
    const mergeKey = patchMeta(fieldSchema).mergeKey;
    validateElementOrder(patch[field], order, mergeKey, field);
    original[field] = reorder(merged, order, listsBeforeMerge.get(field) ?? [], identityFor(mergeKey));
  }
  return original;
}

function withoutKey(obj: JsonObject, key: string): JsonObject {
  const copy = { ...obj };
  delete copy[key];
  return copy;
}

function directiveField(key: string, prefix: string): string {
  const field = key.slice(prefix.length);
  if (field === '') throw malformed(`directive ${JSON.stringify(key)} names no field`);
  return field;
}

/** `$retainKeys`: keys of the original not listed are cleared; the patch may only set listed keys. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS];
  if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string')) throw malformed(`${RETAIN_KEYS} must be a list of field names`);
  const keep = new Set<string>(retain);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || isDirectiveKey(key)) continue;
    if (!keep.has(key)) throw malformed(`field ${JSON.stringify(key)} is set by the patch but missing from ${RETAIN_KEYS}`);
  }
  for (const key of Object.keys(original)) if (!keep.has(key)) delete original[key];
}

function mergeValue(original: unknown, patch: unknown, schema: SchemaNode | undefined): unknown {
  const meta = patchMeta(schema);
  if (isPlainObject(patch)) {
    if (isPlainObject(original) && !meta.replace) return mergeMap(original, patch, schema);
    return mergeMap({}, patch, schema);
  }
  if (Array.isArray(patch)) {
    if (meta.merge) return mergeList(Array.isArray(original) ? original : [], patch, itemSchema(schema), meta.mergeKey);
    return patch.map((item) => cleanValue(item, itemSchema(schema)));
  }
  return patch;
}

/** A value taken from the patch as it is, minus directives and nulls (nothing to merge with). */
function cleanValue(value: unknown, schema: SchemaNode | undefined): unknown {
  return mergeValue(undefined, value, schema);
}

function identityFor(mergeKey: string | undefined): ItemIdentity {
  return mergeKey ? (item) => (isPlainObject(item) ? item[mergeKey] : undefined) : (item) => item;
}

function mergeList(original: unknown[], patch: unknown[], schema: SchemaNode | undefined, mergeKey: string | undefined): unknown[] {
  if (original.length === 0 && patch.length === 0) return [];
  const hasObjects = patch.some(isPlainObject) || original.some(isPlainObject);
  if (!hasObjects) return mergePrimitiveList(original, patch);
  if (!mergeKey) throw unprocessable('cannot merge lists of objects without a patch merge key');
  return mergeKeyedList(original, patch, schema, mergeKey);
}

/** Union of the two lists, without duplicates. */
function mergePrimitiveList(original: unknown[], patch: unknown[]): unknown[] {
  const merged: unknown[] = [];
  for (const item of [...original, ...patch]) {
    if (Array.isArray(item) || isPlainObject(item)) throw unprocessable('a merged list of primitives cannot hold objects or lists');
    if (!merged.some((seen) => jsonEqual(seen, item))) merged.push(item);
  }
  const inPatch = (item: unknown): boolean => patch.some((p) => jsonEqual(p, item));
  const id: ItemIdentity = (item) => item;
  return orderMergedList(merged.filter(inPatch), merged.filter((item) => !inPatch(item)), patch, original, id);
}

function mergeKeyedList(original: unknown[], patch: unknown[], schema: SchemaNode | undefined, mergeKey: string): unknown[] {
  const keyOf = (item: JsonObject, where: string): unknown => {
    if (!Object.hasOwn(item, mergeKey)) throw unprocessable(`${where} list item does not contain declared merge key: ${mergeKey}`);
    return item[mergeKey];
  };

  let server = [...original];
  const regular: JsonObject[] = [];
  let replace = false;
  for (const item of patch) {
    if (!isPlainObject(item)) throw malformed('items of a list merged by key must be objects');
    const directive = item[PATCH];
    if (directive === undefined) regular.push(item);
    else if (directive === 'delete') {
      const key = keyOf(item, 'patch');
      server = server.filter((existing) => !(isPlainObject(existing) && jsonEqual(existing[mergeKey], key)));
    } else if (directive === 'replace') replace = true;
    else if (directive === 'merge') throw malformed('merging lists cannot yet be specified in the patch');
    else throw malformed(`unknown patch type ${JSON.stringify(directive)} in ${PATCH} directive`);
  }
  if (replace) return regular.map((item) => mergeMap({}, item, schema));

  const merged = [...server];
  const patchKeys: unknown[] = [];
  for (const item of regular) {
    const key = keyOf(item, 'patch');
    patchKeys.push(key);
    const at = merged.findIndex((existing) => isPlainObject(existing) && jsonEqual(existing[mergeKey], key));
    const existing = at >= 0 ? merged[at] : undefined;
    const value = mergeMap(isPlainObject(existing) ? existing : {}, item, schema);
    if (at >= 0) merged[at] = value;
    else merged.push(value);
  }
  const id = identityFor(mergeKey);
  const inPatch = (item: unknown): boolean => patchKeys.some((k) => jsonEqual(k, id(item)));
  return orderMergedList(merged.filter(inPatch), merged.filter((item) => !inPatch(item)), regular, server, id);
}

/** `$setElementOrder/<field>`: listed items in the listed order, server-only items interleaved. */
function reorder(merged: unknown[], order: unknown[], before: unknown[], id: ItemIdentity): unknown[] {
  const listed = (item: unknown): boolean => order.some((o) => jsonEqual(id(o), id(item)));
  return orderMergedList(merged.filter(listed), merged.filter((item) => !listed(item)), order, before, id);
}

/** The patch list must follow the $setElementOrder list (deleted items aside), as Kubernetes checks. */
function validateElementOrder(patchList: unknown, order: unknown[], mergeKey: string | undefined, field: string): void {
  if (mergeKey && !order.every((o) => isPlainObject(o) && Object.hasOwn(o, mergeKey))) {
    throw malformed(`${SET_ELEMENT_ORDER}${field}: every item must carry the merge key ${mergeKey}`);
  }
  if (!Array.isArray(patchList)) return;
  const id = identityFor(mergeKey);
  const items = patchList.filter((item) => !(isPlainObject(item) && item[PATCH] !== undefined));
  let next = 0;
  for (const o of order) if (next < items.length && jsonEqual(id(items[next]), id(o))) next++;
  if (next < items.length) throw malformed(`the order in patch list ${field} doesn't match ${SET_ELEMENT_ORDER}${field} list`);
}
