// The PodSecurity admission step: a namespace's `pod-security.kubernetes.io/<mode>` labels
// pick a level of the Pod Security Standards per mode. `enforce` refuses a violating Pod
// (403, kube-apiserver's message); `warn` lets it in with a Warning header. Workloads
// (Deployments, Jobs, ... anything with a pod template) are only warned about: enforcement
// happens when their pods are created, as in Kubernetes. `audit` annotations are not
// written yet.
import type { KObject } from '../../../api/object.ts';
import { forbidden } from '../../errors.ts';
import { describe, violations, type Level } from './checks.ts';

type Json = Record<string, any>;
const PREFIX = 'pod-security.kubernetes.io/';
const LEVELS: Level[] = ['privileged', 'baseline', 'restricted'];

export interface ModePolicy { level: Level; version: string }

/** The policy of one mode from a namespace's labels; an invalid level fails closed (restricted). */
export function modePolicy(labels: Record<string, string> | undefined, mode: 'enforce' | 'warn' | 'audit'): ModePolicy | undefined {
  const level = labels?.[`${PREFIX}${mode}`];
  if (level === undefined) return undefined;
  return { level: LEVELS.includes(level as Level) ? level as Level : 'restricted', version: labels?.[`${PREFIX}${mode}-version`] || 'latest' };
}

/** Label values a namespace may carry (checked on namespace writes). */
export function labelErrors(labels: Record<string, string> | undefined): { field: string; value: string; message: string }[] {
  const out = [];
  for (const mode of ['enforce', 'warn', 'audit']) {
    const v = labels?.[`${PREFIX}${mode}`];
    if (v !== undefined && !LEVELS.includes(v as Level)) out.push({ field: `metadata.labels[${PREFIX}${mode}]`, value: v, message: `must be one of ${LEVELS.join(', ')}` });
    const ver = labels?.[`${PREFIX}${mode}-version`];
    if (ver !== undefined && ver !== 'latest' && !/^v1\.(0|[1-9]\d*)$/.test(ver)) out.push({ field: `metadata.labels[${PREFIX}${mode}-version]`, value: ver, message: "must be 'latest' or of the form v1.x" });
  }
  return out;
}

/** The pod template of a workload object, if it has one. */
export function podTemplateOf(kind: string, obj: Json): Json | undefined {
  if (kind === 'CronJob') return obj.spec?.jobTemplate?.spec?.template;
  if (kind === 'PodTemplate') return obj.template;
  return ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController'].includes(kind) ? obj.spec?.template : undefined;
}

export function admitPodSecurity(kind: string, plural: string, obj: KObject, namespaceLabels: Record<string, string> | undefined, warnings: string[] | undefined): void {
  const pod = kind === 'Pod' ? { metadata: obj.metadata, spec: obj.spec } : podTemplateOf(kind, obj as Json);
  if (!pod) return;
  const enforce = modePolicy(namespaceLabels, 'enforce');
  if (kind === 'Pod' && enforce) {
    const vs = violations(enforce.level, pod.metadata ?? {}, pod.spec ?? {});
    if (vs.length) throw forbidden(`${plural} "${obj.metadata.name}" is forbidden: violates PodSecurity "${enforce.level}:${enforce.version}": ${describe(vs)}`, { name: obj.metadata.name, kind: plural });
  }
  const warn = modePolicy(namespaceLabels, 'warn');
  if (warn && warnings) {
    const vs = violations(warn.level, pod.metadata ?? {}, pod.spec ?? {});
    if (vs.length) warnings.push(`would violate PodSecurity "${warn.level}:${warn.version}": ${describe(vs)}`);
  }
}
