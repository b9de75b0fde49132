// RFC 7386 JSON merge patch (application/merge-patch+json): objects merge key by key,
// null deletes, anything else (arrays included) replaces.

import { cloneJson, isPlainObject } from './json.ts';
import type { JsonObject } from './json.ts';

/** `owned`: the caller gives `doc` away (a private copy), so it is changed in place. */
export function applyMergePatch(doc: unknown, patch: unknown, owned = false): unknown {
  return mergeInto(owned ? doc : cloneJson(doc), patch);
}

/** `target` is already a private copy, so it can be changed in place. */
function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return cloneJson(patch);
  const result: JsonObject = isPlainObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergeInto(result[key], value);
  }
  return result;
}
