// What a ReplicaSet needs to know about its pods: whether one counts (active), is ready or
// available, how a new one is written from the template, and which ones go first when
// scaling down (Kubernetes' ActivePodsWithRanks order).
import type { KObject, OwnerReference } from '../../api/object.ts';
import { objectKey } from '../../client/cache.ts';

export interface PodCondition { type: string; status: string; lastTransitionTime?: string }
interface ContainerStatus { restartCount?: number }
interface PodSpecView { nodeName?: string }
interface PodStatusView {
  phase?: string;
  conditions?: PodCondition[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec?: Record<string, unknown>;
}

const specOf = (pod: KObject): PodSpecView => (pod.spec ?? {}) as PodSpecView;
const statusOf = (pod: KObject): PodStatusView => (pod.status ?? {}) as PodStatusView;

export const podKey = (pod: KObject): string => objectKey(pod);

/** Not finished and not being deleted: the pods a ReplicaSet counts. */
export function isPodActive(pod: KObject): boolean {
  const phase = statusOf(pod).phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

export function readyCondition(pod: KObject): PodCondition | undefined {
  return statusOf(pod).conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(pod: KObject): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** Milliseconds since the epoch when the pod last became Ready, if it is. */
export function readySince(pod: KObject): number | undefined {
  const c = readyCondition(pod);
  if (c?.status !== 'True' || !c.lastTransitionTime) return undefined;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isNaN(t) ? undefined : t;
}

/** Ready for at least minReadySeconds (a Ready pod without a transition time counts once minReadySeconds is 0). */
export function isPodAvailable(pod: KObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = readySince(pod);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

/** When a Ready-but-not-yet-available pod becomes available; undefined if it is not waiting. */
export function availableAt(pod: KObject, minReadySeconds: number, now: number): number | undefined {
  if (minReadySeconds <= 0 || !isPodReady(pod)) return undefined;
  const since = readySince(pod);
  if (since === undefined) return undefined;
  const at = since + minReadySeconds * 1000;
  return at > now ? at : undefined;
}

/** The pod a controller writes from its template: generateName `<owner>-`, controller reference, template metadata. */
export function podFromTemplate(template: PodTemplate, namespace: string, ownerName: string, ref: OwnerReference): KObject {
  const meta = template.metadata ?? {};
  const pod: KObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${ownerName}-`,
      namespace,
      labels: { ...(meta.labels ?? {}) },
      ownerReferences: [{ ...ref }],
    },
    spec: structuredClone(template.spec ?? {}),
  };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers?.length) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}

// ---- which pods to delete first --------------------------------------------------------

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

function deletionCost(pod: KObject): number {
  const v = pod.metadata.annotations?.[DELETION_COST];
  if (v === undefined) return 0;
  const n = Number(v);
  return Number.isInteger(n) ? n : 0;
}

function maxRestarts(pod: KObject): number {
  const s = statusOf(pod);
  let max = 0;
  for (const c of [...(s.containerStatuses ?? []), ...(s.initContainerStatuses ?? [])]) max = Math.max(max, c.restartCount ?? 0);
  return max;
}

function time(ts: string | undefined): number | undefined {
  if (!ts) return undefined;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : t;
}

/** Buckets of log2(age in ns): pods of about the same age (within a power of two) tie. */
function logRank(t: number, now: number): number {
  const ns = (now - t) * 1e6;
  return ns > 0 ? Math.floor(Math.log2(ns)) : -1;
}

/**
 * Negative when `a` should be deleted before `b`: the more recent time goes first, and a
 * missing time counts as most recent. Ages within the same power-of-two bucket tie and
 * fall to the uid (Kubernetes' LogarithmicScaleDown), so scale-down is not strictly LIFO.
 */
function compareTimes(a: number | undefined, b: number | undefined, now: number, uidA: string, uidB: string): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  const diff = logRank(a, now) - logRank(b, now);
  if (diff === 0) return uidA < uidB ? -1 : uidA > uidB ? 1 : 0;
  return diff;
}

interface Ranked { pod: KObject; rank: number }

function compareForDeletion(x: Ranked, y: Ranked, now: number): number {
  const a = x.pod;
  const b = y.pod;
  const nodeA = specOf(a).nodeName ?? '';
  const nodeB = specOf(b).nodeName ?? '';
  // 1. Unscheduled before scheduled.
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '' ? -1 : 1;
  // 2. Pending < Unknown < Running.
  const pa = PHASE_ORDINAL[statusOf(a).phase ?? ''] ?? 0;
  const pb = PHASE_ORDINAL[statusOf(b).phase ?? ''] ?? 0;
  if (pa !== pb) return pa - pb;
  // 3. Not ready before ready.
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  // 4. Lower pod-deletion-cost first.
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca - cb;
  // 5. Doubled up (more related pods on the same node) first.
  if (x.rank !== y.rank) return y.rank - x.rank;
  const uidA = a.metadata.uid ?? '';
  const uidB = b.metadata.uid ?? '';
  // 6. Ready for less time first.
  if (ra && rb) {
    const c = compareTimes(readySince(a), readySince(b), now, uidA, uidB);
    if (c !== 0) return c;
  }
  // 7. More container restarts first.
  const rsA = maxRestarts(a);
  const rsB = maxRestarts(b);
  if (rsA !== rsB) return rsB - rsA;
  // 8. Newer first.
  return compareTimes(time(a.metadata.creationTimestamp), time(b.metadata.creationTimestamp), now, uidA, uidB);
}

/**
 * The `count` pods to delete from `pods`, best candidates first. `related` are the active
 * pods of every ReplicaSet with the same owner: a pod sharing its node with many of them
 * goes before one that does not.
 */
export function podsToDelete(pods: KObject[], related: KObject[], count: number, now: number): KObject[] {
  if (count >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const node = specOf(p).nodeName ?? '';
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(specOf(pod).nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => compareForDeletion(x, y, now));
  return ranked.slice(0, count).map((r) => r.pod);
}
