// RoleBinding and ClusterRoleBinding (rbac.authorization.k8s.io): roleRef required and
// fixed for life, subjects of known kinds; the table lists who is bound.
import { invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { invalidRendered, isDNS1123Subdomain, nameIsPathSegment } from '../validation/index.ts';
import { child, jsonEqual, obj, objs, str, type Json } from './access.ts';
import { AGE, col, wide } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function defaultBinding(b: KObject): void {
  const roleRef = child(b, 'roleRef');
  if (!roleRef.apiGroup) roleRef.apiGroup = RBAC_GROUP;
  for (const s of objs(b.subjects)) {
    if (s.apiGroup === undefined && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = RBAC_GROUP;
    if (s.apiGroup === undefined && s.kind === 'ServiceAccount') s.apiGroup = '';
  }
}

function validateSubject(s: Json, at: string, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(s.name);
  if (!name) errs.push(required(`${at}.name`));
  switch (s.kind) {
    case 'ServiceAccount':
      if (name) errs.push(...isDNS1123Subdomain(name).map((m) => invalid(`${at}.name`, name, m)));
      if (str(s.apiGroup)) errs.push(notSupported(`${at}.apiGroup`, s.apiGroup, ['']));
      if (!namespaced && !str(s.namespace)) errs.push(required(`${at}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(notSupported(`${at}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(`${at}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(b: KObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const roleRef = obj(b.roleRef);
  if (roleRef.apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', roleRef.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(roleRef.kind as string)) errs.push(notSupported('roleRef.kind', roleRef.kind ?? '', kinds));
  const name = str(roleRef.name);
  if (!name) errs.push(required('roleRef.name'));
  else errs.push(...nameIsPathSegment(name, false).map((m) => invalid('roleRef.name', name, m)));
  objs(b.subjects).forEach((s, i) => errs.push(...validateSubject(s, `subjects[${i}]`, namespaced)));
  return errs;
}

const goRoleRef = (r: Json): string =>
  `rbac.RoleRef{APIGroup:${JSON.stringify(str(r.apiGroup))}, Kind:${JSON.stringify(str(r.kind))}, Name:${JSON.stringify(str(r.name))}}`;

function validateRoleRefUnchanged(b: KObject, old: KObject): FieldError[] {
  return jsonEqual(b.roleRef, old.roleRef) ? [] : [invalidRendered('roleRef', goRoleRef(obj(b.roleRef)), 'cannot change roleRef')];
}

function subjectsOf(b: KObject, kind: string): string {
  return objs(b.subjects).filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${str(s.namespace)}:${str(s.name)}` : str(s.name))).join(', ');
}

const BINDING_TABLE = {
  columns: [col('Role', 'string', 0, 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'), AGE, wide('Users'), wide('Groups'), wide('ServiceAccounts')],
  cells: (b: KObject, now: number) => {
    const roleRef = obj(b.roleRef);
    return [`${str(roleRef.kind)}/${str(roleRef.name)}`, since(b.metadata.creationTimestamp, now), subjectsOf(b, 'User'), subjectsOf(b, 'Group'), subjectsOf(b, 'ServiceAccount')];
  },
};

export const roleBindingKind: KindDefinition = {
  nameValidator: nameIsPathSegment,
  defaults: defaultBinding,
  validate: (b) => validateBinding(b, true),
  validateUpdate: validateRoleRefUnchanged,
  table: BINDING_TABLE,
};

export const clusterRoleBindingKind: KindDefinition = {
  nameValidator: nameIsPathSegment,
  defaults: defaultBinding,
  validate: (b) => validateBinding(b, false),
  validateUpdate: validateRoleRefUnchanged,
  table: BINDING_TABLE,
};
