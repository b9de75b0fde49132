// Maps client-node class names (V1Pod, CoreV1Event, V1ObjectMeta) to the definition
// names Kubernetes itself uses (io.k8s.api.core.v1.Pod, io.k8s.api.core.v1.Event,
// io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta). client-node drops the group, so
// the group of an unprefixed class is decided by who reaches it first: the kinds of
// the core group claim everything they reach, then each other group in turn.

import type { Model } from './client-node-models.ts';

export const META_PACKAGE = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const TIME = `${META_PACKAGE}.Time`;
export const MICRO_TIME = `${META_PACKAGE}.MicroTime`;
export const FIELDS_V1 = `${META_PACKAGE}.FieldsV1`;
export const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
export const PATCH = `${META_PACKAGE}.Patch`;

/** Unprefixed kinds that live in apimachinery's meta/v1 package, not in an API group. */
const META_KINDS = new Set([
  'ObjectMeta', 'ListMeta', 'LabelSelector', 'LabelSelectorRequirement', 'ManagedFieldsEntry',
  'OwnerReference', 'Status', 'StatusCause', 'StatusDetails', 'DeleteOptions', 'Preconditions',
  'Condition', 'WatchEvent', 'APIResource', 'APIResourceList', 'APIGroup', 'APIGroupList',
  'APIVersions', 'GroupVersionForDiscovery', 'ServerAddressByClientCIDR',
]);

/** Types client-node can't place by reachability because only another group uses them. */
const GROUP_OVERRIDES: Record<string, string> = {
  V1TopologySelectorTerm: '',
  V1TopologySelectorLabelRequirement: '',
};

/** Class-name prefixes client-node adds where two groups share a type name. */
const PREFIX_GROUPS: Record<string, string> = {
  Core: '',
  Events: 'events.k8s.io',
  Discovery: 'discovery.k8s.io',
  Rbac: 'rbac.authorization.k8s.io',
  Authentication: 'authentication.k8s.io',
  Storage: 'storage.k8s.io',
  Flowcontrol: 'flowcontrol.apiserver.k8s.io',
  Resource: 'resource.k8s.io',
  Admissionregistration: 'admissionregistration.k8s.io',
  Apiextensions: 'apiextensions.k8s.io',
  Apiregistration: 'apiregistration.k8s.io',
};

export interface ParsedClassName {
  prefix?: string;
  /** e.g. v1, v1beta1, v2 */
  version: string;
  kind: string;
}

export function parseClassName(className: string): ParsedClassName | undefined {
  const m = /^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$/.exec(className);
  if (!m) return undefined;
  return { prefix: m[1], version: m[2]!.toLowerCase(), kind: m[3]! };
}

/** The Go package a group's types live in, as Kubernetes names definitions. */
export function packageForGroup(group: string, version: string): string {
  if (group === '') return `io.k8s.api.core.${version}`;
  return `io.k8s.api.${group.split('.')[0]}.${version}`;
}

/** client-node class for a served kind: prefixed when the kind name is shared (CoreV1Event). */
export function classForKind(models: ReadonlyMap<string, Model>, group: string, version: string, kind: string): string | undefined {
  const v = version[0]!.toUpperCase() + version.slice(1);
  for (const [prefix, g] of Object.entries(PREFIX_GROUPS)) {
    if (g === group && models.has(`${prefix}${v}${kind}`)) return `${prefix}${v}${kind}`;
  }
  return models.has(`${v}${kind}`) ? `${v}${kind}` : undefined;
}

/** Class names a type string refers to: Array<V1Container> → V1Container. */
export function referencedClasses(type: string, models: ReadonlyMap<string, Model>): string[] {
  const out: string[] = [];
  for (const m of type.matchAll(/[A-Z][A-Za-z0-9]*/g)) if (models.has(m[0])) out.push(m[0]);
  return out;
}

/**
 * Assigns a definition name to every class reachable from the seeds. Seeds are visited
 * group by group in the order given; a class is claimed by the first group reaching it.
 */
export function assignDefinitionNames(
  models: ReadonlyMap<string, Model>,
  seeds: { className: string; group: string }[],
): Map<string, string> {
  const groupOf = new Map<string, string>();
  const names = new Map<string, string>();
  const place = (className: string, group: string): string | undefined => {
    const parsed = parseClassName(className);
    if (!parsed) return undefined;
    if (!parsed.prefix && META_KINDS.has(parsed.kind)) return `${META_PACKAGE}.${parsed.kind}`;
    const owner = parsed.prefix !== undefined ? PREFIX_GROUPS[parsed.prefix] : (GROUP_OVERRIDES[className] ?? groupOf.get(className) ?? group);
    if (owner === undefined) return undefined;
    groupOf.set(className, owner);
    return `${packageForGroup(owner, parsed.version)}.${parsed.kind}`;
  };
  for (const seed of seeds) {
    const queue = [seed];
    while (queue.length > 0) {
      const { className, group } = queue.shift()!;
      if (names.has(className)) continue;
      const name = place(className, group);
      if (!name) continue;
      names.set(className, name);
      for (const attr of models.get(className)?.attributes ?? []) {
        for (const ref of referencedClasses(attr.type, models)) {
          if (!names.has(ref)) queue.push({ className: ref, group: groupOf.get(className) ?? group });
        }
      }
    }
  }
  return names;
}
