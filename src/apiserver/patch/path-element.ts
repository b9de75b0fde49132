// Path elements as they appear in managedFields (fieldsV1):
//   f:<name>        a field of a struct or a key of a map
//   k:<json object> an associative-list item, by its key fields, e.g. k:{"name":"nginx"}
//   v:<json value>  a set item, e.g. v:"example.com/finalizer"
//   i:<index>       a list item by position (only for lists Kubernetes cannot key)

import { isPlainObject } from './json.ts';
import type { JsonObject } from './json.ts';

export const fieldElement = (name: string): string => `f:${name}`;
export const valueElement = (value: unknown): string => `v:${JSON.stringify(value)}`;

/**
 * The k: element of an associative-list item. Key fields go in sorted order; absent key
 * fields are left out. Returns undefined when the item has none of its keys.
 */
export function keyElement(item: JsonObject, keys: string[]): string | undefined {
  const present = [...keys].sort().filter((k) => Object.hasOwn(item, k) && item[k] !== null);
  if (present.length === 0) return undefined;
  const keyObject: JsonObject = {};
  for (const k of present) keyObject[k] = item[k];
  return `k:${JSON.stringify(keyObject)}`;
}

/** `.spec.containers[name="nginx"].image`, as Kubernetes prints field paths in conflicts. */
export function formatPath(path: readonly string[]): string {
  return path.map(formatElement).join('');
}

function formatElement(element: string): string {
  const kind = element.slice(0, 2);
  const rest = element.slice(2);
  if (kind === 'f:') return `.${rest}`;
  if (kind === 'i:') return `[${rest}]`;
  if (kind === 'v:') return `[=${rest}]`;
  if (kind === 'k:') {
    try {
      const parsed: unknown = JSON.parse(rest);
      if (isPlainObject(parsed)) {
        return `[${Object.entries(parsed).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
      }
    } catch {
      // fall through: show the raw element
    }
  }
  return `[${element}]`;
}

/** Sort order of elements in serialized field sets: fields, then keys, values, indices. */
export function compareElements(a: string, b: string): number {
  const rank = (e: string): number => ['f:', 'k:', 'v:', 'i:'].indexOf(e.slice(0, 2));
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}
