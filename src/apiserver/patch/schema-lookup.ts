// Reading the Kubernetes extensions off a schema node. Both patch flavours walk the
// object and the schema together; an undefined schema means "no type information".

import type { SchemaNode } from '../../api/openapi/types.ts';

/** The schema of `obj[key]`: a named property, else the map's value schema. */
export function childSchema(schema: SchemaNode | undefined, key: string): SchemaNode | undefined {
  if (!schema) return undefined;
  return schema.properties?.[key] ?? schema.additionalProperties;
}

export function itemSchema(schema: SchemaNode | undefined): SchemaNode | undefined {
  return schema?.items;
}

/** A struct field (as opposed to a key of a map[string]T). */
export function isNamedField(schema: SchemaNode | undefined, key: string): boolean {
  return schema?.properties !== undefined && Object.hasOwn(schema.properties, key);
}

// ---- strategic merge patch: the patchStrategy / patchMergeKey struct tags ----

export interface PatchMeta {
  /** "merge" merges lists (by mergeKey for lists of maps); anything else replaces. */
  merge: boolean;
  /** The whole value is replaced, never merged (patchStrategy "replace"). */
  replace: boolean;
  retainKeys: boolean;
  mergeKey: string | undefined;
}

export function patchMeta(schema: SchemaNode | undefined): PatchMeta {
  const strategies = (schema?.['x-kubernetes-patch-strategy'] ?? '').split(',').map((s) => s.trim());
  return {
    merge: strategies.includes('merge'),
    replace: strategies.includes('replace'),
    retainKeys: strategies.includes('retainKeys'),
    mergeKey: schema?.['x-kubernetes-patch-merge-key'],
  };
}

// ---- server-side apply: list-type / map-type ----

export type ListSemantics =
  | { kind: 'associative'; keys: string[] }
  | { kind: 'set' }
  | { kind: 'atomic' };

/**
 * How server-side apply treats a list. `x-kubernetes-list-type` decides; schemas that only
 * carry the older patch tags fall back to them (merge+key = associative, merge = set).
 * Lists without either are atomic, as in Kubernetes.
 */
export function listSemantics(schema: SchemaNode | undefined): ListSemantics {
  const listType = schema?.['x-kubernetes-list-type'];
  const meta = patchMeta(schema);
  if (listType === 'map') {
    const keys = schema?.['x-kubernetes-list-map-keys'] ?? (meta.mergeKey ? [meta.mergeKey] : []);
    return keys.length > 0 ? { kind: 'associative', keys } : { kind: 'atomic' };
  }
  if (listType === 'set') return { kind: 'set' };
  if (listType === 'atomic') return { kind: 'atomic' };
  if (meta.merge && meta.mergeKey) return { kind: 'associative', keys: [meta.mergeKey] };
  if (meta.merge) return { kind: 'set' };
  return { kind: 'atomic' };
}

/** Maps and structs are granular unless marked `x-kubernetes-map-type: atomic`. */
export function isAtomicMap(schema: SchemaNode | undefined): boolean {
  return schema?.['x-kubernetes-map-type'] === 'atomic';
}
