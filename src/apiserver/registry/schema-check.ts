// fieldValidation: what happens to fields the kind's schema does not know.
// Strict rejects them (400), Warn keeps going with a Warning header, Ignore drops them
// silently. Unknown fields are always dropped before storing, as Kubernetes' decoder does.
// Type mismatches are a 400 whatever the mode.
import type { KObject } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import type { SchemaNode } from '../../api/openapi/types.ts';
import { schemaForKind, validateAgainstSchema } from '../../api/openapi/index.ts';
import { badRequest } from '../errors.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function checkSchema(r: ResourceInfo, obj: KObject, mode: FieldValidation, warnings?: string[]): void {
  const schema = schemaForKind(r.group, r.version, r.kind);
  if (!schema) return;
  const { unknownFields, typeErrors } = validateAgainstSchema(obj, schema);
  if (typeErrors.length) {
    const detail = typeErrors.map((e) => e.message).join(', ');
    throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ${detail}`);
  }
  if (!unknownFields.length) return;
  if (mode === 'Strict') {
    throw badRequest(`strict decoding error: ${unknownFields.map((f) => `unknown field "${f}"`).join(', ')}`);
  }
  if (mode === 'Warn') for (const f of unknownFields) warnings?.push(`unknown field "${f}"`);
  pruneUnknown(obj, schema);
}

/** Removes, in place, every field the schema does not describe. */
export function pruneUnknown(value: unknown, schema: SchemaNode | undefined): void {
  if (!schema || schema['x-kubernetes-preserve-unknown-fields'] || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) pruneUnknown(item, schema.items);
    return;
  }
  const record = value as Record<string, unknown>;
  if (schema.properties) {
    for (const key of Object.keys(record)) {
      const child = schema.properties[key];
      if (child) pruneUnknown(record[key], child);
      else if (!isTopLevelKnown(key, schema)) delete record[key];
    }
  } else if (schema.additionalProperties) {
    for (const key of Object.keys(record)) pruneUnknown(record[key], schema.additionalProperties);
  }
}

function isTopLevelKnown(key: string, schema: SchemaNode): boolean {
  return Boolean(schema['x-kubernetes-group-version-kind']) && (key === 'apiVersion' || key === 'kind' || key === 'metadata');
}
