// Which nodes a DaemonSet's pod belongs on, and how a daemon pod is pinned to its node.
// A node is eligible when the template's nodeSelector and required node affinity match it
// and its NoSchedule/NoExecute taints are tolerated (the template's tolerations plus the
// ones Kubernetes gives every daemon pod). A pod already on a node keeps running there
// unless an untolerated NoExecute taint appears (NoSchedule only stops new pods).
import type { KObject } from '../../api/object.ts';
import type { NodeSelectorTerm, Taint, Toleration } from '../../scheduler/framework/pod-info.ts';
import { requirementMatches } from '../../scheduler/plugins/helpers/node-selector.ts';
import { toleratedBy } from '../../scheduler/plugins/helpers/taints.ts';

type Json = Record<string, unknown>;

interface PodSpecLike {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  hostNetwork?: boolean;
  tolerations?: Toleration[];
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
      [k: string]: unknown;
    };
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

const toleration = (key: string, effect: 'NoSchedule' | 'NoExecute'): Toleration => ({ key, operator: 'Exists', effect });

/** What util.AddOrUpdateDaemonPodTolerations adds to every daemon pod. */
export function daemonTolerations(spec: PodSpecLike): Toleration[] {
  const out = [
    toleration('node.kubernetes.io/not-ready', 'NoExecute'),
    toleration('node.kubernetes.io/unreachable', 'NoExecute'),
    toleration('node.kubernetes.io/disk-pressure', 'NoSchedule'),
    toleration('node.kubernetes.io/memory-pressure', 'NoSchedule'),
    toleration('node.kubernetes.io/pid-pressure', 'NoSchedule'),
    toleration('node.kubernetes.io/unschedulable', 'NoSchedule'),
  ];
  if (spec.hostNetwork) out.push(toleration('node.kubernetes.io/network-unavailable', 'NoSchedule'));
  return out;
}

/** The template's tolerations with the daemon ones added (an equal key+effect is replaced). */
export function withDaemonTolerations(spec: PodSpecLike): Toleration[] {
  const added = daemonTolerations(spec);
  const kept = (spec.tolerations ?? []).filter((t) => !added.some((a) => a.key === t.key && a.effect === t.effect));
  return [...kept, ...added];
}

function termMatches(term: NodeSelectorTerm, labels: Record<string, string>, name: string): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) if (!requirementMatches(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of fields) if (r.key !== 'metadata.name' || !requirementMatches(r, name)) return false;
  return true;
}

/** nodeSelector and required node affinity. */
export function nodeMatchesTemplate(spec: PodSpecLike, node: KObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) {
    const terms = required.nodeSelectorTerms ?? [];
    if (!terms.some((t) => termMatches(t, labels, node.metadata.name!))) return false;
  }
  return true;
}

export interface Placement {
  /** A new daemon pod should be created here. */
  shouldRun: boolean;
  /** An existing daemon pod may stay here. */
  shouldContinueRunning: boolean;
}

export function placement(template: Json | undefined, node: KObject): Placement {
  const spec = ((template ?? {}).spec ?? {}) as PodSpecLike;
  if (!nodeMatchesTemplate(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = withDaemonTolerations(spec);
  const taints = (((node.spec ?? {}) as { taints?: Taint[] }).taints ?? []);
  const untolerated = taints.filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !toleratedBy(tolerations, t));
  return {
    shouldRun: untolerated.length === 0,
    shouldContinueRunning: !untolerated.some((t) => t.effect === 'NoExecute'),
  };
}

/** The node a daemon pod is on or is pinned to (spec.nodeName, else its matchFields affinity). */
export function targetNodeName(pod: KObject): string | undefined {
  const spec = (pod.spec ?? {}) as PodSpecLike;
  if (spec.nodeName) return spec.nodeName;
  for (const term of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

/** ReplaceDaemonSetPodNodeNameNodeAffinity: required node affinity becomes `metadata.name In [node]`. */
export function pinToNode(spec: PodSpecLike, nodeName: string): void {
  const terms: NodeSelectorTerm[] = [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }];
  const affinity = spec.affinity ?? {};
  const nodeAffinity = affinity.nodeAffinity ?? {};
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = { ...(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? {}), nodeSelectorTerms: terms };
  affinity.nodeAffinity = nodeAffinity;
  spec.affinity = affinity;
}

/** A daemon pod for a node, from the DaemonSet's template. */
export function newDaemonPod(ds: KObject, template: Json, nodeName: string, extraLabels: Record<string, string>, ownerRef: KObject['metadata']['ownerReferences']): KObject {
  const t = structuredClone(template) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: PodSpecLike };
  const spec: PodSpecLike = t.spec ?? {};
  spec.tolerations = withDaemonTolerations(spec);
  pinToNode(spec, nodeName);
  delete spec.nodeName;
  const metadata: KObject['metadata'] = {
    generateName: `${ds.metadata.name}-`,
    namespace: ds.metadata.namespace,
    labels: { ...(t.metadata?.labels ?? {}), ...extraLabels },
    ownerReferences: ownerRef,
  };
  if (t.metadata?.annotations) metadata.annotations = t.metadata.annotations;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}
