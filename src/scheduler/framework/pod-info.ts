// A pod as the scheduler reads it: the JSON object parsed once into what the plugins
// ask about (requests, tolerations, affinity terms), so no plugin re-reads raw JSON per node.
import { EMPTY_ARRAY, EMPTY_OBJECT, type KObject } from '../../api/object.ts';
import type { LabelSelector } from '../../api/validation/label-selector.ts';
import { podRequests, type Resources } from './resources.ts';

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: TaintEffect | '';
}

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

/** A pod (anti-)affinity term with its namespaces resolved. */
export interface AffinityTerm {
  /** undefined matches no pod, as a nil selector does in Kubernetes. */
  selector: LabelSelector | undefined;
  /** 'all' for an empty namespaceSelector ({}), otherwise the namespaces to look in. */
  namespaces: ReadonlySet<string> | 'all';
  topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  selector: LabelSelector | undefined;
  minDomains?: number;
  nodeAffinityPolicy: 'Honor' | 'Ignore';
  nodeTaintsPolicy: 'Honor' | 'Ignore';
}

export interface PodInfo {
  readonly pod: KObject;
  /** namespace/name: the queue and cache key. */
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly nodeName: string;
  readonly schedulerName: string;
  readonly priority: number;
  readonly preemptionPolicy: 'PreemptLowerPriority' | 'Never';
  readonly nominatedNodeName: string;
  /** Milliseconds since the epoch; orders equal-priority pods in the queue. */
  readonly created: number;
  /** When it started (status.startTime), for preemption's tie-break; else created. */
  readonly started: number;
  readonly deleting: boolean;
  /** What the pod needs to fit (NodeResourcesFit). */
  readonly requests: Resources;
  /** The same with empty cpu/memory requests counted as the defaults (scoring). */
  readonly nonZeroRequests: Resources;
  readonly tolerations: readonly Toleration[];
  readonly nodeSelector: Readonly<Record<string, string>> | undefined;
  readonly requiredNodeAffinity: readonly NodeSelectorTerm[] | undefined;
  readonly preferredNodeAffinity: readonly { weight: number; preference: NodeSelectorTerm }[];
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  readonly preferredAffinity: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinity: readonly WeightedAffinityTerm[];
  readonly topologySpread: readonly TopologySpreadConstraint[];
}

type J = Record<string, unknown>;
const o = (v: unknown): J => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as J) : {});
// Absent lists are one shared empty array: a PodInfo per pod, 150,000 of them, would
// otherwise hold ~10 empty arrays each for the garbage collector to mark.
const list = <T>(v: unknown): readonly T[] => (Array.isArray(v) && v.length ? (v as T[]) : EMPTY_ARRAY);
const mapList = <T, U>(v: unknown, f: (t: T) => U): readonly U[] => (Array.isArray(v) && v.length ? (v as T[]).map(f) : EMPTY_ARRAY);
const time = (v: unknown): number => (typeof v === 'string' ? Date.parse(v) || 0 : 0);

function affinityTerm(t: J, podNamespace: string): AffinityTerm {
  const names = list<string>(t.namespaces);
  const nsSelector = t.namespaceSelector as LabelSelector | undefined | null;
  const emptyNsSelector = nsSelector != null && !nsSelector.matchLabels && !(nsSelector.matchExpressions ?? []).length;
  // Kubernetes: no namespaces and no namespaceSelector means the pod's own namespace.
  // A non-empty namespaceSelector needs namespace labels, which the snapshot does not hold.
  const namespaces = emptyNsSelector ? 'all' as const : new Set(names.length || nsSelector ? names : [podNamespace]);
  return { selector: (t.labelSelector ?? undefined) as LabelSelector | undefined, namespaces, topologyKey: String(t.topologyKey ?? '') };
}

function weighted(w: J, podNamespace: string): WeightedAffinityTerm {
  return { ...affinityTerm(o(w.podAffinityTerm), podNamespace), weight: Number(w.weight ?? 0) };
}

export function podKey(pod: KObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

export function newPodInfo(pod: KObject): PodInfo {
  const spec = o(pod.spec);
  const status = o(pod.status);
  const namespace = pod.metadata.namespace ?? '';
  const affinity = o(spec.affinity);
  const nodeAff = o(affinity.nodeAffinity);
  const podAff = o(affinity.podAffinity);
  const antiAff = o(affinity.podAntiAffinity);
  const required = nodeAff.requiredDuringSchedulingIgnoredDuringExecution;
  const created = time(pod.metadata.creationTimestamp);
  return {
    pod,
    key: podKey(pod),
    uid: pod.metadata.uid ?? '',
    namespace,
    name: pod.metadata.name ?? '',
    labels: pod.metadata.labels ?? EMPTY_OBJECT,
    nodeName: typeof spec.nodeName === 'string' ? spec.nodeName : '',
    schedulerName: typeof spec.schedulerName === 'string' && spec.schedulerName ? spec.schedulerName : 'default-scheduler',
    priority: typeof spec.priority === 'number' ? spec.priority : 0,
    preemptionPolicy: spec.preemptionPolicy === 'Never' ? 'Never' : 'PreemptLowerPriority',
    nominatedNodeName: typeof status.nominatedNodeName === 'string' ? status.nominatedNodeName : '',
    created,
    started: time(status.startTime) || created,
    deleting: !!pod.metadata.deletionTimestamp,
    requests: podRequests(spec),
    nonZeroRequests: podRequests(spec, true),
    tolerations: list<Toleration>(spec.tolerations),
    nodeSelector: spec.nodeSelector ? (spec.nodeSelector as Record<string, string>) : undefined,
    requiredNodeAffinity: required ? list<NodeSelectorTerm>(o(required).nodeSelectorTerms) : undefined,
    preferredNodeAffinity: mapList<J, { weight: number; preference: NodeSelectorTerm }>(nodeAff.preferredDuringSchedulingIgnoredDuringExecution,
      (p) => ({ weight: Number(p.weight ?? 0), preference: o(p.preference) as NodeSelectorTerm })),
    requiredAffinity: mapList<J, AffinityTerm>(podAff.requiredDuringSchedulingIgnoredDuringExecution, (t) => affinityTerm(t, namespace)),
    requiredAntiAffinity: mapList<J, AffinityTerm>(antiAff.requiredDuringSchedulingIgnoredDuringExecution, (t) => affinityTerm(t, namespace)),
    preferredAffinity: mapList<J, WeightedAffinityTerm>(podAff.preferredDuringSchedulingIgnoredDuringExecution, (w) => weighted(w, namespace)),
    preferredAntiAffinity: mapList<J, WeightedAffinityTerm>(antiAff.preferredDuringSchedulingIgnoredDuringExecution, (w) => weighted(w, namespace)),
    topologySpread: mapList<J, TopologySpreadConstraint>(spec.topologySpreadConstraints, (c) => ({
      maxSkew: Number(c.maxSkew ?? 1),
      topologyKey: String(c.topologyKey ?? ''),
      whenUnsatisfiable: c.whenUnsatisfiable === 'ScheduleAnyway' ? 'ScheduleAnyway' : 'DoNotSchedule',
      selector: (c.labelSelector ?? undefined) as LabelSelector | undefined,
      minDomains: typeof c.minDomains === 'number' ? c.minDomains : undefined,
      nodeAffinityPolicy: c.nodeAffinityPolicy === 'Ignore' ? 'Ignore' : 'Honor',
      nodeTaintsPolicy: c.nodeTaintsPolicy === 'Honor' ? 'Honor' : 'Ignore',
    })),
  };
}

export const hasAffinity = (p: PodInfo): boolean =>
  p.requiredAffinity.length + p.requiredAntiAffinity.length + p.preferredAffinity.length + p.preferredAntiAffinity.length > 0;
