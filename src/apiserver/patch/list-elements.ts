// Naming the items of granular lists by path element: k:{...} for associative lists,
// v:... for sets. Used to build field sets and to find an item again from its path.

import { unprocessable } from './errors.ts';
import { isPlainObject } from './json.ts';
import type { ListSemantics } from './schema-lookup.ts';
import { formatPath, keyElement, valueElement } from './path-element.ts';

export interface NamedItem {
  element: string;
  item: unknown;
  index: number;
}

/**
 * The path element of each item. `strict` (for an apply configuration) rejects items
 * without keys and duplicates, as Kubernetes does; otherwise (live objects) unkeyed
 * items are named by position and later duplicates are skipped.
 */
export function nameListItems(list: unknown[], semantics: ListSemantics, strict: boolean, where: readonly string[] = []): NamedItem[] {
  const named: NamedItem[] = [];
  const seen = new Set<string>();
  list.forEach((item, index) => {
    let element = elementOf(item, semantics);
    if (element === undefined) {
      if (strict && semantics.kind === 'associative') {
        throw unprocessable(`${formatPath(where) || 'list'}: associative list with keys ${semantics.keys.join(',')} has an element that omits all key fields`);
      }
      element = `i:${index}`;
    }
    if (seen.has(element)) {
      if (strict) throw unprocessable(`${formatPath(where) || 'list'}: duplicate entries for key ${formatPath([element])}`);
      return;
    }
    seen.add(element);
    named.push({ element, item, index });
  });
  return named;
}

export function elementOf(item: unknown, semantics: ListSemantics): string | undefined {
  if (semantics.kind === 'set') return valueElement(item);
  if (semantics.kind === 'associative' && isPlainObject(item)) return keyElement(item, semantics.keys);
  return undefined;
}
