// A field-level validation failure, reported as a cause of a 422 Invalid Status.
// `type` is the Kubernetes cause reason; `field` a path like spec.containers[0].image.

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** The detail, e.g. `Required value` or `Invalid value: "X": must be ...`. */
  message: string;
}

const quote = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v));

export const required = (field: string, detail = ''): FieldError =>
  ({ type: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' });

export const invalid = (field: string, value: unknown, detail: string): FieldError =>
  ({ type: 'FieldValueInvalid', field, message: `Invalid value: ${quote(value)}: ${detail}` });

export const notSupported = (field: string, value: unknown, allowed: string[]): FieldError =>
  ({ type: 'FieldValueNotSupported', field, message: `Unsupported value: ${quote(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}` });

export const duplicate = (field: string, value: unknown): FieldError =>
  ({ type: 'FieldValueDuplicate', field, message: `Duplicate value: ${quote(value)}` });

export const forbidden = (field: string, detail: string): FieldError =>
  ({ type: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` });

export const tooLong = (field: string, max: number): FieldError =>
  ({ type: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes` });

/** `spec.containers[0].image: Required value` — how Kubernetes prints one error. */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${e.message}`;
}
