// ControllerRevision (apps/v1): a non-negative revision is required and data never changes.
import { invalid, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { validateNonNegative } from '../validation/index.ts';
import { jsonEqual } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

function validateRevision(cr: KObject): FieldError[] {
  if (cr.revision === undefined || cr.revision === null) return [required('revision')];
  return validateNonNegative('revision', cr.revision);
}

/** "statefulset.apps/web": the controlling owner as kind.group/name. */
function controllerCell(cr: KObject): string {
  const owner = (cr.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  if (!owner) return '<none>';
  const group = owner.apiVersion.includes('/') ? owner.apiVersion.split('/')[0] : '';
  return `${owner.kind.toLowerCase()}${group ? `.${group}` : ''}/${owner.name}`;
}

export const controllerRevisionKind: KindDefinition = {
  validate: validateRevision,
  validateUpdate: (cr, old) => (jsonEqual(cr.data, old.data) ? [] : [invalid('data', '<data>', 'field is immutable')]),
  table: {
    columns: [col('Controller', 'string', 0, 'Controller of the object'), col('Revision', 'integer', 0, 'Revision indicates the revision of the state represented by Data.'), AGE],
    cells: (cr, now) => [controllerCell(cr), cr.revision ?? 0, since(cr.metadata.creationTimestamp, now)],
  },
};

