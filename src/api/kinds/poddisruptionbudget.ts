// PodDisruptionBudget (policy/v1): minAvailable xor maxUnavailable, each a count or a
// percent ≤ 100%; valid selector; the table.
import { invalid, notSupported, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { percentValue, validateIntOrPercent, validateLabelSelector } from '../validation/index.ts';
import { num, obj } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';
import { prepareGenerationOnCreate, prepareGenerationOnUpdate } from './workload.ts';

const EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

function validatePDB(pdb: KObject): FieldError[] {
  const spec = obj(pdb.spec);
  const errs: FieldError[] = [];
  const has = (v: unknown): boolean => v !== undefined && v !== null;
  if (has(spec.minAvailable) && has(spec.maxUnavailable)) {
    errs.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const key of ['minAvailable', 'maxUnavailable']) {
    const fieldErrs = validateIntOrPercent(`spec.${key}`, spec[key]);
    errs.push(...fieldErrs);
    if (fieldErrs.length === 0 && (percentValue(spec[key]) ?? 0) > 100) errs.push(invalid(`spec.${key}`, spec[key], 'must not be greater than 100%'));
  }
  errs.push(...validateLabelSelector('spec.selector', spec.selector));
  if (spec.unhealthyPodEvictionPolicy !== undefined && !EVICTION_POLICIES.includes(spec.unhealthyPodEvictionPolicy as string)) {
    errs.push(notSupported('spec.unhealthyPodEvictionPolicy', spec.unhealthyPodEvictionPolicy, EVICTION_POLICIES));
  }
  return errs;
}

const intOrPercentCell = (v: unknown): string => (v === undefined || v === null ? 'N/A' : String(v));

export const podDisruptionBudgetKind: KindDefinition = {
  prepareForCreate: prepareGenerationOnCreate,
  prepareForUpdate: prepareGenerationOnUpdate,
  validate: validatePDB,
  table: {
    columns: [
      col('Min Available', 'string', 0, 'The minimum number of pods that must be available.'),
      col('Max Unavailable', 'string', 0, 'The maximum number of pods that may be unavailable.'),
      col('Allowed Disruptions', 'integer', 0, 'Calculated number of pods that may be disrupted at this time.'),
      AGE,
    ],
    cells(pdb, now) {
      const spec = obj(pdb.spec);
      return [intOrPercentCell(spec.minAvailable), intOrPercentCell(spec.maxUnavailable), num(obj(pdb.status).disruptionsAllowed), since(pdb.metadata.creationTimestamp, now)];
    },
  },
};
