// Role and ClusterRole (rbac.authorization.k8s.io): each rule needs verbs and either
// resources with API groups or (cluster roles only) non-resource URLs.
import { required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { goStringSlice, nameIsPathSegment } from '../validation/index.ts';
import { arr, objs } from './access.ts';
import { CREATED_AT } from './columns.ts';
import type { KindDefinition } from './strategy.ts';

function validateRules(role: KObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  objs(role.rules).forEach((rule, i) => {
    const at = `rules[${i}]`;
    if (arr(rule.verbs).length === 0) errs.push(required(`${at}.verbs`, 'verbs must contain at least one value'));
    const urls = arr(rule.nonResourceURLs).map(String);
    if (urls.length > 0) {
      const rendered = goStringSlice(urls);
      if (namespaced) errs.push({ type: 'FieldValueInvalid', field: `${at}.nonResourceURLs`, message: `Invalid value: ${rendered}: namespaced rules cannot apply to non-resource URLs` });
      if (arr(rule.apiGroups).length + arr(rule.resources).length + arr(rule.resourceNames).length > 0) {
        errs.push({ type: 'FieldValueInvalid', field: `${at}.nonResourceURLs`, message: `Invalid value: ${rendered}: rules cannot apply to both regular resources and non-resource URLs` });
      }
      return;
    }
    if (arr(rule.apiGroups).length === 0) errs.push(required(`${at}.apiGroups`, 'resource rules must supply at least one api group'));
    if (arr(rule.resources).length === 0) errs.push(required(`${at}.resources`, 'resource rules must supply at least one resource'));
  });
  return errs;
}

export const roleKind: KindDefinition = {
  nameValidator: nameIsPathSegment,
  validate: (r) => validateRules(r, true),
  table: CREATED_AT,
};

export const clusterRoleKind: KindDefinition = {
  nameValidator: nameIsPathSegment,
  validate: (r) => validateRules(r, false),
  table: CREATED_AT,
};

