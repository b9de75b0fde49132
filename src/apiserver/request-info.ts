// What a request path means: discovery, or a resource request with its group, version,
// namespace, resource, name and subresource (the shape of Kubernetes' RequestInfo).
import type { ResourceInfo } from '../api/scheme.ts';
import { lookupResource } from '../api/scheme.ts';
import { ApiError } from './errors.ts';

export type ResourceVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceRequest {
  kind: 'resource';
  resource: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
  verb: ResourceVerb;
}

export interface OtherRequest { kind: 'other' }

/** Subresources of namespaces that are not resources in the namespace. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** Parses /api/v1/... and /apis/G/V/... resource paths; undefined for anything else. */
export function parseResourcePath(method: string, pathname: string, watchParam: boolean): ResourceRequest | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodePathSegment);
  let group: string, version: string, rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = ''; version = parts[1]; rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]; version = parts[2]; rest = parts.slice(3);
  } else {
    return undefined;
  }
  let watchPath = false;
  if (rest[0] === 'watch') { watchPath = true; rest = rest.slice(1); }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
    else namespace = undefined;
  }
  const [resourceName, name, subresource, ...extra] = rest;
  if (!resourceName || extra.length) return undefined;
  const resource = lookupResource(group, version, resourceName);
  if (!resource) throw notFoundPath(pathname);
  if (!resource.namespaced && namespace !== undefined && resourceName !== 'namespaces') throw notFoundPath(pathname);
  const verb = verbFor(method, name !== undefined, watchParam || watchPath);
  return { kind: 'resource', resource, namespace: resource.namespaced ? namespace : undefined, name, subresource, verb };
}

/** A path segment with its %-escapes decoded; a malformed escape is the client's error. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, 'BadRequest', `malformed path segment ${JSON.stringify(segment.slice(0, 100))}`);
  }
}

function verbFor(method: string, named: boolean, watch: boolean): ResourceVerb {
  switch (method) {
    case 'GET': case 'HEAD': return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return named ? 'delete' : 'deletecollection';
    default: return 'get';
  }
}

export function notFoundPath(_path: string): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}
