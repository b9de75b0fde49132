// Turns one client-node model into an OpenAPI v3 schema shaped as Kubernetes serves it.
// client-node flattens a few apimachinery types (Quantity, Time, FieldsV1) into plain
// strings/objects; the tables here put the real references back.

import type { Model, ModelAttribute } from './client-node-models.ts';
import { FIELDS_V1, INT_OR_STRING, MICRO_TIME, QUANTITY, RAW_EXTENSION, TIME } from './definition-names.ts';

/** A schema as written to definitions.json and served in documents (refs unresolved). */
export type JsonSchema = { [key: string]: unknown };

/** Fields whose values (or map values) are resource.Quantity; client-node types them as string. */
const QUANTITY_FIELDS = new Set([
  'V1ResourceRequirements.limits', 'V1ResourceRequirements.requests',
  'V1VolumeResourceRequirements.limits', 'V1VolumeResourceRequirements.requests',
  'V1ContainerStatus.allocatedResources',
  'V1LimitRangeItem.default', 'V1LimitRangeItem.defaultRequest', 'V1LimitRangeItem.max',
  'V1LimitRangeItem.maxLimitRequestRatio', 'V1LimitRangeItem.min',
  'V1NodeStatus.allocatable', 'V1NodeStatus.capacity',
  'V1PodSpec.overhead', 'V1Overhead.podFixed',
  'V1PersistentVolumeClaimStatus.allocatedResources', 'V1PersistentVolumeClaimStatus.capacity',
  'V1PersistentVolumeSpec.capacity',
  'V1ResourceQuotaSpec.hard', 'V1ResourceQuotaStatus.hard', 'V1ResourceQuotaStatus.used',
  'V1EmptyDirVolumeSource.sizeLimit',
]);

/** Fields client-node types as `any` that Kubernetes declares as a named raw type. */
const RAW_FIELDS: Record<string, string> = {
  'V1ManagedFieldsEntry.fieldsV1': FIELDS_V1,
  'V1ControllerRevision.data': RAW_EXTENSION,
  'V1WatchEvent.object': RAW_EXTENSION,
};

export function refTo(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

export interface SchemaContext {
  /** client-node class name → definition name, for every class being emitted. */
  names: ReadonlyMap<string, string>;
}

export function modelToSchema(model: Model, ctx: SchemaContext): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const attr of model.attributes) {
    properties[attr.jsonName] = attributeSchema(model.className, attr, ctx);
    if (attr.required) required.push(attr.jsonName);
  }
  const schema: JsonSchema = {};
  if (model.description) schema.description = model.description;
  schema.properties = properties;
  if (required.length > 0) schema.required = required;
  schema.type = 'object';
  return schema;
}

function attributeSchema(className: string, attr: ModelAttribute, ctx: SchemaContext): JsonSchema {
  const key = `${className}.${attr.jsonName}`;
  const raw = RAW_FIELDS[key];
  let schema: JsonSchema;
  if (raw) schema = refTo(raw);
  else schema = typeSchema(attr.type, attr.format, ctx, QUANTITY_FIELDS.has(key));
  if (!attr.description) return schema;
  // A $ref cannot carry siblings in OpenAPI 3.0; Kubernetes wraps it in allOf to add one.
  if (schema.$ref) return { allOf: [schema], description: attr.description };
  return { description: attr.description, ...schema };
}

/** Schema for a client-node type string; `quantity` marks string leaves as Quantity. */
export function typeSchema(type: string, format: string, ctx: SchemaContext, quantity = false): JsonSchema {
  const t = type.trim();
  const array = /^Array<(.*)>$/.exec(t);
  if (array) return { items: typeSchema(array[1]!, format, ctx, quantity), type: 'array' };
  const map = /^\{\s*\[key: string\]:\s*(.*?);?\s*\}$/.exec(t);
  if (map) return { additionalProperties: typeSchema(map[1]!, format, ctx, quantity), type: 'object' };
  switch (t) {
    case 'string':
      if (quantity) return refTo(QUANTITY);
      return format ? { format, type: 'string' } : { type: 'string' };
    case 'number':
      if (format === 'int32' || format === 'int64') return { format, type: 'integer' };
      return format ? { format, type: 'number' } : { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'Date':
      return refTo(format === 'date-time-micro' ? MICRO_TIME : TIME);
    case 'V1MicroTime': // a type name without a class behind it
      return refTo(MICRO_TIME);
    case 'IntOrString':
      return refTo(INT_OR_STRING);
    case 'any':
    case 'object':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  }
  const name = ctx.names.get(t);
  if (!name) throw new Error(`no definition name for client-node type ${JSON.stringify(type)}`);
  return refTo(name);
}

/** The apimachinery types client-node has no class for, in Kubernetes' own shape. */
export function builtinDefinitions(): Record<string, JsonSchema> {
  return {
    [QUANTITY]: {
      description: 'Quantity is a fixed-point number with an optional SI or binary suffix, such as "100m", "1.5Gi" or "2". Written as a string in JSON; plain numbers are accepted too.',
      oneOf: [{ type: 'string' }, { type: 'number' }],
    },
    [INT_OR_STRING]: {
      description: 'IntOrString holds either an int32 or a string, and is written as that inner value in JSON and YAML, so a field can take a port number or a port name.',
      format: 'int-or-string',
      oneOf: [{ type: 'integer' }, { type: 'string' }],
    },
    [TIME]: {
      description: 'Time is a timestamp written as an RFC 3339 string with second precision.',
      format: 'date-time',
      type: 'string',
    },
    [MICRO_TIME]: {
      description: 'MicroTime is a timestamp written as an RFC 3339 string with microsecond precision.',
      format: 'date-time',
      type: 'string',
    },
    [FIELDS_V1]: {
      description: 'FieldsV1 is the set of fields a manager owns, in the JSON "fieldsV1" trie format used by server-side apply.',
      type: 'object',
    },
    [RAW_EXTENSION]: {
      description: 'RawExtension holds an embedded object of any kind, kept as the JSON it was written in.',
      type: 'object',
    },
    [`io.k8s.apimachinery.pkg.apis.meta.v1.Patch`]: {
      description: 'Patch names the body of a PATCH request: a JSON patch, a merge patch, a strategic merge patch or an apply configuration, depending on the content type.',
      type: 'object',
    },
  };
}
