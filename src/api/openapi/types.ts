// The shape of a schema node as the rest of the server walks it: OpenAPI v3 with the
// Kubernetes extensions that patching, apply and validation need. $refs are resolved,
// so a node's properties are nodes too (the graph may be cyclic; walk it lazily).

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export interface SchemaNode {
  type?: SchemaType;
  /** e.g. int32, int64, date-time, byte, int-or-string, quantity */
  format?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  /** Present for maps (map[string]T). */
  additionalProperties?: SchemaNode;
  items?: SchemaNode;
  required?: string[];
  enum?: unknown[];
  /** Strategic merge patch: the key that identifies list items (e.g. "name"). */
  'x-kubernetes-patch-merge-key'?: string;
  /** Strategic merge patch: "merge", "retainKeys", "merge,retainKeys", "replace". */
  'x-kubernetes-patch-strategy'?: string;
  /** Server-side apply: atomic | set | map. */
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}
