// Which fields differ between two versions of an object. Used to record what an update
// changed (its manager takes ownership) and to find what an apply would change (owned by
// someone else = a conflict). Whole values that appear or disappear count with every path
// inside them, including the containers themselves (the "." entries of Update records).

import type { SchemaNode } from '../../api/openapi/types.ts';
import { FieldSet } from './field-set.ts';
import { isPlainObject, jsonEqual } from './json.ts';
import { nameListItems } from './list-elements.ts';
import type { NamedItem } from './list-elements.ts';
import { fieldElement } from './path-element.ts';
import { childSchema, isAtomicMap, itemSchema, listSemantics } from './schema-lookup.ts';

export interface FieldDiff {
  /** Paths added or given a new value. */
  changed: FieldSet;
  /** Paths that no longer exist. */
  removed: FieldSet;
}

export function diffFields(before: unknown, after: unknown, schema: SchemaNode | undefined): FieldDiff {
  const diff: FieldDiff = { changed: new FieldSet(), removed: new FieldSet() };
  compare(isPlainObject(before) ? before : {}, isPlainObject(after) ? after : {}, schema, [], diff);
  return diff;
}

function isGranularObject(value: unknown, schema: SchemaNode | undefined): value is Record<string, unknown> {
  return isPlainObject(value) && !isAtomicMap(schema);
}

function granularItems(value: unknown, schema: SchemaNode | undefined): NamedItem[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const semantics = listSemantics(schema);
  return semantics.kind === 'atomic' ? undefined : nameListItems(value, semantics, false);
}

function compare(a: unknown, b: unknown, schema: SchemaNode | undefined, path: string[], diff: FieldDiff): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) return addAll(diff.changed, b, schema, path);
  if (b === undefined) return addAll(diff.removed, a, schema, path);

  if (isGranularObject(a, schema) && isGranularObject(b, schema)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      compare(a[key], b[key], childSchema(schema, key), [...path, fieldElement(key)], diff);
    }
    return;
  }
  const itemsA = granularItems(a, schema);
  const itemsB = granularItems(b, schema);
  if (itemsA && itemsB) {
    const byElementA = new Map(itemsA.map((n) => [n.element, n.item]));
    const byElementB = new Map(itemsB.map((n) => [n.element, n.item]));
    for (const element of new Set([...byElementA.keys(), ...byElementB.keys()])) {
      compare(byElementA.get(element), byElementB.get(element), itemSchema(schema), [...path, element], diff);
    }
    return;
  }
  if (jsonEqual(a, b)) return;
  // A leaf or atomic value changed, or the value changed shape (say, a map became a string).
  diff.changed.insert(path);
  addDescendants(diff.removed, a, schema, path);
  addDescendants(diff.changed, b, schema, path);
}

/** `value` appeared or disappeared at `path`: the path and everything inside it. */
function addAll(set: FieldSet, value: unknown, schema: SchemaNode | undefined, path: string[]): void {
  if (!isStruct(value, schema, path)) set.insert(path);
  addDescendants(set, value, schema, path);
}

// Kubernetes compares against a typed empty object, in which (non-pointer) structs such as
// metadata, spec or a pod template always exist; so structs are never recorded as added
// themselves, only their contents. Maps, lists and list items are.
function isStruct(value: unknown, schema: SchemaNode | undefined, path: string[]): boolean {
  const last = path[path.length - 1] ?? '';
  if (!isPlainObject(value) || !last.startsWith('f:')) return false;
  if (!schema) return path.length === 1;
  return schema.properties !== undefined && schema.additionalProperties === undefined;
}

function addDescendants(set: FieldSet, value: unknown, schema: SchemaNode | undefined, path: string[]): void {
  if (isGranularObject(value, schema)) {
    for (const [key, child] of Object.entries(value)) addAll(set, child, childSchema(schema, key), [...path, fieldElement(key)]);
    return;
  }
  for (const { element, item } of granularItems(value, schema) ?? []) addAll(set, item, itemSchema(schema), [...path, element]);
}
