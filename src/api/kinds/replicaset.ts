// ReplicaSet (apps/v1): defaults, validation, immutable selector, table, scale.
import { child, num, obj, setDefault } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';
import { validateNonNegative } from '../validation/index.ts';
import {
  TEMPLATE_WIDE_COLUMNS, defaultTemplate, forbidDeadline, prepareGenerationOnCreate, prepareGenerationOnUpdate,
  replicasScale, selectorString, templateWideCells, validateReplicas, validateSelectorForTemplate,
  validateSelectorImmutable, validateTemplate,
} from './workload.ts';

/** DESIRED CURRENT READY, shared with ReplicationController. */
export const REPLICA_COLUMNS = [
  col('Desired', 'integer', 0, 'Number of desired pods.'),
  col('Current', 'integer', 0, 'Number of actual replicas.'),
  col('Ready', 'integer', 0, 'The number of ready replicas for this replica set.'),
  AGE,
  ...TEMPLATE_WIDE_COLUMNS,
];

export const replicaSetKind: KindDefinition = {
  defaults(rs) {
    const spec = child(rs, 'spec');
    setDefault(spec, 'replicas', 1);
    defaultTemplate(spec);
  },
  prepareForCreate: prepareGenerationOnCreate,
  prepareForUpdate: prepareGenerationOnUpdate,
  validate(rs) {
    const spec = obj(rs.spec);
    return [
      ...validateReplicas(spec),
      // Kubernetes' ReplicaSet validation really does say "deployment" here.
      ...validateSelectorForTemplate(spec, 'deployment'),
      ...validateTemplate(spec.template, 'spec.template', ['Always']),
      ...forbidDeadline(spec.template, 'spec.template', 'ReplicaSet'),
      ...validateNonNegative('spec.minReadySeconds', spec.minReadySeconds),
    ];
  },
  validateUpdate: validateSelectorImmutable,
  table: {
    columns: REPLICA_COLUMNS,
    cells(rs, now) {
      const spec = obj(rs.spec);
      const status = obj(rs.status);
      return [
        num(spec.replicas), num(status.replicas), num(status.readyReplicas),
        since(rs.metadata.creationTimestamp, now),
        ...templateWideCells(spec, selectorString(spec)),
      ];
    },
  },
  scale: replicasScale(selectorString),
};
