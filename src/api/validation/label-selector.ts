// metav1.LabelSelector: validation, matching against a label set, and the string form
// ("app=web,tier in (a,b),!legacy") used by tables, Scale.status.selector and list calls.
import { forbidden, invalid, required, type FieldError } from '../field-error.ts';
import { validateLabelName, validateLabels } from './labels.ts';
import { isValidLabelValue } from './names.ts';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator | string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export function validateLabelSelector(field: string, selector: unknown): FieldError[] {
  if (selector === undefined || selector === null) return [];
  if (typeof selector !== 'object' || Array.isArray(selector)) return [invalid(field, selector, 'must be a label selector object')];
  const s = selector as LabelSelector;
  const errs = validateLabels(`${field}.matchLabels`, s.matchLabels);
  if (s.matchExpressions !== undefined && !Array.isArray(s.matchExpressions)) {
    return [...errs, invalid(`${field}.matchExpressions`, s.matchExpressions, 'must be a list')];
  }
  (s.matchExpressions ?? []).forEach((req, i) => errs.push(...validateRequirement(`${field}.matchExpressions[${i}]`, req)));
  return errs;
}

function validateRequirement(field: string, req: LabelSelectorRequirement): FieldError[] {
  const errs: FieldError[] = [];
  const values = Array.isArray(req.values) ? req.values : [];
  switch (req.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(required(`${field}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(forbidden(`${field}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      errs.push(invalid(`${field}.operator`, req.operator, 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(`${field}.key`, req.key ?? ''));
  values.forEach((v, i) => errs.push(...isValidLabelValue(String(v)).map((msg) => invalid(`${field}.values[${i}]`, v, msg))));
  return errs;
}

/** True when the selector has no requirements at all (it would match everything). */
export function isEmptySelector(s: LabelSelector | undefined): boolean {
  return !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);
}

export function selectorMatches(s: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const set = labels ?? {};
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (set[k] !== v) return false;
  for (const r of s.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(set, r.key);
    const inValues = has && (r.values ?? []).includes(set[r.key]!);
    if (r.operator === 'In' && !inValues) return false;
    if (r.operator === 'NotIn' && inValues) return false;
    if (r.operator === 'Exists' && !has) return false;
    if (r.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** "a=b,c=d" with keys sorted: a selector made of equality terms only (Service, RC). */
export function formatLabelMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${m![k]}`).join(',');
}

/**
 * The selector's string form, requirements sorted by key like Kubernetes' labels.Selector:
 * `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`. Empty string for an empty selector.
 */
export function formatLabelSelector(s: LabelSelector | undefined): string {
  if (!s) return '';
  const terms: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) terms.push({ key: k, text: `${k}=${v}` });
  for (const r of s.matchExpressions ?? []) {
    const values = [...(r.values ?? [])].sort().join(',');
    const text = r.operator === 'In' ? `${r.key} in (${values})`
      : r.operator === 'NotIn' ? `${r.key} notin (${values})`
        : r.operator === 'Exists' ? r.key
          : `!${r.key}`;
    terms.push({ key: r.key, text });
  }
  // Stable sort by key keeps matchLabels before expressions on the same key.
  terms.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return terms.map((t) => t.text).join(',');
}
