// DaemonSet (apps/v1): defaults, validation, immutable selector, table.
import { forbidden, notSupported, type FieldError } from '../field-error.ts';
import { formatLabelMap, validateNonNegative } from '../validation/index.ts';
import { child, num, obj, setDefault, strMap, type Json } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import { validateRollingUpdate } from './deployment.ts';
import type { KindDefinition } from './strategy.ts';
import {
  TEMPLATE_WIDE_COLUMNS, defaultTemplate, prepareGenerationOnCreate, prepareGenerationOnUpdate, selectorString,
  templateWideCells, validateSelectorForTemplate, validateSelectorImmutable, validateTemplate,
} from './workload.ts';

function defaultDaemonSet(spec: Json): void {
  const update = child(spec, 'updateStrategy');
  setDefault(update, 'type', 'RollingUpdate');
  if (update.type === 'RollingUpdate') {
    const rolling = child(update, 'rollingUpdate');
    setDefault(rolling, 'maxUnavailable', 1);
    setDefault(rolling, 'maxSurge', 0);
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultTemplate(spec);
}

function validateDaemonSetSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [
    ...validateSelectorForTemplate(spec, 'daemonset'),
    ...validateTemplate(spec.template, 'spec.template', ['Always']),
    ...validateNonNegative('spec.minReadySeconds', spec.minReadySeconds),
    ...validateNonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit),
  ];
  const templateSpec = obj(obj(spec.template).spec);
  if (templateSpec.activeDeadlineSeconds !== undefined && templateSpec.activeDeadlineSeconds !== null) {
    errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in DaemonSet is not Supported'));
  }
  const update = obj(spec.updateStrategy);
  if (update.type === 'RollingUpdate') errs.push(...validateRollingUpdate(obj(update.rollingUpdate), 'spec.updateStrategy.rollingUpdate'));
  else if (update.type !== 'OnDelete') errs.push(notSupported('spec.updateStrategy.type', update.type, ['OnDelete', 'RollingUpdate']));
  return errs;
}

export const daemonSetKind: KindDefinition = {
  defaults: (ds) => defaultDaemonSet(child(ds, 'spec')),
  prepareForCreate: prepareGenerationOnCreate,
  prepareForUpdate: prepareGenerationOnUpdate,
  validate: (ds) => validateDaemonSetSpec(obj(ds.spec)),
  validateUpdate: validateSelectorImmutable,
  table: {
    columns: [
      col('Desired', 'integer', 0, 'The total number of nodes that should be running the daemon pod.'),
      col('Current', 'integer', 0, 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
      col('Ready', 'integer', 0, 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
      col('Up-to-date', 'integer', 0, 'The total number of nodes that are running updated daemon pod'),
      col('Available', 'integer', 0, 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)'),
      col('Node Selector', 'string', 0, 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
      AGE,
      ...TEMPLATE_WIDE_COLUMNS,
    ],
    cells(ds, now) {
      const spec = obj(ds.spec);
      const status = obj(ds.status);
      const nodeSelector = formatLabelMap(strMap(obj(obj(spec.template).spec).nodeSelector));
      return [
        num(status.desiredNumberScheduled), num(status.currentNumberScheduled), num(status.numberReady),
        num(status.updatedNumberScheduled), num(status.numberAvailable), nodeSelector || '<none>',
        since(ds.metadata.creationTimestamp, now),
        ...templateWideCells(spec, selectorString(spec)),
      ];
    },
  },
};
