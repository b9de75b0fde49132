// Small helpers for plain JSON values (what the patch functions take and return).

import { isPlainObject } from '../../api/object.ts';

export { isPlainObject };
export type JsonObject = Record<string, unknown>;

/** Deep copy of a JSON value; primitives (and undefined) are returned as they are. */
export function cloneJson<T>(value: T): T {
  return value === null || typeof value !== 'object' ? value : structuredClone(value);
}

/** Structural equality: object key order does not matter, array order does. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}
