// Query parameters of resource requests, parsed and checked once: a bad value gets a 400
// before anything else happens.
import type { KObject } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import { strategyFor } from '../../api/kinds/index.ts';
import { badRequest } from '../errors.ts';
import type { FieldValidation, ListQuery, PropagationPolicy } from '../registry/registry.ts';
import { exactName, parseFieldSelector, parseLabelSelector } from '../selectors.ts';

export function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}: must be true or false`);
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}: must be an integer`);
  return Number(v);
}

export function dryRunParam(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun');
  for (const v of values) {
    if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  }
  return values.length > 0;
}

export function fieldValidationParam(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
}

export function fieldManagerParam(q: URLSearchParams, userAgent: string | undefined): string | undefined {
  const v = q.get('fieldManager');
  if (v !== null) {
    if (v.length > 128) throw badRequest('fieldManager: Too long: may not be more than 128 bytes');
    return v;
  }
  // Kubernetes derives a manager from the user agent when none is given.
  return userAgent ? userAgent.split('/')[0].slice(0, 128) : undefined;
}

export function propagationParam(v: string | null | undefined): PropagationPolicy | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  if (v === 'Background' || v === 'Foreground' || v === 'Orphan') return v;
  throw badRequest(`propagationPolicy: Unsupported value: "${v}": supported values: "Orphan", "Background", "Foreground"`);
}

/** Fields every resource can be selected by, plus the kind's own. */
export function fieldGetter(r: ResourceInfo, field: string): ((o: KObject) => string | undefined) | undefined {
  if (field === 'metadata.name') return (o) => o.metadata.name;
  if (field === 'metadata.namespace' && r.namespaced) return (o) => o.metadata.namespace;
  return strategyFor(r.group, r.kind).selectableFields?.[field];
}

export function selectorQuery(r: ResourceInfo, q: URLSearchParams): Pick<ListQuery, 'labelSelector' | 'fieldFilter' | 'name'> {
  const labelText = q.get('labelSelector');
  const labelSelector = labelText ? parseLabelSelector(labelText) : undefined;
  const reqs = parseFieldSelector(q.get('fieldSelector'));
  const checks = reqs.map((req) => {
    const get = fieldGetter(r, req.field);
    if (!get) throw badRequest(`field label not supported: ${req.field}`);
    return (o: KObject) => ((get(o) ?? '') === req.value) !== req.negate;
  });
  const fieldFilter = checks.length ? (o: KObject) => checks.every((c) => c(o)) : undefined;
  return { labelSelector, fieldFilter, name: exactName(reqs) };
}

export function listQuery(r: ResourceInfo, q: URLSearchParams): ListQuery {
  const limit = intParam(q, 'limit');
  if (limit !== undefined && limit < 0) throw badRequest(`limit: Invalid value: ${limit}: must be greater than or equal to 0`);
  const match = q.get('resourceVersionMatch');
  if (match && match !== 'Exact' && match !== 'NotOlderThan') {
    throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
  }
  const resourceVersion = q.get('resourceVersion') ?? undefined;
  if (resourceVersion && !/^\d+$/.test(resourceVersion)) throw badRequest(`resourceVersion: Invalid value: "${resourceVersion}": must be a non-negative integer`);
  if (match && !resourceVersion) throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
  const cont = q.get('continue') ?? undefined;
  if (cont && resourceVersion && resourceVersion !== '0') throw badRequest('specifying resource version is not allowed when using continue');
  return {
    ...selectorQuery(r, q),
    limit, continue: cont || undefined, resourceVersion,
    resourceVersionMatch: (match || undefined) as ListQuery['resourceVersionMatch'],
  };
}

// Query parameters each verb understands (metav1 List/Get/Create/Update/Patch/DeleteOptions).
// Kubernetes silently ignores others; we answer 400 so that a typo is not mistaken for a
// setting that took effect.
const COMMON = ['pretty', 'timeout'];
const WRITE = ['dryRun', 'fieldManager', 'fieldValidation'];
const LIST = ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'allowWatchBookmarks', 'sendInitialEvents', 'timeoutSeconds', 'watch', 'includeObject'];
const DELETE = ['dryRun', 'gracePeriodSeconds', 'orphanDependents', 'propagationPolicy', 'ignoreStoreReadErrorWithClusterBreakingPotential'];
const KNOWN: Record<string, Set<string>> = {
  get: new Set([...COMMON, 'resourceVersion', 'includeObject', 'export', 'exact']),
  list: new Set([...COMMON, ...LIST]),
  watch: new Set([...COMMON, ...LIST]),
  create: new Set([...COMMON, ...WRITE]),
  update: new Set([...COMMON, ...WRITE]),
  patch: new Set([...COMMON, ...WRITE, 'force']),
  delete: new Set([...COMMON, ...DELETE]),
  deletecollection: new Set([...COMMON, ...DELETE, ...LIST]),
};

export function checkKnownParams(verb: string, q: URLSearchParams): void {
  const known = KNOWN[verb];
  if (!known) return;
  for (const name of q.keys()) {
    if (!known.has(name)) throw badRequest(`unknown query parameter "${name}" for ${verb}; known parameters: ${[...known].sort().join(', ')}`);
  }
}
