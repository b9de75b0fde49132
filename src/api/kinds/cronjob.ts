// CronJob (batch/v1): defaults, schedule/time zone validation, the job template rules,
// and the `kubectl get cronjobs` table.
import { invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { goLabelSelector, invalidRendered, maxLenError, validateNonNegative, type LabelSelector } from '../validation/index.ts';
import { arr, child, obj, setDefault, str } from './access.ts';
import { AGE, col } from './columns.ts';
import { parseCronSchedule } from './cron-schedule.ts';
import { since } from './format.ts';
import { JOB_RESTART_POLICIES } from './job.ts';
import type { KindDefinition } from './strategy.ts';
import {
  TEMPLATE_WIDE_COLUMNS, defaultTemplate, prepareGenerationOnCreate, prepareGenerationOnUpdate, selectorString,
  templateWideCells, validateTemplate,
} from './workload.ts';

/** Job names get an 11-character suffix; 52 + 11 fits the 63-character label limit. */
const CRONJOB_NAME_MAX = 52;
const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];

export function isValidTimeZone(tz: string): boolean {
  if (tz === '' || tz.trim() !== tz || tz === 'Local') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function validateSchedule(schedule: unknown): FieldError[] {
  const s = str(schedule);
  if (!s) return [required('spec.schedule')];
  if (/(^|\s)(CRON_)?TZ=/.test(s)) return [invalid('spec.schedule', s, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead')];
  try {
    parseCronSchedule(s);
    return [];
  } catch (e) {
    return [invalid('spec.schedule', s, (e as Error).message)];
  }
}

function validateCronJob(cj: KObject): FieldError[] {
  const spec = obj(cj.spec);
  const errs = validateSchedule(spec.schedule);
  const name = cj.metadata.name ?? '';
  if (name.length > CRONJOB_NAME_MAX) errs.push(invalid('metadata.name', name, maxLenError(CRONJOB_NAME_MAX)));
  if (spec.timeZone !== undefined && spec.timeZone !== null && !isValidTimeZone(str(spec.timeZone))) {
    errs.push(invalid('spec.timeZone', spec.timeZone, `unknown time zone ${str(spec.timeZone)}`));
  }
  if (!CONCURRENCY_POLICIES.includes(spec.concurrencyPolicy as string)) {
    errs.push(notSupported('spec.concurrencyPolicy', spec.concurrencyPolicy, CONCURRENCY_POLICIES));
  }
  errs.push(
    ...validateNonNegative('spec.startingDeadlineSeconds', spec.startingDeadlineSeconds),
    ...validateNonNegative('spec.successfulJobsHistoryLimit', spec.successfulJobsHistoryLimit),
    ...validateNonNegative('spec.failedJobsHistoryLimit', spec.failedJobsHistoryLimit),
  );
  const jobSpec = obj(obj(spec.jobTemplate).spec);
  if (spec.jobTemplate === undefined) errs.push(required('spec.jobTemplate'));
  errs.push(...validateTemplate(jobSpec.template, 'spec.jobTemplate.spec.template', JOB_RESTART_POLICIES));
  if (jobSpec.manualSelector !== true && jobSpec.selector !== undefined && jobSpec.selector !== null) {
    errs.push(invalidRendered('spec.jobTemplate.spec.selector', goLabelSelector(jobSpec.selector as LabelSelector), '`selector` will be auto-generated'));
  }
  return errs;
}

export const cronJobKind: KindDefinition = {
  defaults(cj) {
    const spec = child(cj, 'spec');
    setDefault(spec, 'concurrencyPolicy', 'Allow');
    setDefault(spec, 'suspend', false);
    setDefault(spec, 'successfulJobsHistoryLimit', 3);
    setDefault(spec, 'failedJobsHistoryLimit', 1);
    defaultTemplate(child(child(spec, 'jobTemplate'), 'spec'));
  },
  prepareForCreate: prepareGenerationOnCreate,
  prepareForUpdate: prepareGenerationOnUpdate,
  validate: validateCronJob,
  table: {
    columns: [
      col('Schedule', 'string', 0, 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      col('Timezone', 'string', 0, 'The time zone name for the given schedule.'),
      col('Suspend', 'boolean', 0, 'This flag tells the controller to suspend subsequent executions.'),
      col('Active', 'integer', 0, 'A list of pointers to currently running jobs.'),
      col('Last Schedule', 'string', 0, 'Information when was the last time the job was successfully scheduled.'),
      AGE,
      ...TEMPLATE_WIDE_COLUMNS,
    ],
    cells(cj, now) {
      const spec = obj(cj.spec);
      const status = obj(cj.status);
      const jobSpec = obj(obj(spec.jobTemplate).spec);
      return [
        str(spec.schedule),
        str(spec.timeZone) || '<none>',
        spec.suspend === true,
        arr(status.active).length,
        status.lastScheduleTime ? since(status.lastScheduleTime, now) : '<none>',
        since(cj.metadata.creationTimestamp, now),
        ...templateWideCells(jobSpec, selectorString(jobSpec)),
      ];
    },
  },
};
