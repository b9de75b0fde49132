// LimitRange: item types and quantities; the table shows the creation time.
import { notSupported, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { validateQuantity } from '../validation/index.ts';
import { obj, objs } from './access.ts';
import { CREATED_AT } from './columns.ts';
import type { KindDefinition } from './strategy.ts';

const LIMIT_TYPES = ['Container', 'Pod', 'PersistentVolumeClaim'];
const QUANTITY_MAPS = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'];

function validateLimitRange(lr: KObject): FieldError[] {
  const errs: FieldError[] = [];
  objs(obj(lr.spec).limits).forEach((item, i) => {
    const at = `spec.limits[${i}]`;
    if (!LIMIT_TYPES.includes(item.type as string)) errs.push(notSupported(`${at}.type`, item.type, LIMIT_TYPES));
    for (const m of QUANTITY_MAPS) {
      for (const [r, q] of Object.entries(obj(item[m]))) errs.push(...validateQuantity(`${at}.${m}[${r}]`, q));
    }
  });
  return errs;
}

/** Kubernetes' defaults for Container items: default limit ← max, default request ← default limit, then ← min. */
function defaultLimitRange(lr: KObject): void {
  for (const item of objs(obj(lr.spec).limits)) {
    if (item.type !== 'Container') continue;
    const def = (item.default ??= {}) as Record<string, unknown>;
    const req = (item.defaultRequest ??= {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj(item.max))) def[k] ??= v;
    for (const [k, v] of Object.entries(def)) req[k] ??= v;
    for (const [k, v] of Object.entries(obj(item.min))) req[k] ??= v;
  }
}

export const limitRangeKind: KindDefinition = {
  defaults: defaultLimitRange,
  validate: validateLimitRange,
  table: CREATED_AT,
};
