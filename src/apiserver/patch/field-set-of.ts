// The fields an object sets, as server-side apply counts them: every leaf value, every
// item of a granular list (the item itself, written "." under its k:/v: element), and
// atomic lists and maps as single leaves. Maps and structs are not members themselves,
// only their contents, which is how an Apply entry in managedFields looks.

import type { SchemaNode } from '../../api/openapi/types.ts';
import { FieldSet } from './field-set.ts';
import { isPlainObject } from './json.ts';
import { nameListItems } from './list-elements.ts';
import { fieldElement } from './path-element.ts';
import { childSchema, isAtomicMap, itemSchema, listSemantics } from './schema-lookup.ts';

export function fieldSetOf(obj: unknown, schema: SchemaNode | undefined): FieldSet {
  const set = new FieldSet();
  if (isPlainObject(obj)) collect(obj, schema, [], set);
  return set;
}

function collect(value: unknown, schema: SchemaNode | undefined, path: string[], set: FieldSet): void {
  if (isPlainObject(value) && !isAtomicMap(schema)) {
    const entries = Object.entries(value);
    if (entries.length === 0 && path.length > 0) set.insert(path);
    for (const [key, child] of entries) collect(child, childSchema(schema, key), [...path, fieldElement(key)], set);
    return;
  }
  if (Array.isArray(value)) {
    const semantics = listSemantics(schema);
    if (semantics.kind === 'atomic' || value.length === 0) {
      set.insert(path);
      return;
    }
    for (const { element, item } of nameListItems(value, semantics, true, path)) {
      const itemPath = [...path, element];
      set.insert(itemPath);
      if (semantics.kind === 'associative') collect(item, itemSchema(schema), itemPath, set);
    }
    return;
  }
  set.insert(path);
}
