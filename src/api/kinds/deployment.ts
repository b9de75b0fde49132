// Deployment (apps/v1): defaults, spec validation, immutable selector, table, scale.
import { forbidden, invalid, notSupported, required, type FieldError } from '../field-error.ts';
import { isZeroIntOrPercent, percentValue, validateIntOrPercent, validateNonNegative, validatePositive } from '../validation/index.ts';
import { child, num, obj, setDefault, type Json } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';
import {
  TEMPLATE_WIDE_COLUMNS, defaultTemplate, forbidDeadline, prepareGenerationOnCreate, prepareGenerationOnUpdate,
  replicasScale, selectorString, templateWideCells, validateReplicas, validateSelectorForTemplate,
  validateSelectorImmutable, validateTemplate,
} from './workload.ts';

function defaultDeployment(spec: Json): void {
  setDefault(spec, 'replicas', 1);
  const strategy = child(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rolling = child(strategy, 'rollingUpdate');
    setDefault(rolling, 'maxUnavailable', '25%');
    setDefault(rolling, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultTemplate(spec);
}

/** maxSurge/maxUnavailable: counts or percents ≤ 100%, not both zero. */
export function validateRollingUpdate(rolling: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of ['maxUnavailable', 'maxSurge']) {
    const v = rolling[key];
    const fieldErrs = validateIntOrPercent(`${path}.${key}`, v);
    errs.push(...fieldErrs);
    if (fieldErrs.length === 0 && (percentValue(v) ?? 0) > 100) errs.push(invalid(`${path}.${key}`, v, 'must not be greater than 100%'));
  }
  if (isZeroIntOrPercent(rolling.maxUnavailable) && isZeroIntOrPercent(rolling.maxSurge)) {
    errs.push(invalid(`${path}.maxUnavailable`, rolling.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  }
  return errs;
}

function validateStrategy(strategy: Json): FieldError[] {
  if (strategy.type === 'Recreate') {
    return strategy.rollingUpdate === undefined || strategy.rollingUpdate === null
      ? [] : [forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'")];
  }
  if (strategy.type === 'RollingUpdate') {
    return strategy.rollingUpdate === undefined || strategy.rollingUpdate === null
      ? [required('spec.strategy.rollingUpdate', 'this should be defaulted and never be nil')]
      : validateRollingUpdate(obj(strategy.rollingUpdate), 'spec.strategy.rollingUpdate');
  }
  return [notSupported('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate'])];
}

function validateDeploymentSpec(spec: Json): FieldError[] {
  const errs = [
    ...validateReplicas(spec),
    ...validateSelectorForTemplate(spec, 'deployment'),
    ...validateTemplate(spec.template, 'spec.template', ['Always']),
    ...forbidDeadline(spec.template, 'spec.template', 'ReplicaSet'),
    ...validateStrategy(obj(spec.strategy)),
    ...validateNonNegative('spec.minReadySeconds', spec.minReadySeconds),
    ...validateNonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit),
  ];
  if (typeof spec.progressDeadlineSeconds === 'number') {
    errs.push(...validatePositive('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds));
    if (spec.progressDeadlineSeconds <= num(spec.minReadySeconds)) {
      errs.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

export const deploymentKind: KindDefinition = {
  defaults: (d) => defaultDeployment(child(d, 'spec')),
  prepareForCreate: prepareGenerationOnCreate,
  prepareForUpdate: prepareGenerationOnUpdate,
  validate: (d) => validateDeploymentSpec(obj(d.spec)),
  validateUpdate: validateSelectorImmutable,
  table: {
    columns: [
      col('Ready', 'string', 0, 'Number of the pod with ready state'),
      col('Up-to-date', 'integer', 0, 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      col('Available', 'integer', 0, 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      AGE,
      ...TEMPLATE_WIDE_COLUMNS,
    ],
    cells(d, now) {
      const spec = obj(d.spec);
      const status = obj(d.status);
      return [
        `${num(status.readyReplicas)}/${num(spec.replicas)}`,
        num(status.updatedReplicas),
        num(status.availableReplicas),
        since(d.metadata.creationTimestamp, now),
        ...templateWideCells(spec, selectorString(spec)),
      ];
    },
  },
  scale: replicasScale(selectorString),
};
