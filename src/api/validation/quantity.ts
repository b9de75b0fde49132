// Kubernetes resource quantities ("100m", "1Gi", "1.5", "1e3"): parsing to a plain
// number, and the validation message Kubernetes gives for a malformed one.
import { invalid, type FieldError } from '../field-error.ts';

const QUANTITY_PATTERN = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
export const QUANTITY_FORMAT_ERROR = `quantities must match the regular expression '${QUANTITY_PATTERN}'`;

const quantityRe = new RegExp(QUANTITY_PATTERN);

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

function suffixMultiplier(suffix: string): number | undefined {
  if (suffix in BINARY) return BINARY[suffix];
  if (suffix in DECIMAL) return DECIMAL[suffix];
  const exp = /^[eE]([-+]?[0-9]+)$/.exec(suffix);
  return exp ? 10 ** Number(exp[1]) : undefined;
}

/** Parses a quantity; throws an Error carrying Kubernetes' message when it is malformed. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (Number.isFinite(q)) return q;
    throw new Error(QUANTITY_FORMAT_ERROR);
  }
  const m = quantityRe.exec(q);
  // The pattern is loose ("1.2.3", "."); the number part must also be one real number.
  if (!m || !/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$/.test(m[1]!)) throw new Error(QUANTITY_FORMAT_ERROR);
  const multiplier = suffixMultiplier(m[2]!);
  if (multiplier === undefined) throw new Error(QUANTITY_FORMAT_ERROR);
  return Number(m[1]) * multiplier;
}

export function isQuantity(q: unknown): q is string | number {
  if (typeof q !== 'string' && typeof q !== 'number') return false;
  try {
    parseQuantity(q);
    return true;
  } catch {
    return false;
  }
}

/** A well-formed, non-negative quantity (what resource requests, limits and capacities need). */
export function validateQuantity(field: string, q: unknown): FieldError[] {
  if (!isQuantity(q)) return [invalid(field, q, QUANTITY_FORMAT_ERROR)];
  if (parseQuantity(q) < 0) return [invalid(field, String(q), 'must be greater than or equal to 0')];
  return [];
}
