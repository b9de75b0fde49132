// Pod state as the workload controllers judge it (Kubernetes' podutil): ready, available
// after minReadySeconds, terminating, finished.
import type { KObject } from '../../api/object.ts';

interface PodCondition { type?: string; status?: string; lastTransitionTime?: string }
interface PodStatus { phase?: string; conditions?: PodCondition[] }

const statusOf = (pod: KObject): PodStatus => (pod.status ?? {}) as PodStatus;

export const podPhase = (pod: KObject): string => statusOf(pod).phase ?? '';

export const isTerminating = (pod: KObject): boolean => Boolean(pod.metadata.deletionTimestamp);

export const isFinished = (pod: KObject): boolean => podPhase(pod) === 'Succeeded' || podPhase(pod) === 'Failed';

function readyCondition(pod: KObject): PodCondition | undefined {
  return statusOf(pod).conditions?.find((c) => c.type === 'Ready');
}

export const isPodReady = (pod: KObject): boolean => readyCondition(pod)?.status === 'True';

export const isRunningAndReady = (pod: KObject): boolean => podPhase(pod) === 'Running' && isPodReady(pod);

/**
 * Milliseconds until a ready pod becomes available (0: it is), or undefined when it is
 * not ready at all. Available means ready for at least minReadySeconds.
 */
export function msUntilAvailable(pod: KObject, minReadySeconds: number, now: number): number | undefined {
  if (!isPodReady(pod)) return undefined;
  if (!minReadySeconds) return 0;
  const since = Date.parse(readyCondition(pod)?.lastTransitionTime ?? '');
  if (Number.isNaN(since)) return 0;
  return Math.max(0, since + minReadySeconds * 1000 - now);
}

export const isPodAvailable = (pod: KObject, minReadySeconds: number, now: number): boolean =>
  msUntilAvailable(pod, minReadySeconds, now) === 0;

/** Oldest first, by creation time then name. */
export function byAge(a: KObject, b: KObject): number {
  return (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '')
    || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}
