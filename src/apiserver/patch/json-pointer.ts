// RFC 6901 JSON pointers: "/a/b~1c/0" -> ["a", "b/c", "0"]. "" is the whole document.

import { malformed } from './errors.ts';

export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw malformed(`invalid JSON pointer ${JSON.stringify(pointer)}: must be empty or start with "/"`);
  return pointer.slice(1).split('/').map((token) => {
    // ~1 must be decoded before ~0, so that "~01" becomes "~1" and not "/".
    if (/~[^01]|~$/.test(token)) throw malformed(`invalid JSON pointer ${JSON.stringify(pointer)}: bad escape in ${JSON.stringify(token)}`);
    return token.replaceAll('~1', '/').replaceAll('~0', '~');
  });
}

/** An array index token: decimal without leading zeros. Returns undefined when not one. */
export function arrayIndex(token: string): number | undefined {
  return /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : undefined;
}
