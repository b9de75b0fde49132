// ReplicationController (core/v1): map selector defaulted from the template's labels.
import { child, num, obj, setDefault, strMap } from './access.ts';
import { since } from './format.ts';
import { REPLICA_COLUMNS } from './replicaset.ts';
import type { KindDefinition } from './strategy.ts';
import {
  defaultTemplate, forbidDeadline, mapSelectorString, prepareGenerationOnCreate, prepareGenerationOnUpdate,
  replicasScale, templateWideCells, validateMapSelectorForTemplate, validateReplicas, validateTemplate,
} from './workload.ts';

export const replicationControllerKind: KindDefinition = {
  defaults(rc) {
    const spec = child(rc, 'spec');
    setDefault(spec, 'replicas', 1);
    const templateLabels = strMap(obj(obj(spec.template).metadata).labels);
    // An RC without a selector (or labels) takes its template's labels.
    if (Object.keys(templateLabels).length > 0) {
      if (Object.keys(strMap(spec.selector)).length === 0) spec.selector = { ...templateLabels };
      if (Object.keys(rc.metadata.labels ?? {}).length === 0) rc.metadata.labels = { ...templateLabels };
    }
    if (spec.template !== undefined) defaultTemplate(spec);
  },
  prepareForCreate: prepareGenerationOnCreate,
  prepareForUpdate: prepareGenerationOnUpdate,
  validate(rc) {
    const spec = obj(rc.spec);
    return [
      ...validateMapSelectorForTemplate(spec),
      ...validateReplicas(spec),
      ...validateTemplate(spec.template, 'spec.template', ['Always']),
      ...forbidDeadline(spec.template, 'spec.template', 'ReplicationController'),
    ];
  },
  table: {
    columns: REPLICA_COLUMNS,
    cells(rc, now) {
      const spec = obj(rc.spec);
      const status = obj(rc.status);
      return [
        num(spec.replicas), num(status.replicas), num(status.readyReplicas),
        since(rc.metadata.creationTimestamp, now),
        ...templateWideCells(spec, mapSelectorString(spec)),
      ];
    },
  },
  scale: replicasScale(mapSelectorString),
};
