// StatefulSet (apps/v1): defaults, validation, the fields that may change on update,
// table and scale.
import { forbidden, notSupported, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { validateNonNegative } from '../validation/index.ts';
import { child, clone, jsonEqual, num, obj, objs, setDefault, type Json } from './access.ts';
import { AGE, col, wide } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';
import {
  defaultTemplate, forbidDeadline, prepareGenerationOnCreate, prepareGenerationOnUpdate, replicasScale,
  selectorString, templateWideCells, validateReplicas, validateSelectorForTemplate, validateTemplate,
} from './workload.ts';

function defaultStatefulSet(spec: Json): void {
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  const update = child(spec, 'updateStrategy');
  setDefault(update, 'type', 'RollingUpdate');
  if (update.type === 'RollingUpdate') setDefault(child(update, 'rollingUpdate'), 'partition', 0);
  setDefault(spec, 'revisionHistoryLimit', 10);
  const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
  setDefault(retention, 'whenDeleted', 'Retain');
  setDefault(retention, 'whenScaled', 'Retain');
  for (const claim of objs(spec.volumeClaimTemplates)) {
    setDefault(child(claim, 'spec'), 'volumeMode', 'Filesystem');
  }
  defaultTemplate(spec);
}

/**
 * The template as the pods will be: each volumeClaimTemplate becomes a volume of that
 * name, so containers may mount claims (the controller adds them to every pod).
 */
function withClaimVolumes(spec: Json): unknown {
  const claims = objs(spec.volumeClaimTemplates);
  if (!claims.length || !spec.template || typeof spec.template !== 'object') return spec.template;
  const template = clone(obj(spec.template));
  const podSpec = child(template, 'spec');
  const volumes = objs(podSpec.volumes);
  for (const claim of claims) {
    const name = obj(claim.metadata).name;
    if (typeof name === 'string' && !volumes.some((v) => v.name === name)) {
      volumes.push({ name, persistentVolumeClaim: { claimName: name } });
    }
  }
  podSpec.volumes = volumes;
  return template;
}

function validateStatefulSetSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [
    ...validateReplicas(spec),
    ...validateSelectorForTemplate(spec, 'statefulset'),
    ...validateTemplate(withClaimVolumes(spec), 'spec.template', ['Always']),
    ...forbidDeadline(spec.template, 'spec.template', 'StatefulSet'),
    ...validateNonNegative('spec.minReadySeconds', spec.minReadySeconds),
    ...validateNonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit),
  ];
  if (!['OrderedReady', 'Parallel'].includes(spec.podManagementPolicy as string)) {
    errs.push(notSupported('spec.podManagementPolicy', spec.podManagementPolicy, ['OrderedReady', 'Parallel']));
  }
  const update = obj(spec.updateStrategy);
  if (!['RollingUpdate', 'OnDelete'].includes(update.type as string)) {
    errs.push(notSupported('spec.updateStrategy.type', update.type, ['OnDelete', 'RollingUpdate']));
  } else if (update.type === 'OnDelete' && update.rollingUpdate !== undefined) {
    errs.push(forbidden('spec.updateStrategy.rollingUpdate', "only allowed for updateStrategy 'RollingUpdate'"));
  } else {
    errs.push(...validateNonNegative('spec.updateStrategy.rollingUpdate.partition', obj(update.rollingUpdate).partition));
  }
  return errs;
}

const MUTABLE_SPEC_FIELDS = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

function validateStatefulSetUpdate(sts: KObject, old: KObject): FieldError[] {
  const masked = clone(obj(sts.spec));
  const oldSpec = obj(old.spec);
  for (const f of MUTABLE_SPEC_FIELDS) masked[f] = oldSpec[f];
  return jsonEqual(masked, oldSpec) ? [] : [forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
}

export const statefulSetKind: KindDefinition = {
  defaults: (s) => defaultStatefulSet(child(s, 'spec')),
  prepareForCreate: prepareGenerationOnCreate,
  prepareForUpdate: prepareGenerationOnUpdate,
  validate: (s) => validateStatefulSetSpec(obj(s.spec)),
  validateUpdate: validateStatefulSetUpdate,
  table: {
    columns: [col('Ready', 'string', 0, 'Number of the pod with ready state'), AGE, wide('Containers'), wide('Images')],
    cells(s, now) {
      const spec = obj(s.spec);
      const [containers, images] = templateWideCells(spec, '');
      return [`${num(obj(s.status).readyReplicas)}/${num(spec.replicas)}`, since(s.metadata.creationTimestamp, now), containers, images];
    },
  },
  scale: replicasScale(selectorString),
};
