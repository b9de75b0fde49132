import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCronSchedule } from './cron-schedule.ts';
import { strategyFor } from './index.ts';
import { formatFieldError } from '../field-error.ts';

test('parses fields, ranges, steps, names and descriptors', () => {
  const s = parseCronSchedule('*/15 9-17 * JAN,jul mon-fri');
  assert.ok(s !== 'every');
  assert.deepEqual([...s.minutes], [0, 15, 30, 45]);
  assert.deepEqual([...s.hours], [9, 10, 11, 12, 13, 14, 15, 16, 17]);
  assert.deepEqual([...s.months], [1, 7]);
  assert.deepEqual([...s.daysOfWeek], [1, 2, 3, 4, 5]);
  assert.equal(s.domStar, true);
  const hourly = parseCronSchedule('@hourly');
  assert.ok(hourly !== 'every');
  assert.deepEqual([...hourly.minutes], [0]);
  assert.equal(parseCronSchedule('@every 1h30m'), 'every');
});

test('rejects bad schedules with the parser messages', () => {
  assert.throws(() => parseCronSchedule('* * *'), { message: 'expected exactly 5 fields, found 3: [* * *]' });
  assert.throws(() => parseCronSchedule('0-60 * * * *'), { message: 'end of range (60) above maximum (59): 0-60' });
  assert.throws(() => parseCronSchedule('x * * * *'), { message: 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax' });
  assert.throws(() => parseCronSchedule('@sometimes'), { message: 'unrecognized descriptor: @sometimes' });
  assert.throws(() => parseCronSchedule('5-1 * * * *'), /beyond end of range/);
});

test('CronJob validation uses the schedule parser and checks the time zone', () => {
  const cronjobs = strategyFor('batch', 'CronJob');
  const cj = {
    metadata: { name: 'nightly', namespace: 'default' },
    spec: { schedule: '0 3 * * *', timeZone: 'Europe/Paris', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'x' }] } } } } },
  };
  cronjobs.defaults!(cj);
  assert.deepEqual(cronjobs.validate!(cj), []);
  assert.equal((cj.spec as any).concurrencyPolicy, 'Allow');
  cj.spec.schedule = '61 * * * *';
  cj.spec.timeZone = 'Mars/Olympus';
  assert.deepEqual(cronjobs.validate!(cj).map(formatFieldError), [
    'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
    'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
  ]);
});
