import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { FakeTimers } from '../../client/timers.ts';
import { testBed, type TestBed } from '../testing.ts';
import { CronJobController, SCHEDULED_TIMESTAMP_ANNOTATION } from './controller.ts';

type Json = Record<string, any>;
const MIN = 60_000;

function cronJob(name: string, spec: Json = {}): KObject {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: 'default' },
    spec: {
      schedule: '* * * * *',
      jobTemplate: {
        metadata: { labels: { app: name } },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
      },
      ...spec,
    },
  };
}

/**
 * A test bed whose clock starts 10 s past the first minute boundary after the real time
 * (so a CronJob created now has exactly one due time, M0) and moves only when told.
 */
async function setup(): Promise<{ bed: TestBed; timers: FakeTimers; m0: number; advance: (ms: number) => void }> {
  const timers = new FakeTimers();
  const m0 = Math.ceil((Date.now() + 1000) / MIN) * MIN;
  const bed = await testBed({ now: () => m0 + 10_000 + timers.now() });
  await bed.run(new CronJobController({ timers }));
  return { bed, timers, m0, advance: (ms) => timers.advance(ms) };
}

async function jobNames(bed: TestBed): Promise<string[]> {
  const { items } = await bed.api.resource('batch', 'v1', 'jobs').list('default');
  return items.map((j) => j.metadata.name!).sort();
}

/** Plays the job controller: marks a job Complete or Failed. */
async function finishJob(bed: TestBed, name: string, type: 'Complete' | 'Failed', at: number): Promise<void> {
  const jobs = bed.api.resource('batch', 'v1', 'jobs');
  const job = await jobs.get('default', name);
  const stamp = new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
  job.status = {
    startTime: stamp,
    ...(type === 'Complete' ? { completionTime: stamp, succeeded: 1 } : { failed: 1 }),
    conditions: [{ type, status: 'True', lastProbeTime: stamp, lastTransitionTime: stamp, reason: type === 'Complete' ? 'CompletionsReached' : 'BackoffLimitExceeded', message: '' }],
  };
  await jobs.updateStatus(job);
}

const settle = () => new Promise((r) => setTimeout(r, 150));

test('creates <cronjob>-<minutes since epoch> jobs at each scheduled minute, one catch-up for missed ones', async () => {
  const { bed, m0, advance, timers } = await setup();
  try {
    const cronjobs = bed.api.resource('batch', 'v1', 'cronjobs');
    await cronjobs.create(cronJob('tick'));
    const first = `tick-${m0 / MIN}`;
    await bed.until(async () => (await jobNames(bed)).includes(first), 5000, first);
    const job = await bed.api.resource('batch', 'v1', 'jobs').get('default', first);
    assert.equal(job.metadata.annotations?.[SCHEDULED_TIMESTAMP_ANNOTATION], new Date(m0).toISOString().replace('.000Z', 'Z'));
    assert.equal(job.metadata.labels?.app, 'tick');
    assert.equal(job.metadata.ownerReferences?.[0]?.kind, 'CronJob');
    const cj = await bed.until(async () => { const c = await cronjobs.get('default', 'tick'); return (c.status as Json)?.lastScheduleTime && c; });
    assert.equal((cj.status as Json).lastScheduleTime, new Date(m0).toISOString().replace('.000Z', 'Z'));
    assert.deepEqual((cj.status as Json).active.map((r: Json) => r.name), [first]);
    // It sleeps until the next minute (plus a little), rather than polling.
    assert.ok(timers.pendingDelays().some((d) => d > 49_000 && d <= 50_200), `wake-up in ~50 s: ${timers.pendingDelays()}`);
    await settle();
    assert.deepEqual(await jobNames(bed), [first]);

    advance(MIN);
    await bed.until(async () => (await jobNames(bed)).includes(`tick-${m0 / MIN + 1}`), 5000, 'second job');
    // Five minutes missed at once: one job, for the latest of them.
    advance(5 * MIN);
    await bed.until(async () => (await jobNames(bed)).includes(`tick-${m0 / MIN + 6}`), 5000, 'catch-up job');
    await settle();
    assert.deepEqual(await jobNames(bed), [first, `tick-${m0 / MIN + 1}`, `tick-${m0 / MIN + 6}`].sort());
    assert.ok(bed.events.filter((e) => e.reason === 'SuccessfulCreate').length === 3);
  } finally {
    await bed.close();
  }
});

test('startingDeadlineSeconds: a time missed by more than the deadline is skipped', async () => {
  const { bed, m0 } = await setup();
  try {
    // Ten seconds late with a five-second deadline.
    await bed.api.resource('batch', 'v1', 'cronjobs').create(cronJob('strict', { startingDeadlineSeconds: 5 }));
    await settle();
    assert.deepEqual(await jobNames(bed), []);
    const strict = await bed.api.resource('batch', 'v1', 'cronjobs').get('default', 'strict');
    assert.equal((strict.status as Json)?.lastScheduleTime, undefined);
    await bed.api.resource('batch', 'v1', 'cronjobs').create(cronJob('lenient', { startingDeadlineSeconds: 30 }));
    await bed.until(async () => (await jobNames(bed)).includes(`lenient-${m0 / MIN}`), 5000, 'lenient job');
  } finally {
    await bed.close();
  }
});

test('Forbid: no new job while one runs; the missed run starts when it finishes', async () => {
  const { bed, m0, advance } = await setup();
  try {
    await bed.api.resource('batch', 'v1', 'cronjobs').create(cronJob('solo', { concurrencyPolicy: 'Forbid' }));
    const first = `solo-${m0 / MIN}`;
    await bed.until(async () => (await jobNames(bed)).includes(first));
    await settle();
    advance(MIN);
    await bed.until(() => bed.events.some((e) => e.reason === 'JobAlreadyActive'), 5000, 'JobAlreadyActive');
    assert.deepEqual(await jobNames(bed), [first]);
    await finishJob(bed, first, 'Complete', m0 + 70_000);
    await bed.until(async () => (await jobNames(bed)).includes(`solo-${m0 / MIN + 1}`), 5000, 'catch-up after finish');
    const cj = await bed.until(async () => {
      const c = await bed.api.resource('batch', 'v1', 'cronjobs').get('default', 'solo');
      return (c.status as Json).lastSuccessfulTime && c;
    });
    assert.deepEqual((cj.status as Json).active.map((r: Json) => r.name), [`solo-${m0 / MIN + 1}`]);
  } finally {
    await bed.close();
  }
});

test('Replace: the running job is deleted and a new one created', async () => {
  const { bed, m0, advance } = await setup();
  try {
    await bed.api.resource('batch', 'v1', 'cronjobs').create(cronJob('swap', { concurrencyPolicy: 'Replace' }));
    await bed.until(async () => (await jobNames(bed)).includes(`swap-${m0 / MIN}`));
    await settle();
    advance(MIN);
    await bed.until(async () => {
      const names = await jobNames(bed);
      return names.length === 1 && names[0] === `swap-${m0 / MIN + 1}`;
    }, 5000, 'replaced');
    await bed.until(async () => {
      const c = await bed.api.resource('batch', 'v1', 'cronjobs').get('default', 'swap');
      return (c.status as Json).active?.length === 1 && (c.status as Json).active[0].name === `swap-${m0 / MIN + 1}`;
    }, 5000, 'status.active names the new job');
    assert.ok(bed.events.some((e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted job swap-${m0 / MIN}`));
  } finally {
    await bed.close();
  }
});

test('history limits: keeps the newest successful and failed jobs', async () => {
  const { bed, m0, advance } = await setup();
  try {
    await bed.api.resource('batch', 'v1', 'cronjobs').create(cronJob('hist', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }));
    const name = (i: number) => `hist-${m0 / MIN + i}`;
    for (let i = 0; i < 5; i++) {
      if (i > 0) advance(MIN);
      await bed.until(async () => (await jobNames(bed)).includes(name(i)), 5000, name(i));
      await finishJob(bed, name(i), i === 1 || i === 3 ? 'Failed' : 'Complete', m0 + i * MIN + 1000);
      await settle();
    }
    // Successful: 0, 2, 4 → keep 2 and 4. Failed: 1, 3 → keep 3.
    await bed.until(async () => (await jobNames(bed)).length === 3, 5000, 'cleanup');
    assert.deepEqual(await jobNames(bed), [name(2), name(3), name(4)].sort());
  } finally {
    await bed.close();
  }
});

test('suspend: nothing is created while suspended', async () => {
  const { bed, advance } = await setup();
  try {
    await bed.api.resource('batch', 'v1', 'cronjobs').create(cronJob('held', { suspend: true }));
    await settle();
    advance(3 * MIN);
    await settle();
    assert.deepEqual(await jobNames(bed), []);
  } finally {
    await bed.close();
  }
});

test('time zone: the schedule is read in spec.timeZone', async () => {
  const { bed, m0 } = await setup();
  try {
    // Kolkata is UTC+5:30: "at minute M" there is at minute M+30 (mod 60) in UTC.
    const utcMinute = new Date(m0).getUTCMinutes();
    const localMinute = (utcMinute + 30) % 60;
    await bed.api.resource('batch', 'v1', 'cronjobs').create(cronJob('tz', { schedule: `${localMinute} * * * *`, timeZone: 'Asia/Kolkata' }));
    await bed.until(async () => (await jobNames(bed)).includes(`tz-${m0 / MIN}`), 5000, 'tz job');
  } finally {
    await bed.close();
  }
});
