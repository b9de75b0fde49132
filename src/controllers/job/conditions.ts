// Job conditions (Complete, Failed, SuccessCriteriaMet, FailureTarget, Suspended).
import type { KObject } from '../../api/object.ts';
import { obj, objs } from '../../api/kinds/access.ts';

export interface JobCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}

export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export function getCondition(status: Record<string, unknown>, type: string): JobCondition | undefined {
  return objs(status.conditions).find((c) => c.type === type) as JobCondition | undefined;
}

export function conditionTrue(status: Record<string, unknown>, type: string): boolean {
  return getCondition(status, type)?.status === 'True';
}

/** Sets a condition; lastTransitionTime moves only when the status does. */
export function setCondition(status: Record<string, unknown>, type: string, value: 'True' | 'False', reason: string, message: string, now: number): void {
  const list = objs(status.conditions) as unknown as JobCondition[];
  const stamp = rfc3339(now);
  const existing = list.find((c) => c.type === type);
  if (existing) {
    if (existing.status !== value) existing.lastTransitionTime = stamp;
    existing.status = value;
    existing.reason = reason;
    existing.message = message;
    existing.lastProbeTime = stamp;
  } else {
    list.push({ type, status: value, lastProbeTime: stamp, lastTransitionTime: stamp, reason, message });
  }
  status.conditions = list;
}

/** The Complete or Failed condition of a finished job. */
export function finishedCondition(job: KObject): JobCondition | undefined {
  const status = obj(job.status);
  for (const type of ['Complete', 'Failed']) {
    const c = getCondition(status, type);
    if (c?.status === 'True') return c;
  }
  return undefined;
}
