// Objects are stored as JSON text without metadata.resourceVersion; the store's revision
// is the resourceVersion, put back on every read.
import type { KObject } from '../../api/object.ts';
import type { KeyValue } from '../../store/types.ts';

export function decode(kv: KeyValue): KObject {
  const obj = JSON.parse(kv.value) as KObject;
  obj.metadata.resourceVersion = String(kv.modRevision);
  return obj;
}

export function encode(obj: KObject): string {
  const rv = obj.metadata.resourceVersion;
  delete obj.metadata.resourceVersion;
  const text = JSON.stringify(obj);
  if (rv !== undefined) obj.metadata.resourceVersion = rv;
  return text;
}

export function deepClone<T>(v: T): T {
  return structuredClone(v);
}

/** Deep equality for JSON values; key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ak = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
