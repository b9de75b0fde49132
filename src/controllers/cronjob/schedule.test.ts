import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSchedule, mostRecent } from './schedule.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

function nexts(schedule: string, from: string, n: number, tz?: string): (string | undefined)[] {
  const s = compileSchedule(schedule, tz);
  const out: (string | undefined)[] = [];
  let t: number | undefined = at(from);
  for (let i = 0; i < n; i++) {
    t = s.next(t);
    if (t === undefined) break;
    out.push(iso(t));
  }
  return out;
}

test('every minute, every 5 minutes, strictly after the given instant', () => {
  assert.deepEqual(nexts('* * * * *', '2024-03-01T10:00:00Z', 2), ['2024-03-01T10:01:00.000Z', '2024-03-01T10:02:00.000Z']);
  assert.deepEqual(nexts('*/5 * * * *', '2024-03-01T10:03:30Z', 2), ['2024-03-01T10:05:00.000Z', '2024-03-01T10:10:00.000Z']);
});

test('hours, days of month, months and weekdays', () => {
  assert.deepEqual(nexts('30 2 * * *', '2024-03-01T10:00:00Z', 2), ['2024-03-02T02:30:00.000Z', '2024-03-03T02:30:00.000Z']);
  assert.deepEqual(nexts('0 0 1 */3 *', '2024-02-15T00:00:00Z', 2), ['2024-04-01T00:00:00.000Z', '2024-07-01T00:00:00.000Z']);
  // 2024-03-01 is a Friday; next Mondays.
  assert.deepEqual(nexts('0 9 * * MON', '2024-03-01T00:00:00Z', 2), ['2024-03-04T09:00:00.000Z', '2024-03-11T09:00:00.000Z']);
  // Both day fields restricted: either matches (the 13th, or any Friday).
  assert.deepEqual(nexts('0 0 13 * 5', '2024-03-02T00:00:00Z', 3), ['2024-03-08T00:00:00.000Z', '2024-03-13T00:00:00.000Z', '2024-03-15T00:00:00.000Z']);
  assert.deepEqual(nexts('@yearly', '2024-03-02T00:00:00Z', 1), ['2025-01-01T00:00:00.000Z']);
  assert.deepEqual(nexts('0 0 29 2 *', '2024-03-01T00:00:00Z', 1), ['2028-02-29T00:00:00.000Z']);
  assert.deepEqual(nexts('0 0 30 2 *', '2024-03-01T00:00:00Z', 1), []);
});

test('time zones, including DST changes', () => {
  // 09:00 in New York is 14:00Z in winter, 13:00Z in summer.
  assert.deepEqual(nexts('0 9 * * *', '2024-03-09T00:00:00Z', 2, 'America/New_York'), ['2024-03-09T14:00:00.000Z', '2024-03-10T13:00:00.000Z']);
  // 02:30 does not exist on 2024-03-10 in New York: it runs once, at 03:30 EDT.
  assert.deepEqual(nexts('30 2 * * *', '2024-03-09T12:00:00Z', 2, 'America/New_York'), ['2024-03-10T07:30:00.000Z', '2024-03-11T06:30:00.000Z']);
  // 01:30 happens twice on 2024-11-03: it runs the first time only.
  assert.deepEqual(nexts('30 1 * * *', '2024-11-02T12:00:00Z', 2, 'America/New_York'), ['2024-11-03T05:30:00.000Z', '2024-11-04T06:30:00.000Z']);
  // Hourly across the spring gap: no hour runs twice.
  assert.deepEqual(nexts('30 * * * *', '2024-03-10T05:00:00Z', 3, 'America/New_York'), ['2024-03-10T05:30:00.000Z', '2024-03-10T06:30:00.000Z', '2024-03-10T07:30:00.000Z']);
  assert.deepEqual(nexts('0 0 * * *', '2024-06-01T00:00:00Z', 1, 'Asia/Kolkata'), ['2024-06-01T18:30:00.000Z']);
});

test('@every', () => {
  assert.deepEqual(nexts('@every 1h30m', '2024-03-01T10:00:00.500Z', 1), ['2024-03-01T11:30:00.000Z']);
});

test('mostRecent: the latest missed time and how many were missed', () => {
  const s = compileSchedule('*/10 * * * *');
  assert.equal(mostRecent(s, at('2024-03-01T10:00:00Z'), at('2024-03-01T10:05:00Z')), undefined);
  assert.deepEqual(mostRecent(s, at('2024-03-01T10:00:00Z'), at('2024-03-01T10:10:00Z')), { time: at('2024-03-01T10:10:00Z'), missed: 1 });
  assert.deepEqual(mostRecent(s, at('2024-03-01T10:00:00Z'), at('2024-03-01T10:35:00Z')), { time: at('2024-03-01T10:30:00Z'), missed: 3 });
  const many = mostRecent(compileSchedule('* * * * *'), at('2023-03-01T00:00:00Z'), at('2024-03-01T10:35:30Z'))!;
  assert.equal(iso(many.time), '2024-03-01T10:35:00.000Z');
  assert.ok(many.missed > 100);
});
