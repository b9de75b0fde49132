// Pod: defaults (including what the DefaultTolerationSeconds, ServiceAccount and Priority
// admission plugins add), create-time status, validation, the mostly-immutable spec on
// update, the `kubectl get pods` table and the pod field selectors.
import { forbidden, invalid, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { inclusiveRangeError } from '../validation/index.ts';
import { child, clone, jsonEqual, obj, objs, setDefault, str, type Json } from './access.ts';
import { AGE, col, wide } from './columns.ts';
import { since } from './format.ts';
import { podQOSClass } from './pod-qos.ts';
import { defaultPodSpec } from './pod-spec-defaults.ts';
import { validatePodSpec } from './pod-spec-validation.ts';
import { podRow, podWideCells } from './pod-table.ts';
import type { KindDefinition } from './strategy.ts';

/** Taints every pod tolerates for 5 minutes unless it says otherwise. */
const DEFAULT_TOLERATED_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];
const DEFAULT_TOLERATION_SECONDS = 300;

function tolerates(t: Json, taintKey: string): boolean {
  if (t.effect && t.effect !== 'NoExecute') return false;
  if (t.operator === 'Exists') return !t.key || t.key === taintKey;
  return t.key === taintKey && !str(t.value);
}

function defaultPod(pod: KObject): void {
  const spec = child(pod, 'spec');
  defaultPodSpec(spec);
  setDefault(spec, 'enableServiceLinks', true);
  // ServiceAccount admission; the deprecated serviceAccount field mirrors the name.
  const sa = str(spec.serviceAccountName) || str(spec.serviceAccount) || 'default';
  spec.serviceAccountName = sa;
  spec.serviceAccount = sa;
  // Priority admission resolves a named class (apiserver/registry/priority.ts); else 0.
  if (!spec.priorityClassName) setDefault(spec, 'priority', 0);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  const tolerations = objs(spec.tolerations);
  for (const key of DEFAULT_TOLERATED_TAINTS) {
    if (!tolerations.some((t) => tolerates(t, key))) {
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
    }
  }
  spec.tolerations = tolerations;
  // Limits without requests request what they limit.
  for (const c of [...objs(spec.containers), ...objs(spec.initContainers)]) {
    const resources = obj(c.resources);
    const limits = obj(resources.limits);
    if (Object.keys(limits).length === 0) continue;
    const requests = child(child(c, 'resources'), 'requests');
    for (const [r, q] of Object.entries(limits)) setDefault(requests, r, q);
  }
}

export const POD_UPDATE_FORBIDDEN = 'pod updates may not change fields other than `spec.containers[*].image`,'
  + '`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),'
  + '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function validatePodUpdate(pod: KObject, old: KObject): FieldError[] {
  const spec = obj(pod.spec);
  const oldSpec = obj(old.spec);
  const errs: FieldError[] = [];

  const deadline = spec.activeDeadlineSeconds;
  const oldDeadline = oldSpec.activeDeadlineSeconds;
  if (typeof deadline === 'number') {
    if (deadline < 0 || deadline > 2147483647) return [invalid('spec.activeDeadlineSeconds', deadline, inclusiveRangeError(0, 2147483647))];
    if (typeof oldDeadline === 'number' && oldDeadline < deadline) {
      return [invalid('spec.activeDeadlineSeconds', deadline, 'must be less than or equal to previous value')];
    }
  } else if (typeof oldDeadline === 'number') {
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }

  const tolerations = objs(spec.tolerations);
  const oldTolerations = objs(oldSpec.tolerations);
  const onlyAdded = oldTolerations.every((o) => tolerations.some((t) => jsonEqual(t, o)));
  if (!onlyAdded) errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));

  // Mask what may change, then any remaining difference is forbidden.
  const masked = clone(spec);
  const maskImages = (key: string): void => {
    const oldList = objs(oldSpec[key]);
    objs(masked[key]).forEach((c, i) => { if (oldList[i]) c.image = oldList[i]!.image; });
  };
  maskImages('containers');
  maskImages('initContainers');
  masked.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  if (onlyAdded) masked.tolerations = oldSpec.tolerations;
  if (typeof oldSpec.terminationGracePeriodSeconds === 'number' && oldSpec.terminationGracePeriodSeconds < 0
    && masked.terminationGracePeriodSeconds === 1) {
    masked.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  }
  if (!jsonEqual(masked, oldSpec)) errs.push(forbidden('spec', POD_UPDATE_FORBIDDEN));
  return errs;
}

export const podKind: KindDefinition = {
  defaults: defaultPod,
  prepareForCreate(pod) {
    pod.status = { phase: 'Pending', qosClass: podQOSClass(obj(pod.spec)) };
  },
  validate: (pod) => validatePodSpec(obj(pod.spec), 'spec'),
  validateUpdate: validatePodUpdate,
  table: {
    columns: [
      col('Ready', 'string', 0, 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 0, 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'string', 0, 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE,
      wide('IP'), wide('Node'), wide('Nominated Node'), wide('Readiness Gates'),
    ],
    cells(pod, now) {
      const row = podRow(pod, now);
      return [row.ready, row.status, row.restarts, since(pod.metadata.creationTimestamp, now), ...podWideCells(pod)];
    },
  },
  selectableFields: {
    'spec.nodeName': (p) => str(obj(p.spec).nodeName),
    'spec.restartPolicy': (p) => str(obj(p.spec).restartPolicy),
    'spec.schedulerName': (p) => str(obj(p.spec).schedulerName),
    'spec.serviceAccountName': (p) => str(obj(p.spec).serviceAccountName),
    'spec.hostNetwork': (p) => String(obj(p.spec).hostNetwork === true),
    'status.phase': (p) => str(obj(p.status).phase),
    'status.podIP': (p) => str(obj(objs(obj(p.status).podIPs)[0]).ip) || str(obj(p.status).podIP),
    'status.nominatedNodeName': (p) => str(obj(p.status).nominatedNodeName),
  },
};
