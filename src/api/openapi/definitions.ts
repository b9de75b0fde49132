// The definitions as served: generated/definitions.json (from client-node) with the
// hand-written patch metadata merged in. Loaded once, on first use.

import { readFileSync } from 'node:fs';
import { FIELD_PATCH_METADATA, TYPE_PATCH_METADATA } from './patch-metadata.ts';
import type { PatchMetadata } from './patch-metadata.ts';

/** An OpenAPI v3 schema as it appears in a document: refs are `#/components/schemas/...`. */
export type JsonSchema = { [key: string]: unknown };

export const SCHEMA_REF_PREFIX = '#/components/schemas/';

export class PatchMetadataMismatchError extends Error {
  constructor(readonly definition: string, readonly property?: string) {
    super(property === undefined
      ? `patch metadata names definition ${definition}, which is not generated`
      : `patch metadata names ${definition}.${property}, which has no such property`);
    this.name = 'PatchMetadataMismatchError';
  }
}

let cache: ReadonlyMap<string, JsonSchema> | undefined;

/** All definitions by name, patch metadata included. */
export function definitions(): ReadonlyMap<string, JsonSchema> {
  if (!cache) {
    const raw = JSON.parse(readFileSync(new URL('./generated/definitions.json', import.meta.url), 'utf8')) as Record<string, JsonSchema>;
    cache = applyPatchMetadata(raw, FIELD_PATCH_METADATA, TYPE_PATCH_METADATA, false);
  }
  return cache;
}

export function definition(name: string): JsonSchema | undefined {
  return definitions().get(name);
}

/**
 * Returns a copy of `defs` with the extensions merged in. With `strict`, a table entry
 * naming a missing definition or property throws (the tests run it that way); at
 * runtime a stale entry is skipped so one typo can't stop the server.
 */
export function applyPatchMetadata(
  defs: Record<string, JsonSchema>,
  fields: Record<string, Record<string, PatchMetadata>>,
  types: Record<string, PatchMetadata>,
  strict: boolean,
): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>(Object.entries(defs));
  for (const [name, ext] of Object.entries(types)) {
    const def = out.get(name);
    if (!def) { if (strict) throw new PatchMetadataMismatchError(name); continue; }
    out.set(name, { ...def, ...ext });
  }
  for (const [name, props] of Object.entries(fields)) {
    const def = out.get(name);
    if (!def) { if (strict) throw new PatchMetadataMismatchError(name); continue; }
    const properties = { ...(def.properties as Record<string, JsonSchema> | undefined) };
    for (const [prop, ext] of Object.entries(props)) {
      const current = properties[prop];
      if (!current) { if (strict) throw new PatchMetadataMismatchError(name, prop); continue; }
      // A bare $ref can't carry siblings in OpenAPI 3.0; wrap it in allOf first.
      properties[prop] = typeof current.$ref === 'string'
        ? { allOf: [{ $ref: current.$ref }], ...ext }
        : { ...current, ...ext };
    }
    out.set(name, { ...def, properties });
  }
  return out;
}

/** Names of the definitions a schema refers to directly ($ref anywhere inside it). */
export function collectRefs(schema: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(schema)) {
    for (const item of schema) collectRefs(item, into);
  } else if (schema !== null && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(SCHEMA_REF_PREFIX)) into.add(value.slice(SCHEMA_REF_PREFIX.length));
      else collectRefs(value, into);
    }
  }
  return into;
}

/** The named definitions plus everything they reach. */
export function refClosure(roots: Iterable<string>): Set<string> {
  const defs = definitions();
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name) || !defs.has(name)) continue;
    seen.add(name);
    for (const ref of collectRefs(defs.get(name), new Set())) if (!seen.has(ref)) queue.push(ref);
  }
  return seen;
}
