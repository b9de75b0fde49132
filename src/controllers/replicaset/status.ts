// ReplicaSet status from the pods it controls: replicas, fullyLabeledReplicas,
// readyReplicas, availableReplicas (Ready for minReadySeconds), observedGeneration, and a
// ReplicaFailure condition while creating or deleting pods fails.
import type { KObject } from '../../api/object.ts';
import { isPodAvailable, isPodReady } from './pods.ts';

export interface ReplicaSetCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ReplicaSetStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaSetCondition[];
}

export interface ReplicaSetView extends KObject {
  spec?: {
    replicas?: number;
    minReadySeconds?: number;
    selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
    template?: { metadata?: { labels?: Record<string, string> }; spec?: Record<string, unknown> };
  };
  status?: ReplicaSetStatus;
}

export const specReplicas = (rs: ReplicaSetView): number => rs.spec?.replicas ?? 1;
export const minReadySeconds = (rs: ReplicaSetView): number => rs.spec?.minReadySeconds ?? 0;

export const timestamp = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function fullyLabeled(pod: KObject, templateLabels: Record<string, string>): boolean {
  const labels = pod.metadata.labels ?? {};
  return Object.entries(templateLabels).every(([k, v]) => labels[k] === v);
}

/** Kubernetes leaves zero counts out of the JSON (omitempty), except replicas. */
function setCount(status: ReplicaSetStatus, key: 'fullyLabeledReplicas' | 'readyReplicas' | 'availableReplicas', n: number): void {
  if (n > 0) status[key] = n; else delete status[key];
}

/**
 * The status for `pods` (the active pods the ReplicaSet controls, as they were before
 * this sync created or deleted any). `manageError` is the creation/deletion failure of
 * this sync, if any.
 */
export function calculateStatus(rs: ReplicaSetView, pods: KObject[], manageError: unknown, now: number): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = minReadySeconds(rs);
  const status: ReplicaSetStatus = { replicas: pods.length };
  setCount(status, 'fullyLabeledReplicas', pods.filter((p) => fullyLabeled(p, templateLabels)).length);
  setCount(status, 'readyReplicas', pods.filter(isPodReady).length);
  setCount(status, 'availableReplicas', pods.filter((p) => isPodAvailable(p, minReady, now)).length);
  if (rs.metadata.generation !== undefined) status.observedGeneration = rs.metadata.generation;

  const conditions = (rs.status?.conditions ?? []).map((c) => ({ ...c }));
  const failure = conditions.find((c) => c.type === 'ReplicaFailure');
  let next = conditions;
  if (manageError !== undefined && !failure) {
    const diff = pods.length - specReplicas(rs);
    next = [...conditions, {
      type: 'ReplicaFailure', status: 'True', lastTransitionTime: timestamp(now),
      reason: diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '',
      message: manageError instanceof Error ? manageError.message : String(manageError),
    }];
  } else if (manageError === undefined && failure) {
    next = conditions.filter((c) => c.type !== 'ReplicaFailure');
  }
  if (next.length) status.conditions = next;
  return status;
}
