// The generic shape of a Kubernetes object as the server handles it: plain JSON.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** A frozen empty object and array, for values that may be shared (they cannot change). */
export const EMPTY_OBJECT: Readonly<Record<string, never>> = Object.freeze({});
export const EMPTY_ARRAY: readonly never[] = Object.freeze([]);

/**
 * Freezes a JSON value and everything in it (children first, so a frozen object's
 * children are frozen too, and an already frozen value is not walked again). Short
 * strings in it are shared with other frozen values (sharedString).
 *
 * Objects are not shared, not even empty ones: code copies frozen objects with
 * structuredClone, which keeps two references to one object as two references to one
 * copy, and the copy's `labels` and `annotations` would become the same object.
 */
export function deepFreeze<T>(v: T): T {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = frozenChild(v[i]);
  } else {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = frozenChild(o[k]);
  }
  return Object.freeze(v);
}

function frozenChild(v: unknown): unknown {
  return typeof v === 'string' ? sharedString(v) : deepFreeze(v);
}

/**
 * JSON.parse makes a new string for every value; in a cached pod ~70% of them repeat
 * across pods ("default-scheduler", "ClusterFirst", a timestamp shared by every pod written
 * that second), and at 150,000 cached pods each copy is one more object for every full GC
 * to mark. Short ones are looked up here and the first copy is kept instead. The table
 * starts over when full, so it stays small and a value only costs one lookup.
 */
let strings = new Map<string, string>();
const MAX_SHARED_STRING = 96;
const MAX_SHARED_STRINGS = 50_000;

function sharedString(s: string): string {
  if (s.length > MAX_SHARED_STRING) return s;
  const seen = strings.get(s);
  if (seen !== undefined) return seen;
  if (strings.size >= MAX_SHARED_STRINGS) strings = new Map();
  strings.set(s, s);
  return s;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Oldest first (creationTimestamp), then by namespace/name: who came first wins a conflict. */
export function olderFirst(a: KObject, b: KObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
