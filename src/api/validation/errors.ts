// FieldError shapes that ../field-error.ts has no constructor for.
import type { FieldError } from '../field-error.ts';

/** Invalid value whose rendering is already done (e.g. Go's `map[string]string{...}`). */
export const invalidRendered = (field: string, rendered: string, detail: string): FieldError =>
  ({ type: 'FieldValueInvalid', field, message: `Invalid value: ${rendered}: ${detail}` });

/**
 * Kubernetes reports a dangling reference as FieldValueNotFound ("Not found: "x"");
 * our FieldErrorType union has no such member, so the cause type is FieldValueInvalid
 * while the message is Kubernetes' own.
 */
export const notFound = (field: string, value: string): FieldError =>
  ({ type: 'FieldValueInvalid', field, message: `Not found: ${JSON.stringify(value)}` });

