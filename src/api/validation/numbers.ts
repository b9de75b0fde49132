// Numeric field checks with Kubernetes' wording.
import { invalid, type FieldError } from '../field-error.ts';

export function validateNonNegative(field: string, value: unknown): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [invalid(field, value, 'must be an integer')];
  return value < 0 ? [invalid(field, value, 'must be greater than or equal to 0')] : [];
}

export function validatePositive(field: string, value: unknown): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [invalid(field, value, 'must be an integer')];
  return value <= 0 ? [invalid(field, value, 'must be greater than 0')] : [];
}

const percentRe = /^[0-9]+%$/;

/**
 * An IntOrString that is a count or a percentage ("25%"), as in maxSurge, maxUnavailable,
 * minAvailable. Negative counts and malformed percents are rejected.
 */
export function validateIntOrPercent(field: string, value: unknown): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'number') return validateNonNegative(field, value);
  if (typeof value !== 'string' || !percentRe.test(value)) {
    return [invalid(field, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
  }
  return [];
}

/** Whether an IntOrString is zero ("0%" counts as zero). */
export function isZeroIntOrPercent(value: unknown): boolean {
  return value === 0 || value === '0%';
}

export function percentValue(value: unknown): number | undefined {
  return typeof value === 'string' && percentRe.test(value) ? Number(value.slice(0, -1)) : undefined;
}
