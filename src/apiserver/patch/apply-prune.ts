// Removing what an applier stopped applying: fields in its previous Apply set that are
// not in its new one and that no manager owns any more. A struct field whose contents are
// all gone goes with them (Kubernetes treats named fields as owned along with their
// contents); a map is kept while any of its keys is owned.

import type { SchemaNode } from '../../api/openapi/types.ts';
import type { FieldSet } from './field-set.ts';
import { isPlainObject, jsonEqual } from './json.ts';
import { elementOf } from './list-elements.ts';
import { childSchema, isAtomicMap, isNamedField, itemSchema, listSemantics } from './schema-lookup.ts';

/**
 * Changes `obj` in place. `previous` is the applier's last Apply set; `owned` the union of
 * every manager's set after this apply (the applier's new set included).
 */
export function pruneUnowned(obj: Record<string, unknown>, previous: FieldSet, owned: FieldSet, schema: SchemaNode | undefined): void {
  prune(obj, previous, owned, schema, true, []);
}

function prune(
  container: unknown,
  previous: FieldSet,
  owned: FieldSet | undefined,
  schema: SchemaNode | undefined,
  atRoot: boolean,
  keyFields: readonly string[],
): void {
  for (const [element, previousChild] of previous.children) {
    const ownedChild = owned?.children.get(element);
    const name = element.startsWith('f:') ? element.slice(2) : undefined;
    const elementSchema = name !== undefined ? childSchema(schema, name) : itemSchema(schema);
    // Someone owns this whole value (an atomic list or map): nothing below it goes.
    if (ownedChild?.member && ownedChild.children.size === 0 && isAtomic(elementSchema)) continue;
    if (name !== undefined && keyFields.includes(name)) continue; // an item's key stays with the item
    const isCandidate = previousChild.member || (name !== undefined && isNamedField(schema, name));
    if (!ownedChild && isCandidate && !(atRoot && name === 'metadata')) {
      removeElement(container, element, schema);
      continue;
    }
    const value = getElement(container, element, schema);
    if (value === undefined) continue;
    const semantics = listSemantics(schema);
    const keys = name === undefined && semantics.kind === 'associative' ? semantics.keys : [];
    prune(value, previousChild, ownedChild, elementSchema, false, keys);
  }
}

function isAtomic(schema: SchemaNode | undefined): boolean {
  return isAtomicMap(schema) || (schema?.type === 'array' && listSemantics(schema).kind === 'atomic');
}

function getElement(container: unknown, element: string, schema: SchemaNode | undefined): unknown {
  if (element.startsWith('f:')) return isPlainObject(container) ? container[element.slice(2)] : undefined;
  if (!Array.isArray(container)) return undefined;
  const at = indexOfElement(container, element, schema);
  return at >= 0 ? container[at] : undefined;
}

function removeElement(container: unknown, element: string, schema: SchemaNode | undefined): void {
  if (element.startsWith('f:')) {
    if (isPlainObject(container)) delete container[element.slice(2)];
    return;
  }
  if (!Array.isArray(container)) return;
  const at = indexOfElement(container, element, schema);
  if (at >= 0) container.splice(at, 1);
}

function indexOfElement(list: unknown[], element: string, schema: SchemaNode | undefined): number {
  if (element.startsWith('i:')) {
    const index = Number(element.slice(2));
    return index < list.length ? index : -1;
  }
  if (element.startsWith('v:')) {
    const value: unknown = JSON.parse(element.slice(2));
    return list.findIndex((item) => jsonEqual(item, value));
  }
  const semantics = listSemantics(schema);
  return list.findIndex((item) => elementOf(item, semantics) === element);
}
