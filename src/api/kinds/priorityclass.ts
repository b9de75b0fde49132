// PriorityClass (scheduling.k8s.io): a value is required; user classes stay at or below
// one billion and may not take the reserved "system-" prefix; value and preemption policy
// are fixed once created.
import { forbidden, invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import { setDefault, str } from './access.ts';
import type { KindDefinition } from './strategy.ts';

export const HIGHEST_USER_PRIORITY = 1_000_000_000;
/** The built-in classes, the only ones allowed the system- prefix and higher values. */
export const SYSTEM_PRIORITY_CLASSES: Record<string, number> = {
  'system-cluster-critical': 2_000_000_000,
  'system-node-critical': 2_000_001_000,
};
const PREEMPTION_POLICIES = ['Never', 'PreemptLowerPriority'];

function validatePriorityClass(pc: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = pc.metadata.name ?? '';
  const value = pc.value;
  const system = name in SYSTEM_PRIORITY_CLASSES;
  if (value === undefined || value === null) errs.push(required('value'));
  else if (typeof value !== 'number' || !Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
    errs.push(invalid('value', value, 'must be a 32-bit integer'));
  } else if (system && value !== SYSTEM_PRIORITY_CLASSES[name]) {
    errs.push(forbidden('value', `value of ${name} must be ${SYSTEM_PRIORITY_CLASSES[name]}`));
  } else if (!system && value > HIGHEST_USER_PRIORITY) {
    errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`));
  }
  if (!system && name.startsWith('system-')) {
    errs.push(invalid('metadata.name', name, "priority class names with 'system-' prefix are reserved"));
  }
  if (!PREEMPTION_POLICIES.includes(pc.preemptionPolicy as string)) {
    errs.push(notSupported('preemptionPolicy', pc.preemptionPolicy, PREEMPTION_POLICIES));
  }
  return errs;
}

export const priorityClassKind: KindDefinition = {
  defaults: (pc) => setDefault(pc, 'preemptionPolicy', 'PreemptLowerPriority'),
  validate: validatePriorityClass,
  validateUpdate(pc, old) {
    const errs: FieldError[] = [];
    if (pc.value !== old.value) errs.push(forbidden('value', 'may not be changed in an update.'));
    if (pc.preemptionPolicy !== old.preemptionPolicy) errs.push(invalid('preemptionPolicy', pc.preemptionPolicy, 'field is immutable'));
    return errs;
  },
  table: {
    columns: [
      col('Value', 'integer', 0, 'The value of this priority class.'),
      col('Global-Default', 'boolean', 0, 'globalDefault specifies whether this PriorityClass should be considered as the default priority.'),
      AGE,
      col('PreemptionPolicy', 'string', 0, 'PreemptionPolicy is the Policy for preempting pods with lower priority.'),
    ],
    cells: (pc, now) => [pc.value ?? 0, pc.globalDefault === true, since(pc.metadata.creationTimestamp, now), str(pc.preemptionPolicy)],
  },
};
