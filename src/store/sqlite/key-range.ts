// Prefix queries as index ranges: `key >= prefix AND key < prefixEnd(prefix)`.
// SQLite compares TEXT as UTF-8 bytes, and UTF-8 byte order is code point order, so
// bumping the last code point of the prefix gives the first key past the prefix.

const MAX_CODE_POINT = 0x10ffff;
const SURROGATE_START = 0xd800;
const SURROGATE_END = 0xdfff;

/** The smallest string greater than every string starting with `prefix`; undefined when unbounded. */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix, (ch) => ch.codePointAt(0)!);
  while (points.length > 0) {
    let last = points.pop()! + 1;
    // Lone surrogates are not valid UTF-8; skip straight past them.
    if (last >= SURROGATE_START && last <= SURROGATE_END) last = SURROGATE_END + 1;
    if (last <= MAX_CODE_POINT) return String.fromCodePoint(...points, last);
    // The last code point was already the maximum: carry into the one before it.
  }
  return undefined;
}

/** The first key to read for a prefix listing that resumes at `startKey` (inclusive). */
export function rangeStart(prefix: string, startKey?: string): string {
  return startKey !== undefined && compareKeys(startKey, prefix) > 0 ? startKey : prefix;
}

/** Key order as SQLite sees it (code point order), for use outside SQL. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}
