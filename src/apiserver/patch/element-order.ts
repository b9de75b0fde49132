// List ordering after a strategic merge, as Kubernetes does it: items named by the patch
// (or by its $setElementOrder directive) follow the patch's order; items only the server
// had keep their server order and are interleaved where the server order places them.
// Note the consequence (also true of Kubernetes): without $setElementOrder, a new item
// that the server never had goes before the server-only items.

import { jsonEqual } from './json.ts';

/** What identifies an item: its merge key value, or the value itself for primitives. */
export type ItemIdentity = (item: unknown) => unknown;

export function orderMergedList(
  patchItems: unknown[],
  serverOnlyItems: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  id: ItemIdentity,
): unknown[] {
  const position = (list: unknown[], item: unknown): number => {
    const wanted = id(item);
    return list.findIndex((candidate) => jsonEqual(id(candidate), wanted));
  };
  const right = sortByPosition(patchItems, (item) => position(patchOrder, item));
  const left = sortByPosition(serverOnlyItems, (item) => position(serverOrder, item));

  const result: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (j >= right.length) result.push(left[i++]);
    else if (i >= left.length) result.push(right[j++]);
    else {
      // A server-only item goes first only when the server order puts it before the patch item.
      const l = position(serverOrder, left[i]);
      const r = position(serverOrder, right[j]);
      if (l >= 0 && r >= 0 && l < r) result.push(left[i++]);
      else result.push(right[j++]);
    }
  }
  return result;
}

/** Stable sort by a position; items without one (-1) keep their relative order at the end. */
function sortByPosition(items: unknown[], positionOf: (item: unknown) => number): unknown[] {
  return items
    .map((item, index) => ({ item, index, at: positionOf(item) }))
    .sort((a, b) => {
      const pa = a.at < 0 ? Number.MAX_SAFE_INTEGER : a.at;
      const pb = b.at < 0 ? Number.MAX_SAFE_INTEGER : b.at;
      return pa - pb || a.index - b.index;
    })
    .map((entry) => entry.item);
}
