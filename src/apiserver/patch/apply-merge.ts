// Merging an apply configuration into the live object, by the schema's apply semantics:
// structs and granular maps merge key by key, associative lists merge item by item on
// their keys, sets are unioned, atomic lists and maps are replaced. A null in the
// configuration clears the field.

import type { SchemaNode } from '../../api/openapi/types.ts';
import { cloneJson, isPlainObject } from './json.ts';
import type { JsonObject } from './json.ts';
import { elementOf, nameListItems } from './list-elements.ts';
import { childSchema, isAtomicMap, itemSchema, listSemantics } from './schema-lookup.ts';
import type { ListSemantics } from './schema-lookup.ts';

export function mergeApplied(live: unknown, applied: unknown, schema: SchemaNode | undefined): unknown {
  if (isPlainObject(applied)) {
    if (isAtomicMap(schema)) return withoutNulls(applied);
    const result: JsonObject = isPlainObject(live) ? { ...live } : {};
    for (const [key, value] of Object.entries(applied)) {
      if (value === null) delete result[key];
      else result[key] = mergeApplied(result[key], value, childSchema(schema, key));
    }
    return result;
  }
  if (Array.isArray(applied)) {
    const semantics = listSemantics(schema);
    if (semantics.kind === 'atomic' || !Array.isArray(live)) {
      return semantics.kind === 'atomic' ? cloneJson(applied) : mergeList([], applied, semantics, itemSchema(schema));
    }
    return mergeList(live, applied, semantics, itemSchema(schema));
  }
  return applied;
}

function withoutNulls(obj: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null).map(([k, v]) => [k, cloneJson(v)]));
}

/**
 * Items come out in the configuration's order; live items the configuration does not
 * mention stay where they were relative to the others.
 */
function mergeList(live: unknown[], applied: unknown[], semantics: ListSemantics, schema: SchemaNode | undefined): unknown[] {
  const appliedItems = nameListItems(applied, semantics, true);
  const appliedElements = new Set(appliedItems.map((n) => n.element));
  const liveElements = live.map((item) => elementOf(item, semantics));
  const liveByElement = new Map<string, unknown>();
  liveElements.forEach((element, i) => {
    if (element !== undefined && !liveByElement.has(element)) liveByElement.set(element, live[i]);
  });

  const result: unknown[] = [];
  const emitted = new Set<string>();
  let i = 0;
  let j = 0;
  while (i < live.length || j < appliedItems.length) {
    if (i < live.length) {
      const element = liveElements[i];
      if (element === undefined || !appliedElements.has(element)) {
        result.push(live[i++]);
        continue;
      }
      if (emitted.has(element)) {
        i++;
        continue;
      }
    }
    const next = appliedItems[j++];
    if (!next) {
      i++;
      continue;
    }
    result.push(semantics.kind === 'set' ? next.item : mergeApplied(liveByElement.get(next.element), next.item, schema));
    emitted.add(next.element);
  }
  return result;
}
