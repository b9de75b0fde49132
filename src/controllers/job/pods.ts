// What the job controller needs to know about its pods: their state, their completion
// index, and how to make one from the job's template.
import type { KObject, OwnerReference } from '../../api/object.ts';
import { obj, objs, str } from '../../api/kinds/access.ts';

/** Keeps a finished pod around until the job has counted it. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const COMPLETION_INDEX_KEY = 'batch.kubernetes.io/job-completion-index';
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';

export const phaseOf = (pod: KObject): string => str(obj(pod.status).phase);
export const isTerminal = (pod: KObject): boolean => ['Succeeded', 'Failed'].includes(phaseOf(pod));
export const isDeleting = (pod: KObject): boolean => Boolean(pod.metadata.deletionTimestamp);
/** Running or about to: not finished and not being deleted. */
export const isActive = (pod: KObject): boolean => !isTerminal(pod) && !isDeleting(pod);
/** Being deleted but not finished yet (its containers may still run). */
export const isTerminating = (pod: KObject): boolean => !isTerminal(pod) && isDeleting(pod);
export const hasTrackingFinalizer = (pod: KObject): boolean => (pod.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);

export function isReady(pod: KObject): boolean {
  return objs(obj(pod.status).conditions).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Container restarts so far (for restartPolicy OnFailure, restarts are failures). */
export function restartCount(pod: KObject): number {
  const status = obj(pod.status);
  let n = 0;
  for (const c of [...objs(status.initContainerStatuses), ...objs(status.containerStatuses)]) {
    if (typeof c.restartCount === 'number') n += c.restartCount;
  }
  return n;
}

export function controllerRef(o: KObject): OwnerReference | undefined {
  return (o.metadata.ownerReferences ?? []).find((r) => r.controller === true);
}

/** The uid of the Job that controls this object, if a Job does. */
export function jobOwnerUid(o: KObject): string | undefined {
  const ref = controllerRef(o);
  return ref && ref.kind === 'Job' && ref.apiVersion.startsWith('batch/') ? ref.uid : undefined;
}

/** `namespace/name` of the Job that controls this object, if a Job does. */
export function jobOwnerKey(o: KObject): string | undefined {
  const ref = controllerRef(o);
  if (!ref || ref.kind !== 'Job' || !ref.apiVersion.startsWith('batch/')) return undefined;
  return `${o.metadata.namespace}/${ref.name}`;
}

/** The pod's completion index (annotation first, then label), if valid for `completions`. */
export function completionIndex(pod: KObject, completions: number): number | undefined {
  const text = pod.metadata.annotations?.[COMPLETION_INDEX_KEY] ?? pod.metadata.labels?.[COMPLETION_INDEX_KEY];
  if (text === undefined || !/^(0|[1-9][0-9]*)$/.test(text)) return undefined;
  const n = Number(text);
  return n < completions ? n : undefined;
}

/** A new pod for `job` (generateName `<job>-`, or `<job>-<index>-` for Indexed jobs). */
export function podFromTemplate(job: KObject, index?: number): KObject {
  const template = structuredClone(obj(obj(job.spec).template));
  const meta = obj(template.metadata);
  const spec = obj(template.spec);
  const name = job.metadata.name!;
  const labels: Record<string, string> = { ...(meta.labels as Record<string, string> | undefined) };
  const annotations: Record<string, string> = { ...(meta.annotations as Record<string, string> | undefined) };
  let generateName = `${name}-`;
  if (index !== undefined) {
    const text = String(index);
    labels[COMPLETION_INDEX_KEY] = text;
    annotations[COMPLETION_INDEX_KEY] = text;
    generateName = `${name}-${text}-`;
    if (!spec.hostname) spec.hostname = `${name}-${text}`;
    for (const c of [...objs(spec.initContainers), ...objs(spec.containers)]) {
      const env = objs(c.env).filter((e) => e.name !== COMPLETION_INDEX_ENV);
      env.push({ name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_KEY}']` } } });
      c.env = env;
    }
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName,
      namespace: job.metadata.namespace,
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [{
        apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true,
      }],
      finalizers: [JOB_TRACKING_FINALIZER],
    },
    spec,
  };
}

/** Deletion order for excess pods: unscheduled, pending, not ready, then newest first. */
export function deletionOrder(a: KObject, b: KObject): number {
  const rank = (p: KObject): number => {
    if (!str(obj(p.spec).nodeName)) return 0;
    if (phaseOf(p) === 'Pending') return 1;
    if (!isReady(p)) return 2;
    return 3;
  };
  return rank(a) - rank(b) || str(b.metadata.creationTimestamp).localeCompare(str(a.metadata.creationTimestamp));
}
