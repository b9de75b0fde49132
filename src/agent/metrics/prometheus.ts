// The Prometheus text exposition format (version 0.0.4), written and read. Pure functions:
// the agent writes it (/metrics, /metrics/resource), the API server's metrics scraper reads it.

export type MetricType = 'counter' | 'gauge' | 'untyped';

export interface Sample {
  labels?: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch; omitted when undefined. */
  timestampMs?: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** A number as Prometheus writes it (Go's strconv 'g'-like; +Inf, -Inf, NaN spelled out). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (!keys.length) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels![k]!)}"`).join(',')}}`;
}

/** Families in the order given, each with its HELP and TYPE lines. Families without samples are still described. */
export function formatFamilies(families: MetricFamily[]): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      out += `${f.name}${formatLabels(s.labels)} ${formatValue(s.value)}${s.timestampMs !== undefined ? ` ${Math.round(s.timestampMs)}` : ''}\n`;
    }
  }
  return out;
}

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

function parseNumber(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const n = Number(s);
  if (s === '' || Number.isNaN(n)) throw new Error(`not a number: ${JSON.stringify(s)}`);
  return n;
}

/** Reads the samples of a text exposition (comments skipped). Throws on a malformed line. */
export function parseText(text: string): ParsedSample[] {
  const out: ParsedSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let i = 0;
    while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i]!)) i++;
    const name = line.slice(0, i);
    if (!name) throw new Error(`malformed metric line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (line[i] === '}') { i++; break; }
        const eq = line.indexOf('=', i);
        if (eq < 0 || line[eq + 1] !== '"') throw new Error(`malformed labels: ${JSON.stringify(line)}`);
        const key = line.slice(i, eq).trim();
        let j = eq + 2;
        let value = '';
        while (j < line.length && line[j] !== '"') {
          if (line[j] === '\\') {
            const next = line[j + 1];
            value += next === 'n' ? '\n' : next ?? '';
            j += 2;
          } else {
            value += line[j++];
          }
        }
        if (j >= line.length) throw new Error(`unterminated label value: ${JSON.stringify(line)}`);
        labels[key] = value;
        i = j + 1;
      }
    }
    const rest = line.slice(i).trim().split(/\s+/);
    const value = parseNumber(rest[0] ?? '');
    const sample: ParsedSample = { name, labels, value };
    if (rest[1] !== undefined) sample.timestampMs = parseNumber(rest[1]);
    out.push(sample);
  }
  return out;
}
