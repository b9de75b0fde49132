// API discovery, legacy (/api, /apis, /api/v1, /apis/G/V) and aggregated (apidiscovery.k8s.io
// v2 and v2beta1, which kubectl 1.32 asks for first). Built once from the scheme.
import { createHash } from 'node:crypto';
import type { ResourceInfo, Subresource } from '../api/scheme.ts';
import { RESOURCES, groupVersion } from '../api/scheme.ts';
import { METRICS_RESOURCES } from './metrics/resources.ts';
import { AUTHENTICATION_RESOURCES } from './serviceaccount/self-subject-review.ts';
import { AUTHORIZATION_RESOURCES } from './authz/reviews.ts';

/** What discovery lists: the scheme's resources, then metrics.k8s.io, authentication.k8s.io and authorization.k8s.io (served in-process, not stored). */
const DISCOVERED: ResourceInfo[] = [...RESOURCES, ...METRICS_RESOURCES, ...AUTHENTICATION_RESOURCES, ...AUTHORIZATION_RESOURCES];

function groupVersions(): { group: string; version: string }[] {
  const seen = new Set<string>();
  const out: { group: string; version: string }[] = [];
  for (const r of DISCOVERED) {
    const gv = groupVersion(r);
    if (!seen.has(gv)) { seen.add(gv); out.push({ group: r.group, version: r.version }); }
  }
  return out;
}

/** Subresources this server implements (discovery lists only those). */
export const SERVED_SUBRESOURCES = new Set<Subresource>(['status', 'scale', 'binding', 'finalize', 'log', 'exec', 'attach', 'portforward', 'token', 'approval']);

const SUBRESOURCE_SHAPE: Partial<Record<Subresource, { kind: { group: string; version: string; kind: string } | null; verbs: string[] }>> = {
  status: { kind: null, verbs: ['get', 'patch', 'update'] },
  scale: { kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] },
  binding: { kind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] },
  finalize: { kind: null, verbs: ['update'] },
  approval: { kind: null, verbs: ['get', 'patch', 'update'] },
  // As kube-apiserver lists them: log is read with get; the streams are "connect" (get or create).
  log: { kind: null, verbs: ['get'] },
  exec: { kind: { group: '', version: 'v1', kind: 'PodExecOptions' }, verbs: ['create', 'get'] },
  attach: { kind: { group: '', version: 'v1', kind: 'PodAttachOptions' }, verbs: ['create', 'get'] },
  portforward: { kind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' }, verbs: ['create', 'get'] },
  token: { kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, verbs: ['create'] },
};

function served(r: ResourceInfo): Subresource[] {
  return r.subresources.filter((s) => SERVED_SUBRESOURCES.has(s));
}

/** Hash of the version objects are stored at: the same for every version served of one resource. */
function storageVersionHash(served: ResourceInfo): string {
  const r = served.conversion?.storage ?? served;
  return createHash('sha256').update(`${groupVersion(r)}/${r.kind}`).digest('base64').slice(0, 11);
}

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions', versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function namedGroups(): { name: string; versions: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const gv of groupVersions()) {
    if (!gv.group) continue;
    const list = groups.get(gv.group) ?? [];
    list.push(gv.version);
    groups.set(gv.group, list);
  }
  return [...groups].map(([name, versions]) => ({ name, versions }));
}

function apiGroup(name: string, versions: string[]) {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: namedGroups().map((g) => apiGroup(g.name, g.versions)) };
}

export function apiGroupFor(name: string) {
  const g = namedGroups().find((x) => x.name === name);
  return g && { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g.name, g.versions) };
}

export function apiResourceList(group: string, version: string) {
  const rs = DISCOVERED.filter((r) => r.group === group && r.version === version);
  if (!rs.length) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const r of rs) {
    resources.push({
      name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
      storageVersionHash: storageVersionHash(r),
    });
    for (const sub of served(r)) {
      const shape = SUBRESOURCE_SHAPE[sub]!;
      resources.push({
        name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced,
        ...(shape.kind ? { group: shape.kind.group || undefined, version: shape.kind.version, kind: shape.kind.kind } : { kind: r.kind }),
        verbs: shape.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function aggregatedResource(r: ResourceInfo) {
  return {
    resource: r.resource,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    ...(r.categories ? { categories: r.categories } : {}),
    subresources: served(r).map((sub) => {
      const shape = SUBRESOURCE_SHAPE[sub]!;
      return { subresource: sub, responseKind: shape.kind ?? { group: r.group, version: r.version, kind: r.kind }, verbs: shape.verbs };
    }),
  };
}

/** Aggregated discovery for /api (core only) or /apis (named groups). */
export function aggregatedDiscovery(core: boolean, version: 'v2' | 'v2beta1') {
  const groups = core ? [{ name: '', versions: ['v1'] }] : namedGroups();
  return {
    kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.name, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: DISCOVERED.filter((r) => r.group === g.name && r.version === v).map(aggregatedResource),
        freshness: 'Current',
      })),
    })),
  };
}

export const aggregatedContentType = (v: 'v2' | 'v2beta1'): string =>
  `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;
