// Checks shared by ConfigMap and Secret: data keys, total size, and `immutable`.
import { forbidden, invalid, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { isConfigMapKey } from '../validation/index.ts';
import { jsonEqual } from './access.ts';

export const MAX_DATA_SIZE = 1024 * 1024;

export function validateDataKeys(field: string, data: Record<string, unknown>): FieldError[] {
  return Object.keys(data).flatMap((k) => isConfigMapKey(k).map((m) => invalid(`${field}[${k}]`, k, m)));
}

export const tooLarge = (field: string): FieldError =>
  ({ type: 'FieldValueTooLong', field, message: `Too long: must have at most ${MAX_DATA_SIZE} bytes` });

/** Once `immutable: true` is stored, neither the data nor the flag may change. */
export function validateImmutableData(o: KObject, old: KObject, dataFields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (o.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of dataFields) {
    if (!jsonEqual(o[f] ?? {}, old[f] ?? {})) errs.push(forbidden(f, 'field is immutable when `immutable` is set'));
  }
  return errs;
}
