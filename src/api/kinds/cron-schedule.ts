// The standard 5-field cron syntax CronJobs use (minute hour day-of-month month
// day-of-week), plus the @hourly-style descriptors and "@every <duration>". Errors read
// like those of the parser Kubernetes uses, since they end up in validation messages.

export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  /** Kubernetes' parser: a day matches when either day field matches, unless one is '*'. */
  domStar: boolean;
  dowStar: boolean;
}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTH_NAMES = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DOW_NAMES = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const FIELDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTH_NAMES },
  { min: 0, max: 6, names: DOW_NAMES },
];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function parseValue(text: string, b: Bounds): number {
  const named = b.names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^-?[0-9]+$/.test(text)) throw new Error(`failed to parse int from ${text}: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  const n = Number(text);
  if (n < 0) throw new Error(`negative number (${n}) not allowed: ${text}`);
  return n;
}

function parseRange(expr: string, b: Bounds, out: Set<number>): boolean {
  const slash = expr.split('/');
  if (slash.length > 2) throw new Error(`too many slashes: ${expr}`);
  const dash = slash[0]!.split('-');
  if (dash.length > 2) throw new Error(`too many hyphens: ${expr}`);
  const star = dash[0] === '*' || dash[0] === '?';
  let start: number;
  let end: number;
  if (star) {
    [start, end] = [b.min, b.max];
  } else {
    start = parseValue(dash[0]!, b);
    end = dash.length === 2 ? parseValue(dash[1]!, b) : start;
  }
  let step = 1;
  if (slash.length === 2) {
    step = parseValue(slash[1]!, b);
    // "N/step" means "from N to the end".
    if (!star && dash.length === 1) end = b.max;
    if (step <= 0) throw new Error(`step of range should be a positive number: ${expr}`);
  }
  if (start < b.min) throw new Error(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new Error(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  for (let v = start; v <= end; v += step) out.add(v);
  return star && slash.length === 1;
}

function parseField(text: string, b: Bounds): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const part of text.split(',')) star = parseRange(part, b, values) || star;
  return { values, star };
}

const EVERY_RE = /^@every\s+([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

/** Parses a schedule; throws an Error whose message explains what is wrong. */
export function parseCronSchedule(schedule: string): CronSchedule | 'every' {
  const spec = schedule.trim();
  if (spec === '') throw new Error('empty spec string');
  if (spec.startsWith('@')) {
    if (spec.startsWith('@every')) {
      if (!EVERY_RE.test(spec)) throw new Error(`failed to parse duration ${spec}: time: invalid duration ${JSON.stringify(spec.slice(6).trim())}`);
      return 'every';
    }
    const expanded = DESCRIPTORS[spec];
    if (!expanded) throw new Error(`unrecognized descriptor: ${spec}`);
    return parseCronSchedule(expanded);
  }
  const fields = spec.split(/\s+/);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const parsed = fields.map((f, i) => parseField(f, FIELDS[i]!));
  return {
    minutes: parsed[0]!.values,
    hours: parsed[1]!.values,
    daysOfMonth: parsed[2]!.values,
    months: parsed[3]!.values,
    daysOfWeek: parsed[4]!.values,
    domStar: parsed[2]!.star,
    dowStar: parsed[4]!.star,
  };
}
