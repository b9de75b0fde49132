// Job (batch/v1): defaults, the selector and pod labels generated from the job's uid,
// validation, what may change on update, and the `kubectl get jobs` table.
import { invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { goLabelSelector, invalidRendered, validateNonNegative, validatePositive, type LabelSelector } from '../validation/index.ts';
import { child, jsonEqual, num, obj, objs, setDefault, str, type Json } from './access.ts';
import { AGE, col } from './columns.ts';
import { humanDuration, since } from './format.ts';
import type { KindDefinition } from './strategy.ts';
import {
  TEMPLATE_WIDE_COLUMNS, defaultTemplate, prepareGenerationOnUpdate, selectorString, templateWideCells,
  validateSelectorForTemplate, validateTemplate,
} from './workload.ts';

export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
// The unprefixed forms are still set for older clients and selectors.
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';

export const JOB_RESTART_POLICIES = ['OnFailure', 'Never'];

/** Job spec defaults, also used for CronJob job templates' pod specs. */
function defaultJob(job: KObject): void {
  const spec = child(job, 'spec');
  // A plain job runs one pod to completion.
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'podReplacementPolicy', spec.podFailurePolicy !== undefined ? 'Failed' : 'TerminatingOrFailed');
  defaultTemplate(spec);
}

/**
 * Unless the user chose the selector (manualSelector), the job selects its pods by its own
 * uid, and the template carries that uid and the job name. Needs metadata.uid.
 */
export function generateJobSelector(job: KObject): void {
  const spec = child(job, 'spec');
  const uid = job.metadata.uid;
  if (spec.manualSelector === true || !uid) return;
  const meta = child(child(spec, 'template'), 'metadata');
  meta.labels = {
    ...obj(meta.labels),
    [CONTROLLER_UID_LABEL]: uid,
    [JOB_NAME_LABEL]: job.metadata.name ?? '',
    [LEGACY_CONTROLLER_UID_LABEL]: uid,
    [LEGACY_JOB_NAME_LABEL]: job.metadata.name ?? '',
  };
  if (spec.selector === undefined || spec.selector === null) spec.selector = { matchLabels: { [CONTROLLER_UID_LABEL]: uid } };
}

function validateJobSpec(job: KObject): FieldError[] {
  const spec = obj(job.spec);
  const errs: FieldError[] = [
    ...validateNonNegative('spec.parallelism', spec.parallelism),
    ...validateNonNegative('spec.completions', spec.completions),
    ...validateNonNegative('spec.backoffLimit', spec.backoffLimit),
    ...validatePositive('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds),
    ...validateNonNegative('spec.ttlSecondsAfterFinished', spec.ttlSecondsAfterFinished),
    ...validateSelectorForTemplate(spec, 'job'),
    ...validateTemplate(spec.template, 'spec.template', JOB_RESTART_POLICIES),
  ];
  if (!['NonIndexed', 'Indexed'].includes(spec.completionMode as string)) {
    errs.push(notSupported('spec.completionMode', spec.completionMode, ['NonIndexed', 'Indexed']));
  } else if (spec.completionMode === 'Indexed' && (spec.completions === undefined || spec.completions === null)) {
    errs.push(required('spec.completions', 'when completion mode is Indexed'));
  }
  // A generated selector must be exactly the uid one.
  const uid = job.metadata.uid;
  if (spec.manualSelector !== true && uid && spec.selector) {
    const expected = { matchLabels: { [CONTROLLER_UID_LABEL]: uid } };
    if (!jsonEqual(spec.selector, expected)) errs.push(invalidRendered('spec.selector', goLabelSelector(spec.selector as LabelSelector), '`selector` not auto-generated'));
  }
  return errs;
}

function validateJobUpdate(job: KObject, old: KObject): FieldError[] {
  const spec = obj(job.spec);
  const oldSpec = obj(old.spec);
  const errs: FieldError[] = [];
  if (!jsonEqual(spec.selector, oldSpec.selector)) errs.push(invalidRendered('spec.selector', goLabelSelector(spec.selector as LabelSelector), 'field is immutable'));
  if (spec.completionMode !== oldSpec.completionMode) errs.push(invalid('spec.completionMode', spec.completionMode, 'field is immutable'));
  // Indexed jobs may be resized by changing completions and parallelism together.
  const elastic = spec.completionMode === 'Indexed' && spec.completions === spec.parallelism;
  if (spec.completions !== oldSpec.completions && !elastic) errs.push(invalid('spec.completions', spec.completions, 'field is immutable'));
  // The template may change only while the job is suspended (and never started).
  const suspended = oldSpec.suspend === true && !obj(old.status).startTime;
  if (!suspended && !jsonEqual(spec.template, oldSpec.template)) errs.push(invalid('spec.template', '<pod template>', 'field is immutable'));
  return errs;
}

const hasCondition = (status: Json, type: string): boolean =>
  objs(status.conditions).some((c) => c.type === type && c.status === 'True');

export function jobStatus(job: KObject): string {
  const status = obj(job.status);
  if (hasCondition(status, 'Complete')) return 'Complete';
  if (hasCondition(status, 'Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (hasCondition(status, 'Suspended')) return 'Suspended';
  if (hasCondition(status, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(status, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function completionsCell(job: KObject): string {
  const spec = obj(job.spec);
  const succeeded = num(obj(job.status).succeeded);
  if (typeof spec.completions === 'number') return `${succeeded}/${spec.completions}`;
  const parallelism = num(spec.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function durationCell(job: KObject, now: number): string {
  const status = obj(job.status);
  const start = Date.parse(str(status.startTime));
  if (Number.isNaN(start)) return '';
  const end = Date.parse(str(status.completionTime));
  return humanDuration((Number.isNaN(end) ? now : end) - start);
}

export const jobKind: KindDefinition = {
  defaults: defaultJob,
  prepareForCreate(job) {
    job.status = {};
    job.metadata.generation = 1;
    generateJobSelector(job);
    // A job without labels of its own shows its pods' labels (Kubernetes defaults them so).
    const templateLabels = obj(obj(obj(job.spec).template).metadata).labels as Record<string, string> | undefined;
    if (Object.keys(job.metadata.labels ?? {}).length === 0 && templateLabels) job.metadata.labels = { ...templateLabels };
  },
  prepareForUpdate: prepareGenerationOnUpdate,
  validate: validateJobSpec,
  validateUpdate: validateJobUpdate,
  table: {
    columns: [
      col('Status', 'string', 0, 'Status of the job.'),
      col('Completions', 'string', 0, 'The desired number of successfully finished pods the job should be run with.'),
      col('Duration', 'string', 0, 'Time required to complete the job.'),
      AGE,
      ...TEMPLATE_WIDE_COLUMNS,
    ],
    cells: (job, now) => [
      jobStatus(job), completionsCell(job), durationCell(job, now), since(job.metadata.creationTimestamp, now),
      ...templateWideCells(obj(job.spec), selectorString(obj(job.spec))),
    ],
  },
};
