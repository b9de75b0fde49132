// PodTemplate (core/v1): the template gets pod-spec defaults and validation; the table
// shows its containers, images and labels.
import { formatLabelMap } from '../validation/index.ts';
import { child, obj, strMap } from './access.ts';
import { col } from './columns.ts';
import { defaultPodSpec } from './pod-spec-defaults.ts';
import type { KindDefinition } from './strategy.ts';
import { RESTART_POLICIES } from './pod-spec-validation.ts';
import { templateWideCells, validateTemplate } from './workload.ts';

export const podTemplateKind: KindDefinition = {
  defaults: (pt) => defaultPodSpec(child(child(pt, 'template'), 'spec')),
  validate: (pt) => validateTemplate(pt.template, 'template', RESTART_POLICIES),
  table: {
    columns: [col('Containers'), col('Images'), col('Pod Labels')],
    cells(pt) {
      const [containers, images] = templateWideCells(pt, '');
      return [containers, images, formatLabelMap(strMap(obj(obj(pt.template).metadata).labels))];
    },
  },
};
