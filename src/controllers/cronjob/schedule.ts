// When a CronJob's schedule fires: the next time after an instant, in a time zone.
//
// The search runs on wall-clock time (the fields a clock on the wall in that zone shows),
// held as a "naive" Date whose UTC fields are the wall-clock fields, then turns the wall
// time into an instant. Around DST changes: a wall time that does not exist (spring
// forward) runs at the instant just after the gap; one that happens twice (fall back)
// runs the first time only.
import { parseCronSchedule, type CronSchedule } from '../../api/kinds/cron-schedule.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Give up after this long without a match (e.g. "0 0 30 2 *" never fires). */
const SEARCH_LIMIT_MS = 5 * 366 * DAY;

export interface Schedule {
  /** The first firing strictly after `t` (ms since the epoch), or undefined if there is none. */
  next(t: number): number | undefined;
}

/** Parses `spec.schedule` for `spec.timeZone` (UTC when unset). Throws on a bad schedule or zone. */
export function compileSchedule(text: string, timeZone?: string): Schedule {
  const parsed = parseCronSchedule(text);
  if (parsed === 'every') return everySchedule(text);
  const zone = timeZone || 'UTC';
  const wall = zone === 'UTC' ? undefined : wallClock(zone);
  return {
    next(t) {
      if (!wall) return nextWall(parsed, t);
      const limit = t + SEARCH_LIMIT_MS;
      let w: number | undefined = wall.of(t);
      for (;;) {
        w = nextWall(parsed, w);
        if (w === undefined || w > wall.of(limit)) return undefined;
        const instant = wall.toInstant(w, t);
        if (instant !== undefined) return instant;
      }
    },
  };
}

/** The first wall time (naive ms, whole minutes) after `w` that matches. */
function nextWall(s: CronSchedule, w: number): number | undefined {
  let d = new Date(Math.floor(w / MINUTE) * MINUTE + MINUTE);
  const limit = w + SEARCH_LIMIT_MS;
  while (d.getTime() <= limit) {
    if (!s.months.has(d.getUTCMonth() + 1)) {
      d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
      continue;
    }
    if (!dayMatches(s, d)) {
      d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));
      continue;
    }
    if (!s.hours.has(d.getUTCHours())) {
      d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1));
      continue;
    }
    if (!s.minutes.has(d.getUTCMinutes())) {
      d = new Date(d.getTime() + MINUTE);
      continue;
    }
    return d.getTime();
  }
  return undefined;
}

/** Either day field may match, unless one of them is '*' (then both must: cron's rule). */
function dayMatches(s: CronSchedule, d: Date): boolean {
  const dom = s.daysOfMonth.has(d.getUTCDate());
  const dow = s.daysOfWeek.has(d.getUTCDay());
  return s.domStar || s.dowStar ? dom && dow : dom || dow;
}

interface WallClock {
  /** The wall time (naive ms) at instant `t`. */
  of(t: number): number;
  /** The first instant after `after` that shows wall time `w`, or the instant just past a DST gap. */
  toInstant(w: number, after: number): number | undefined;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(timeZone: string): WallClock {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, fmt);
  }
  const f = fmt;
  const of = (t: number): number => {
    const p: Record<string, number> = {};
    for (const part of f.formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!, p.second!) + (t % 1000 + 1000) % 1000;
  };
  const offset = (t: number): number => of(t) - t;
  return {
    of,
    toInstant(w, after) {
      // The offset in force a day either side covers both sides of any DST change.
      const candidates = [...new Set([w - offset(w - DAY), w - offset(w + DAY), w - offset(w)])].sort((a, b) => a - b);
      const exact = candidates.filter((i) => of(i) === w && i > after);
      if (exact.length) return exact[0];
      if (candidates.some((i) => of(i) === w)) return undefined; // it happened, but not after `after`
      // In a gap: read w with the offset from before the change (2:30 becomes 3:30).
      const past = candidates.filter((i) => of(i) > w && i > after);
      return past.length ? Math.min(...past) : undefined;
    },
  };
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: MINUTE, h: HOUR };

/** "@every 1h30m": fixed intervals, counted in whole seconds as Kubernetes' parser does. */
function everySchedule(text: string): Schedule {
  const body = text.trim().slice('@every'.length).trim();
  let ms = 0;
  for (const m of body.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  const step = Math.max(1000, Math.floor(ms / 1000) * 1000);
  return { next: (t) => Math.floor(t / 1000) * 1000 + step };
}

/**
 * The latest firing in (earliest, now], and how many firings that span holds (counted up
 * to `cap`; callers only warn about many), or undefined when none fell in it.
 */
export function mostRecent(schedule: Schedule, earliest: number, now: number, cap = 100): { time: number; missed: number } | undefined {
  let t = schedule.next(earliest);
  if (t === undefined || t > now) return undefined;
  let missed = 1;
  for (;;) {
    const n = schedule.next(t);
    if (n === undefined || n > now) return { time: t, missed };
    t = n;
    if (++missed > cap) return { time: latestFrom(schedule, t, now), missed };
  }
}

/** The latest firing ≤ now, given a firing `from` ≤ now: look back from now in growing windows. */
function latestFrom(schedule: Schedule, from: number, now: number): number {
  for (let span = DAY; ; span *= 2) {
    const start = now - span;
    let t = start <= from ? from : schedule.next(start);
    if (t !== undefined && t <= now) {
      for (;;) {
        const n = schedule.next(t);
        if (n === undefined || n > now) return t;
        t = n;
      }
    }
    if (start <= from) return from;
  }
}
