// Turns the served definitions into the resolved SchemaNode graph the server walks:
// every $ref replaced by the node of the definition it names (one node per definition,
// so the graph may be cyclic), and Kubernetes' special scalars (IntOrString, Quantity)
// turned into the flags validation and patching read.

import { SCHEMA_REF_PREFIX, definitions } from './definitions.ts';
import type { JsonSchema } from './definitions.ts';
import type { SchemaNode, SchemaType } from './types.ts';

interface Graph {
  byName: Map<string, SchemaNode>;
  /** Go type name ("v1.PodSpec") of each definition node, for decode-style messages. */
  goNames: WeakMap<SchemaNode, string>;
  byGvk: Map<string, SchemaNode>;
}

let graph: Graph | undefined;

const COPIED_KEYS = [
  'description', 'format', 'enum',
  'x-kubernetes-patch-merge-key', 'x-kubernetes-patch-strategy', 'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-group-version-kind',
] as const;

const SCHEMA_TYPES = new Set<string>(['object', 'array', 'string', 'integer', 'number', 'boolean']);

/** The resolved graph of all definitions, built on first use. */
function resolvedGraph(): Graph {
  if (graph) return graph;
  const defs = definitions();
  const byName = new Map<string, SchemaNode>();
  for (const name of defs.keys()) byName.set(name, {});
  // Nodes that are a definition plus extras of their own (an allOf-wrapped ref with a
  // description or patch extensions). Filled last, once every definition node is.
  const pending: { node: SchemaNode; target: SchemaNode; extras: SchemaNode }[] = [];

  const toNode = (schema: JsonSchema): SchemaNode => {
    const ref = refName(schema);
    if (ref !== undefined) {
      const target = byName.get(ref);
      if (!target) throw new Error(`definition ${ref} is referenced but missing`);
      const extras = copyScalars(schema, {});
      if (Object.keys(extras).length === 0) return target;
      const node: SchemaNode = {};
      pending.push({ node, target, extras });
      return node;
    }
    return fill(schema, {});
  };

  const fill = (schema: JsonSchema, node: SchemaNode): SchemaNode => {
    copyScalars(schema, node);
    if (typeof schema.type === 'string' && SCHEMA_TYPES.has(schema.type)) node.type = schema.type as SchemaType;
    if (Array.isArray(schema.required)) node.required = schema.required as string[];
    if (schema.properties && typeof schema.properties === 'object') {
      const properties: Record<string, SchemaNode> = {};
      for (const [key, value] of Object.entries(schema.properties as Record<string, JsonSchema>)) properties[key] = toNode(value);
      node.properties = properties;
    }
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') node.additionalProperties = toNode(schema.additionalProperties as JsonSchema);
    if (schema.items && typeof schema.items === 'object') node.items = toNode(schema.items as JsonSchema);
    const oneOf = Array.isArray(schema.oneOf) ? (schema.oneOf as JsonSchema[]).map((s) => s.type) : undefined;
    if (oneOf?.includes('integer') && oneOf.includes('string')) {
      // IntOrString
      node['x-kubernetes-int-or-string'] = true;
      node.format ??= 'int-or-string';
    } else if (oneOf?.includes('number') && oneOf.includes('string')) {
      // resource.Quantity: a string like "500m", or a plain number
      node['x-kubernetes-int-or-string'] = true;
      node.format = 'quantity';
    }
    // An object with no declared fields (FieldsV1, RawExtension) holds arbitrary JSON.
    if (node.type === 'object' && !node.properties && !node.additionalProperties) node['x-kubernetes-preserve-unknown-fields'] = true;
    return node;
  };

  const goNames = new WeakMap<SchemaNode, string>();
  const byGvk = new Map<string, SchemaNode>();
  for (const [name, schema] of defs) {
    const node = fill(schema, byName.get(name)!);
    goNames.set(node, goTypeName(name));
    for (const gvk of node['x-kubernetes-group-version-kind'] ?? []) byGvk.set(gvkKey(gvk.group, gvk.version, gvk.kind), node);
  }
  for (const { node, target, extras } of pending) {
    Object.assign(node, target, extras);
    goNames.set(node, goNames.get(target)!);
  }
  graph = { byName, goNames, byGvk };
  return graph;
}

function refName(schema: JsonSchema): string | undefined {
  let ref = schema.$ref;
  if (ref === undefined && Array.isArray(schema.allOf) && schema.allOf.length === 1) ref = (schema.allOf[0] as JsonSchema).$ref;
  return typeof ref === 'string' && ref.startsWith(SCHEMA_REF_PREFIX) ? ref.slice(SCHEMA_REF_PREFIX.length) : undefined;
}

function copyScalars(schema: JsonSchema, node: SchemaNode): SchemaNode {
  const target = node as Record<string, unknown>;
  for (const key of COPIED_KEYS) if (schema[key] !== undefined) target[key] = schema[key];
  return node;
}

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/** io.k8s.api.core.v1.PodSpec → v1.PodSpec, as Go prints the type. */
function goTypeName(definition: string): string {
  const parts = definition.split('.');
  return parts.slice(-2).join('.');
}

/** The resolved schema of a top-level kind, or undefined when none is known. */
export function schemaForKind(group: string, version: string, kind: string): SchemaNode | undefined {
  return resolvedGraph().byGvk.get(gvkKey(group, version, kind));
}

/** The resolved schema of a definition by its full name (io.k8s.api.core.v1.Container). */
export function schemaForDefinition(name: string): SchemaNode | undefined {
  return resolvedGraph().byName.get(name);
}

/** Go type name of a resolved definition node ("v1.Container"), if it is one. */
export function goTypeOf(node: SchemaNode): string | undefined {
  return resolvedGraph().goNames.get(node);
}
