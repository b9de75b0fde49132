// Label and field selectors as they arrive in query strings (?labelSelector=...&fieldSelector=...),
// parsed once per request into a matcher.
import { badRequest } from './errors.ts';

type LabelOp = 'in' | 'notin' | 'exists' | '!exists' | '=' | '!=' | 'gt' | 'lt';
interface LabelRequirement { key: string; op: LabelOp; values: string[] }

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

const matchAll: LabelMatcher = () => true;

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3`. */
export function parseLabelSelector(text: string | null | undefined): LabelMatcher {
  if (!text || !text.trim()) return matchAll;
  const reqs: LabelRequirement[] = [];
  for (const part of splitTopLevel(text)) {
    const s = part.trim();
    if (!s) throw badRequest(`unable to parse requirement: found '', expected: identifier`);
    let m: RegExpMatchArray | null;
    if ((m = s.match(/^([^\s!=<>()]+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      reqs.push({ key: checkKey(m[1]), op: m[2] as LabelOp, values: m[3].split(',').map((v) => checkValue(v.trim())) });
    } else if ((m = s.match(/^!\s*([^\s!=<>()]+)$/))) {
      reqs.push({ key: checkKey(m[1]), op: '!exists', values: [] });
    } else if ((m = s.match(/^([^\s!=<>()]+)\s*(==|=|!=)\s*([^\s!=<>(),]*)$/))) {
      reqs.push({ key: checkKey(m[1]), op: m[2] === '!=' ? '!=' : '=', values: [checkValue(m[3])] });
    } else if ((m = s.match(/^([^\s!=<>()]+)\s*(>|<)\s*(-?\d+)$/))) {
      reqs.push({ key: checkKey(m[1]), op: m[2] === '>' ? 'gt' : 'lt', values: [m[3]] });
    } else if ((m = s.match(/^([^\s!=<>()]+)$/))) {
      reqs.push({ key: checkKey(m[1]), op: 'exists', values: [] });
    } else {
      throw badRequest(`unable to parse requirement: invalid label selector "${s}"`);
    }
  }
  return (labels) => reqs.every((r) => matches(r, labels ?? {}));
}

function matches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case '=': case 'in': return has && r.values.includes(v);
    case '!=': case 'notin': return !has || !r.values.includes(v);
    case 'exists': return has;
    case '!exists': return !has;
    case 'gt': return has && /^-?\d+$/.test(v) && Number(v) > Number(r.values[0]);
    case 'lt': return has && /^-?\d+$/.test(v) && Number(v) < Number(r.values[0]);
  }
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) { out.push(text.slice(start, i)); start = i + 1; }
  }
  out.push(text.slice(start));
  return out;
}

const keyPattern = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const valuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(k: string): string {
  if (!keyPattern.test(k) || k.length > 316) throw badRequest(`unable to parse requirement: invalid label key "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  return k;
}
function checkValue(v: string): string {
  if (!valuePattern.test(v) || v.length > 63) throw badRequest(`unable to parse requirement: invalid label value: "${v}": at key: must be no more than 63 characters, consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character`);
  return v;
}

export interface FieldRequirement { field: string; value: string; negate: boolean }

/** Parses `metadata.name=x,status.phase!=Running` (also `==`). */
export function parseFieldSelector(text: string | null | undefined): FieldRequirement[] {
  if (!text || !text.trim()) return [];
  return text.split(',').map((part) => {
    const m = part.trim().match(/^([^=!]+)(==|=|!=)(.*)$/);
    if (!m) throw badRequest(`invalid field selector: '${part}'`);
    return { field: m[1].trim(), value: m[3].trim(), negate: m[2] === '!=' };
  });
}

/** The parts of a selector that pin a single name; lets list and watch skip everything else. */
export function exactName(reqs: FieldRequirement[]): string | undefined {
  return reqs.find((r) => r.field === 'metadata.name' && !r.negate)?.value;
}
