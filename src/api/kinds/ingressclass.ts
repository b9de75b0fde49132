// IngressClass (networking.k8s.io): controller required and immutable.
import { invalid, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { isQualifiedName } from '../validation/index.ts';
import { obj, str } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

/** The annotation that makes an IngressClass the cluster's default. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

function validateIngressClass(ic: KObject): FieldError[] {
  const controller = str(obj(ic.spec).controller);
  if (!controller) return [required('spec.controller')];
  return controller.length > 250 ? [invalid('spec.controller', controller, 'must be no more than 250 characters')]
    : isQualifiedName(controller.split('/').slice(0, 2).join('/')).map((m) => invalid('spec.controller', controller, m));
}

function parametersCell(ic: KObject): string {
  const p = obj(obj(ic.spec).parameters);
  if (!p.kind) return '<none>';
  const group = str(p.apiGroup);
  return `${str(p.kind)}${group ? `.${group}` : ''}/${str(p.name)}`;
}

export const ingressClassKind: KindDefinition = {
  validate: validateIngressClass,
  validateUpdate: (ic, old) => (obj(ic.spec).controller === obj(old.spec).controller ? [] : [invalid('spec.controller', obj(ic.spec).controller, 'field is immutable')]),
  table: {
    columns: [col('Controller', 'string', 0, 'Controller that is responsible for handling this class'), col('Parameters', 'string', 0, 'A reference to a resource with additional parameters'), AGE],
    cells: (ic, now) => [str(obj(ic.spec).controller), parametersCell(ic), since(ic.metadata.creationTimestamp, now)],
  },
};
