// Checks a decoded object against a resolved schema the way the API server's strict
// decoder does: fields the schema doesn't know, and values of the wrong JSON type. It
// runs on every write, so the walk keeps one path stack per call and only builds path
// strings when it has something to report.

import { goTypeOf } from './resolve.ts';
import type { SchemaNode } from './types.ts';

export interface FieldTypeError {
  /** e.g. spec.containers[0].ports[0].containerPort */
  field: string;
  /** Worded like the Go JSON decoder's error, which Kubernetes passes on. */
  message: string;
}

export interface SchemaValidationResult {
  /** Paths such as spec.containers[0].imagePullPolicyy, reported as `unknown field "..."`. */
  unknownFields: string[];
  typeErrors: FieldTypeError[];
}

export interface ValidateOptions {
  /** Prepended to every reported path, e.g. "spec" when validating only a spec. */
  pathPrefix?: string;
}

/** Fields every top-level object may carry, whatever its schema says. */
const ALWAYS_KNOWN_AT_TOP = new Set(['apiVersion', 'kind', 'metadata']);

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";
const QUANTITY_SHAPE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const QUANTITY_SUFFIX = /^(?:|[numkMGTPE]|[KMGTPE]i|[eE][+-]?[0-9]+)$/;
const DECIMAL_NUMBER = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/;

/** Segment kinds on the path stack. */
const FIELD = 0;
const INDEX = 1;
const MAP_KEY = 2;

class Walk {
  readonly unknownFields: string[] = [];
  readonly typeErrors: FieldTypeError[] = [];
  readonly segs: (string | number)[] = [];
  readonly kinds: number[] = [];
  depth = 0;

  constructor(readonly prefix: string) {}

  push(seg: string | number, kind: number): void {
    this.segs[this.depth] = seg;
    this.kinds[this.depth] = kind;
    this.depth++;
  }

  /** The JSON-style path of the current position: spec.containers[0].name */
  path(): string {
    let out = this.prefix;
    for (let i = 0; i < this.depth; i++) {
      const seg = this.segs[i]!;
      if (this.kinds[i] === INDEX) out += `[${seg}]`;
      else out += out === '' ? String(seg) : `.${seg}`;
    }
    return out;
  }

  /** The path as Go's decoder names it: struct fields only, no indexes or map keys. */
  goPath(): string {
    let out = this.prefix.replace(/\[[^\]]*\]/g, '');
    for (let i = 0; i < this.depth; i++) {
      if (this.kinds[i] !== FIELD) continue;
      out += out === '' ? String(this.segs[i]) : `.${this.segs[i]}`;
    }
    return out;
  }

  typeError(value: unknown, expected: SchemaNode, owner: SchemaNode | undefined, goType = goTypeFor(expected)): void {
    const struct = owner ? structName(owner) : undefined;
    const where = struct && this.depth > 0 ? `Go struct field ${struct}.${this.goPath()}` : 'Go value';
    this.typeErrors.push({ field: this.path(), message: `json: cannot unmarshal ${jsonKind(value, goType)} into ${where} of type ${goType}` });
  }

  plainError(message: string): void {
    this.typeErrors.push({ field: this.path(), message });
  }
}

export function validateAgainstSchema(obj: unknown, schema: SchemaNode, opts: ValidateOptions = {}): SchemaValidationResult {
  const walk = new Walk(opts.pathPrefix ?? '');
  visit(walk, obj, schema, undefined, true);
  return { unknownFields: walk.unknownFields, typeErrors: walk.typeErrors };
}

/**
 * Checks `value` against `node`. `owner` is the innermost struct schema whose field
 * holds the value (Go names it in type errors); `top` marks the object's root.
 */
function visit(walk: Walk, value: unknown, node: SchemaNode, owner: SchemaNode | undefined, top: boolean): void {
  // Go's decoder accepts null for any field and leaves it at its zero value.
  if (value === null || value === undefined) return;
  if (node['x-kubernetes-preserve-unknown-fields'] || node['x-kubernetes-embedded-resource']) return;
  if (node['x-kubernetes-int-or-string']) {
    if (node.format === 'quantity') checkQuantity(walk, value);
    else checkIntOrString(walk, value, node, owner);
    return;
  }
  switch (node.type) {
    case 'string':
      if (typeof value !== 'string') walk.typeError(value, node, owner);
      else if (node.format === 'byte') checkBase64(walk, value);
      return;
    case 'integer':
      if (typeof value !== 'number' || !fitsInteger(value, node.format)) walk.typeError(value, node, owner);
      return;
    case 'number':
      if (typeof value !== 'number') walk.typeError(value, node, owner);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') walk.typeError(value, node, owner);
      return;
    case 'array': {
      if (!Array.isArray(value)) { walk.typeError(value, node, owner); return; }
      const items = node.items;
      if (!items) return;
      for (let i = 0; i < value.length; i++) {
        walk.push(i, INDEX);
        visit(walk, value[i], items, owner, false);
        walk.depth--;
      }
      return;
    }
    default:
      if (node.type !== 'object' && !node.properties && !node.additionalProperties) return;
      if (typeof value !== 'object' || Array.isArray(value)) { walk.typeError(value, node, owner); return; }
      visitObject(walk, value as Record<string, unknown>, node, owner, top);
  }
}

function visitObject(walk: Walk, value: Record<string, unknown>, node: SchemaNode, owner: SchemaNode | undefined, top: boolean): void {
  const props = node.properties;
  const extra = node.additionalProperties;
  if (!props && !extra) return; // a free-form object
  for (const key in value) {
    const prop = props !== undefined && Object.hasOwn(props, key) ? props[key] : undefined;
    if (prop !== undefined) {
      walk.push(key, FIELD);
      visit(walk, value[key], prop, node, false);
      walk.depth--;
    } else if (extra !== undefined) {
      walk.push(key, MAP_KEY);
      visit(walk, value[key], extra, owner, false);
      walk.depth--;
    } else if (!(top && ALWAYS_KNOWN_AT_TOP.has(key))) {
      walk.push(key, FIELD);
      walk.unknownFields.push(walk.path());
      walk.depth--;
    }
  }
}

function fitsInteger(value: number, format: string | undefined): boolean {
  if (!Number.isInteger(value)) return false;
  if (format === 'int32') return value >= INT32_MIN && value <= INT32_MAX;
  return Number.isSafeInteger(value);
}

function checkIntOrString(walk: Walk, value: unknown, node: SchemaNode, owner: SchemaNode | undefined): void {
  if (typeof value === 'string') return;
  // IntOrString decodes anything unquoted as an int32 and reports that type.
  if (typeof value !== 'number' || !fitsInteger(value, 'int32')) walk.typeError(value, node, owner, 'int32');
}

function checkQuantity(walk: Walk, value: unknown): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) walk.plainError(QUANTITY_FORMAT_ERROR);
    return;
  }
  if (typeof value !== 'string') { walk.plainError(QUANTITY_FORMAT_ERROR); return; }
  const text = value.trim();
  const m = QUANTITY_SHAPE.exec(text);
  if (!m || !DECIMAL_NUMBER.test(m[1]!)) walk.plainError(QUANTITY_FORMAT_ERROR);
  else if (!QUANTITY_SUFFIX.test(m[2]!)) walk.plainError(QUANTITY_SUFFIX_ERROR);
}

/** Standard base64 with padding, as Go decodes []byte fields; CR and LF are skipped. */
function checkBase64(walk: Walk, value: string): void {
  let n = 0;
  let padding = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 10 || c === 13) continue;
    const isData = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (c === 61 && n % 4 >= 2 && padding < 2) { padding++; n++; continue; }
    if (!isData || padding > 0) { walk.plainError(`illegal base64 data at input byte ${i}`); return; }
    n++;
  }
  if (n % 4 !== 0) walk.plainError(`illegal base64 data at input byte ${value.length}`);
}

function jsonKind(value: unknown, goType: string): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'array';
  // Go names the number when it is a number that doesn't fit the integer type.
  if (typeof value === 'number') return /^u?int/.test(goType) ? `number ${value}` : 'number';
  return 'object';
}

function goTypeFor(node: SchemaNode): string {
  const named = goTypeOf(node);
  if (named && node.type === 'object' && node.properties) return named;
  if (node['x-kubernetes-int-or-string']) return 'int32';
  switch (node.type) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'number': return 'float64';
    case 'integer': return node.format === 'int32' ? 'int32' : 'int64';
    case 'array': return `[]${node.items ? goTypeFor(node.items) : 'interface {}'}`;
    default:
      if (node.additionalProperties) return `map[string]${goTypeFor(node.additionalProperties)}`;
      return named ?? 'map[string]interface {}';
  }
}

function structName(node: SchemaNode): string {
  const named = goTypeOf(node);
  return named ? named.slice(named.lastIndexOf('.') + 1) : 'Object';
}
