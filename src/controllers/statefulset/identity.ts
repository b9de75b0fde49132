// A StatefulSet pod's stable identity: name `<set>-<ordinal>`, the pod-name and pod-index
// labels, hostname = pod name, subdomain = spec.serviceName, and one PVC per claim
// template named `<claim>-<set>-<ordinal>` mounted as the volume of the claim's name.
import type { KObject, OwnerReference } from '../../api/object.ts';
import { REVISION_HASH_LABEL } from '../history/revision.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

type Json = Record<string, unknown>;

export interface StatefulSetSpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  template?: Json;
  serviceName?: string;
  podManagementPolicy?: 'OrderedReady' | 'Parallel';
  updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { partition?: number } };
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  volumeClaimTemplates?: KObject[];
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: 'Retain' | 'Delete'; whenScaled?: 'Retain' | 'Delete' };
  ordinals?: { start?: number };
}

export const specOf = (sts: KObject): StatefulSetSpec => (sts.spec ?? {}) as StatefulSetSpec;

export const podName = (sts: KObject, ordinal: number): string => `${sts.metadata.name}-${ordinal}`;

export const claimName = (claim: KObject, sts: KObject, ordinal: number): string =>
  `${claim.metadata.name}-${sts.metadata.name}-${ordinal}`;

/** The ordinal in a pod's name if it is `<set>-<n>`, else undefined (not a member). */
export function ordinalOf(sts: KObject, pod: KObject): number | undefined {
  const name = pod.metadata.name ?? '';
  const prefix = `${sts.metadata.name}-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

/** The labels, hostname and subdomain are as the ordinal says. */
export function identityMatches(sts: KObject, pod: KObject, ordinal: number): boolean {
  const labels = pod.metadata.labels ?? {};
  return pod.metadata.name === podName(sts, ordinal)
    && labels[POD_NAME_LABEL] === pod.metadata.name
    && labels[POD_INDEX_LABEL] === String(ordinal);
}

/** Fixes the identity labels on a copy of the pod (hostname and subdomain are immutable). */
export function withIdentityLabels(pod: KObject, ordinal: number): KObject {
  const copy = structuredClone(pod);
  copy.metadata.labels = { ...(copy.metadata.labels ?? {}), [POD_NAME_LABEL]: copy.metadata.name!, [POD_INDEX_LABEL]: String(ordinal) };
  return copy;
}

/** The claims a pod of this ordinal needs, as they would be created. */
export function claimsFor(sts: KObject, ordinal: number): KObject[] {
  const spec = specOf(sts);
  const matchLabels = spec.selector?.matchLabels ?? {};
  return (spec.volumeClaimTemplates ?? []).map((t) => {
    const metadata: KObject['metadata'] = {
      name: claimName(t, sts, ordinal),
      namespace: sts.metadata.namespace,
      labels: { ...(t.metadata.labels ?? {}), ...matchLabels },
    };
    if (t.metadata.annotations) metadata.annotations = structuredClone(t.metadata.annotations);
    return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata, spec: structuredClone(t.spec ?? {}) };
  });
}

/**
 * A pod for `ordinal` from `template` (the template of the revision it should run):
 * identity, revision label, claim volumes, controller reference.
 */
export function newStatefulPod(sts: KObject, template: Json, ordinal: number, revisionName: string, ownerRef: OwnerReference): KObject {
  const t = structuredClone(template) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Json };
  const name = podName(sts, ordinal);
  const spec: Json = t.spec ?? {};
  spec.hostname = name;
  const serviceName = specOf(sts).serviceName;
  if (serviceName) spec.subdomain = serviceName;
  // Claim templates override template volumes of the same name.
  const claims = specOf(sts).volumeClaimTemplates ?? [];
  const claimVolumes = claims.map((c) => ({ name: c.metadata.name!, persistentVolumeClaim: { claimName: claimName(c, sts, ordinal) } }));
  const names = new Set(claimVolumes.map((v) => v.name));
  const volumes = ((spec.volumes ?? []) as { name: string }[]).filter((v) => !names.has(v.name));
  if (claimVolumes.length || volumes.length) spec.volumes = [...volumes, ...claimVolumes];
  const metadata: KObject['metadata'] = {
    name,
    namespace: sts.metadata.namespace,
    labels: {
      ...(t.metadata?.labels ?? {}),
      [POD_NAME_LABEL]: name,
      [POD_INDEX_LABEL]: String(ordinal),
      [REVISION_HASH_LABEL]: revisionName,
    },
    ownerReferences: [ownerRef],
  };
  if (t.metadata?.annotations) metadata.annotations = t.metadata.annotations;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}
