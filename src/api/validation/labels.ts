// Labels and annotations on any object (metadata.labels, metadata.annotations, and
// label maps elsewhere such as Service selectors and node selectors).
import { invalid, tooLong, type FieldError } from '../field-error.ts';
import { isQualifiedName, isValidLabelValue } from './names.ts';

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function validateLabelName(field: string, key: string): FieldError[] {
  return isQualifiedName(key).map((msg) => invalid(field, key, msg));
}

/** Keys must be qualified names and values valid label values; errors are reported at `field` itself. */
export function validateLabels(field: string, labels: unknown): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object' || Array.isArray(labels)) return [invalid(field, labels, 'must be a map of string keys to string values')];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    errs.push(...validateLabelName(field, k));
    if (typeof v !== 'string') errs.push(invalid(field, v, 'label values must be strings'));
    else errs.push(...isValidLabelValue(v).map((msg) => invalid(field, v, msg)));
  }
  return errs;
}

/** Annotation keys are qualified names (checked lower-cased); all keys and values together ≤ 256 KiB. */
export function validateAnnotations(field: string, annotations: unknown): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (typeof annotations !== 'object' || Array.isArray(annotations)) return [invalid(field, annotations, 'must be a map of string keys to string values')];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations as Record<string, unknown>)) {
    errs.push(...isQualifiedName(k.toLowerCase()).map((msg) => invalid(field, k, msg)));
    if (typeof v !== 'string') errs.push(invalid(field, v, 'annotation values must be strings'));
    size += Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : '');
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(field, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}
