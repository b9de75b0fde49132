// The scheme: every resource the API serves, with what discovery, routing and storage
// need to know about it. Kind-specific behaviour (defaults, validation, tables) lives in
// kinds/, looked up by group and kind.
//
// A resource may be served at more versions than it is stored at: such an entry carries a
// `conversion` naming the entry it is stored as and a pair of pure functions to and from
// that storage version (autoscaling/v1 HorizontalPodAutoscalers are stored as
// autoscaling/v2). The registry converts on the way in and out; both paths see the same
// objects under the same storage key.
import type { KObject } from './object.ts';
import { hpaV1ToV2, hpaV2ToV1 } from './conversion/autoscaling-v1.ts';

export type Verb =
  | 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export type Subresource = 'status' | 'scale' | 'binding' | 'eviction' | 'log' | 'exec' | 'attach' | 'portforward' | 'proxy' | 'token' | 'finalize' | 'ephemeralcontainers' | 'approval';

export interface ResourceInfo {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural, lower case: the URL segment. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: Verb[];
  shortNames?: string[];
  categories?: string[];
  subresources: Subresource[];
  /** Set on a version served by converting to and from another entry's (storage) version. */
  conversion?: VersionConversion;
}

/** How a served version maps onto the version its objects are stored at. */
export interface VersionConversion {
  /** The entry of the storage version (same group, resource and kind). */
  storage: ResourceInfo;
  /** A body of this version as the storage version (pure: the argument is not changed). */
  toStorage(obj: KObject): KObject;
  /** A stored object as this version (pure). */
  fromStorage(obj: KObject): KObject;
}

export function groupVersion(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

function res(
  group: string, version: string, resource: string, kind: string, namespaced: boolean,
  extra: Partial<Omit<ResourceInfo, 'group' | 'version' | 'resource' | 'kind' | 'namespaced'>> = {},
): ResourceInfo {
  return {
    group, version, resource, kind, namespaced,
    singular: extra.singular ?? kind.toLowerCase(),
    verbs: extra.verbs ?? ALL_VERBS,
    shortNames: extra.shortNames,
    categories: extra.categories,
    subresources: extra.subresources ?? [],
    ...(extra.conversion ? { conversion: extra.conversion } : {}),
  };
}

const all = ['all'];

const HPA_V2 = res('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, { shortNames: ['hpa'], categories: all, subresources: ['status'] });

export const RESOURCES: ResourceInfo[] = [
  // core/v1
  res('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], subresources: ['status', 'finalize'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  res('', 'v1', 'pods', 'Pod', true, { shortNames: ['po'], categories: all, subresources: ['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward', 'ephemeralcontainers'] }),
  res('', 'v1', 'services', 'Service', true, { shortNames: ['svc'], categories: all, subresources: ['status'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }),
  res('', 'v1', 'endpoints', 'Endpoints', true, { shortNames: ['ep'], singular: 'endpoints' }),
  res('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  res('', 'v1', 'secrets', 'Secret', true),
  res('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'], subresources: ['token'] }),
  res('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], subresources: ['status', 'proxy'] }),
  res('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  res('', 'v1', 'persistentvolumes', 'PersistentVolume', false, { shortNames: ['pv'], subresources: ['status'] }),
  res('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, { shortNames: ['pvc'], subresources: ['status'] }),
  res('', 'v1', 'limitranges', 'LimitRange', true, { shortNames: ['limits'] }),
  res('', 'v1', 'resourcequotas', 'ResourceQuota', true, { shortNames: ['quota'], subresources: ['status'] }),
  res('', 'v1', 'replicationcontrollers', 'ReplicationController', true, { shortNames: ['rc'], categories: all, subresources: ['status', 'scale'] }),
  res('', 'v1', 'podtemplates', 'PodTemplate', true),
  // apps/v1
  res('apps', 'v1', 'deployments', 'Deployment', true, { shortNames: ['deploy'], categories: all, subresources: ['status', 'scale'] }),
  res('apps', 'v1', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], categories: all, subresources: ['status', 'scale'] }),
  res('apps', 'v1', 'daemonsets', 'DaemonSet', true, { shortNames: ['ds'], categories: all, subresources: ['status'] }),
  res('apps', 'v1', 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], categories: all, subresources: ['status', 'scale'] }),
  res('apps', 'v1', 'controllerrevisions', 'ControllerRevision', true),
  // autoscaling/v2 (storage and preferred version: listed first), autoscaling/v1 by conversion
  HPA_V2,
  res('autoscaling', 'v1', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, {
    shortNames: ['hpa'], categories: all, subresources: ['status'],
    conversion: { storage: HPA_V2, toStorage: hpaV1ToV2, fromStorage: hpaV2ToV1 },
  }),
  // batch/v1
  res('batch', 'v1', 'jobs', 'Job', true, { categories: all, subresources: ['status'] }),
  res('batch', 'v1', 'cronjobs', 'CronJob', true, { shortNames: ['cj'], categories: all, subresources: ['status'] }),
  // certificates.k8s.io/v1
  res('certificates.k8s.io', 'v1', 'certificatesigningrequests', 'CertificateSigningRequest', false, { shortNames: ['csr'], subresources: ['status', 'approval'] }),
  // coordination.k8s.io/v1
  res('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  // discovery.k8s.io/v1
  res('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  // events.k8s.io/v1
  res('events.k8s.io', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  // rbac.authorization.k8s.io/v1
  res('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  res('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  res('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  res('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  // scheduling.k8s.io/v1
  res('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false, { shortNames: ['pc'] }),
  // policy/v1
  res('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, { shortNames: ['pdb'], subresources: ['status'] }),
  // networking.k8s.io/v1
  res('networking.k8s.io', 'v1', 'ingresses', 'Ingress', true, { shortNames: ['ing'], subresources: ['status'] }),
  res('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true, { shortNames: ['netpol'] }),
  res('networking.k8s.io', 'v1', 'ingressclasses', 'IngressClass', false),
  // storage.k8s.io/v1
  res('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false, { shortNames: ['sc'] }),
  // admissionregistration.k8s.io/v1
  res('admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false, { categories: ['api-extensions'] }),
  res('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', false, { categories: ['api-extensions'] }),
];

/** The entries objects are stored as: one per stored resource (no converted versions). */
export const STORED_RESOURCES: ResourceInfo[] = RESOURCES.filter((r) => !r.conversion);

/** Group versions in the order discovery lists them (core first, then as above). */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Set<string>();
  const out: { group: string; version: string }[] = [];
  for (const r of RESOURCES) {
    const gv = groupVersion(r);
    if (!seen.has(gv)) { seen.add(gv); out.push({ group: r.group, version: r.version }); }
  }
  return out;
}

const byPath = new Map<string, ResourceInfo>();
const byKind = new Map<string, ResourceInfo>();
for (const r of RESOURCES) {
  byPath.set(`${r.group}/${r.version}/${r.resource}`, r);
  byKind.set(`${r.group}/${r.version}/${r.kind}`, r);
}

export function lookupResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return byPath.get(`${group}/${version}/${resource}`);
}

export function lookupKind(group: string, version: string, kind: string): ResourceInfo | undefined {
  return byKind.get(`${group}/${version}/${kind}`);
}

/** "apps/v1" → {group: "apps", version: "v1"}; "v1" → {group: "", version: "v1"}. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/**
 * Storage key of an object: /registry/<resource>/<ns>/<name> for the core group,
 * /registry/<group>/<resource>/<ns>/<name> for the others.
 */
export function storageKey(r: ResourceInfo, namespace: string | undefined, name?: string): string {
  const base = r.group === '' ? `/registry/${r.resource}/` : `/registry/${r.group}/${r.resource}/`;
  const ns = r.namespaced ? `${namespace ?? ''}/` : '';
  if (name === undefined) return r.namespaced && namespace ? base + ns : base;
  return base + ns + name;
}
