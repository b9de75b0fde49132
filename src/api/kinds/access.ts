// Small readers for plain-JSON objects: the API hands kinds untyped JSON, and these keep
// the per-kind code free of repeated type checks.
import { isPlainObject } from '../object.ts';

export type Json = Record<string, unknown>;

/** The value as an object, or an empty one (never null). */
export const obj = (v: unknown): Json => (isPlainObject(v) ? v : {});
/** The value as an array of objects (non-objects dropped), or []. */
export const objs = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
export const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
export const strMap = (v: unknown): Record<string, string> => obj(v) as Record<string, string>;

/** parent[key] as an object, created (and stored) when missing or not an object. */
export function child(parent: Json, key: string): Json {
  const v = parent[key];
  if (isPlainObject(v)) return v;
  const created: Json = {};
  parent[key] = created;
  return created;
}

/** Sets parent[key] = value only when the key is absent (or null). */
export function setDefault(parent: Json, key: string, value: unknown): void {
  if (parent[key] === undefined || parent[key] === null) parent[key] = value;
}

/** Structural equality of JSON values; keys holding `undefined` count as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

export const clone = <T>(v: T): T => structuredClone(v);
