// The OpenAPI v3 discovery the server publishes: `GET /openapi/v3` lists one document
// per group version, each addressed with a hash of its bytes so clients can cache it
// forever; `GET /openapi/v3/apis/apps/v1` is that document. Built and serialised once.

import { createHash } from 'node:crypto';
import { RESOURCES, groupVersions } from '../scheme.ts';
import type { ResourceInfo } from '../scheme.ts';
import { collectRefs, definitions, refClosure } from './definitions.ts';
import type { JsonSchema } from './definitions.ts';
import { resourcePaths } from './operations.ts';

/** The Kubernetes release whose API these documents describe. */
const API_VERSION = 'v1.32.0';

export class UnknownKindDefinitionError extends Error {
  constructor(readonly group: string, readonly version: string, readonly kind: string) {
    super(`no OpenAPI definition carries group-version-kind ${group}/${version} ${kind}`);
    this.name = 'UnknownKindDefinitionError';
  }
}

export interface DocumentBytes {
  body: Buffer;
  /** Quoted, ready for the ETag header and If-None-Match comparison. */
  etag: string;
  hash: string;
}

let byGvk: Map<string, string> | undefined;
const bytesCache = new Map<string, DocumentBytes | undefined>();

/** Definition name of a kind, found through its x-kubernetes-group-version-kind. */
export function definitionNameForKind(group: string, version: string, kind: string): string | undefined {
  if (!byGvk) {
    byGvk = new Map();
    for (const [name, schema] of definitions()) {
      for (const gvk of (schema['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined) ?? []) {
        byGvk.set(`${gvk.group}/${gvk.version}/${gvk.kind}`, name);
      }
    }
  }
  return byGvk.get(`${group}/${version}/${kind}`);
}

/** "api/v1" for the core group, "apis/apps/v1" otherwise. */
export function groupVersionPath(gv: { group: string; version: string }): string {
  return gv.group === '' ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`;
}

function resourcesAt(path: string): ResourceInfo[] {
  return RESOURCES.filter((r) => groupVersionPath(r) === path);
}

/** The document for one group version, or undefined when none is served there. */
export function openapiV3Document(path: string): object | undefined {
  const resources = resourcesAt(path);
  if (resources.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of resources) {
    const definitionOf = (kind: string): string => {
      const name = definitionNameForKind(r.group, r.version, kind);
      if (!name) throw new UnknownKindDefinitionError(r.group, r.version, kind);
      return name;
    };
    Object.assign(paths, resourcePaths(r, definitionOf));
  }
  const defs = definitions();
  const schemas: Record<string, JsonSchema> = {};
  for (const name of [...refClosure(collectRefs(paths, new Set()))].sort()) schemas[name] = defs.get(name)!;
  return {
    components: {
      schemas,
      securitySchemes: { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } },
    },
    info: { title: 'Kubernetes', version: API_VERSION },
    openapi: '3.0.0',
    paths: sortKeys(paths),
    security: [{ BearerToken: [] }],
  };
}

/** The serialised document with its content hash; the same bytes on every call. */
export function openapiV3DocumentBytes(path: string): DocumentBytes | undefined {
  if (!bytesCache.has(path)) {
    const doc = openapiV3Document(path);
    if (!doc) {
      // Cache misses only for paths we serve, so arbitrary URLs can't grow the map.
      return undefined;
    }
    const body = Buffer.from(JSON.stringify(doc));
    const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
    bytesCache.set(path, { body, etag: `"${hash}"`, hash });
  }
  return bytesCache.get(path);
}

/** Body of `GET /openapi/v3`. */
export function openapiV3Index(): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions()) {
    const path = groupVersionPath(gv);
    const doc = openapiV3DocumentBytes(path);
    if (doc) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` };
  }
  return { paths };
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]!]));
}
