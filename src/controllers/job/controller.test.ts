import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { FakeTimers } from '../../client/timers.ts';
import { testBed, type TestBed } from '../testing.ts';
import { TTLAfterFinishedController } from '../ttl/controller.ts';
import { JobController } from './controller.ts';
import { COMPLETION_INDEX_KEY, JOB_TRACKING_FINALIZER } from './pods.ts';

type Json = Record<string, any>;

function jobManifest(name: string, spec: Json = {}, restartPolicy = 'Never'): KObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      template: { metadata: { labels: { app: name } }, spec: { restartPolicy, containers: [{ name: 'main', image: 'busybox' }] } },
      ...spec,
    },
  };
}

async function setup(): Promise<{ bed: TestBed; jobs: ReturnType<TestBed['api']['resource']>; pods: ReturnType<TestBed['api']['resource']> }> {
  const bed = await testBed();
  await bed.run(new JobController({ backoffBaseMs: 0 }));
  return { bed, jobs: bed.api.resource('batch', 'v1', 'jobs'), pods: bed.api.resource('', 'v1', 'pods') };
}

async function podsOf(bed: TestBed, job: string): Promise<KObject[]> {
  const { items } = await bed.api.resource('', 'v1', 'pods').list('default', { labelSelector: `batch.kubernetes.io/job-name=${job}` });
  return items;
}

const live = (pods: KObject[]) => pods.filter((p) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes((p.status as Json)?.phase));

/** Plays the kubelet: the pod's containers ended. */
async function finish(bed: TestBed, pod: KObject, phase: 'Succeeded' | 'Failed'): Promise<void> {
  const pods = bed.api.resource('', 'v1', 'pods');
  const cur = await pods.get('default', pod.metadata.name!);
  cur.status = { ...(cur.status as Json), phase };
  await pods.updateStatus(cur);
}

const cond = (job: KObject, type: string): Json | undefined => ((job.status as Json)?.conditions ?? []).find((c: Json) => c.type === type && c.status === 'True');

test('runs completions pods at most parallelism at a time, then completes', async () => {
  const { bed, jobs } = await setup();
  try {
    await jobs.create(jobManifest('work', { completions: 5, parallelism: 2 }));
    let pods = await bed.until(async () => { const p = await podsOf(bed, 'work'); return p.length === 2 && p; }, 5000, 'two pods');
    for (const p of pods) {
      assert.match(p.metadata.name!, /^work-[a-z0-9]{5}$/);
      assert.deepEqual(p.metadata.finalizers, [JOB_TRACKING_FINALIZER]);
      assert.equal(p.metadata.ownerReferences?.[0]?.controller, true);
      assert.equal(p.metadata.ownerReferences?.[0]?.blockOwnerDeletion, true);
      assert.equal(p.metadata.labels?.app, 'work');
    }
    const seen = new Set<string>();
    while (true) {
      const job = await jobs.get('default', 'work');
      if (cond(job, 'Complete')) break;
      pods = live(await podsOf(bed, 'work'));
      assert.ok(pods.length <= 2, `at most 2 active, saw ${pods.length}`);
      const next = pods.find((p) => !seen.has(p.metadata.uid!));
      if (next) { seen.add(next.metadata.uid!); await finish(bed, next, 'Succeeded'); }
      await new Promise((r) => setTimeout(r, 30));
      if (seen.size > 10) assert.fail('too many pods');
    }
    assert.equal(seen.size, 5);
    const job = await bed.until(async () => { const j = await jobs.get('default', 'work'); return (j.status as Json).succeeded === 5 && cond(j, 'Complete') && j; });
    const status = job.status as Json;
    assert.equal(status.active, 0);
    assert.equal(status.failed, 0);
    assert.ok(status.startTime && status.completionTime);
    assert.ok(cond(job, 'SuccessCriteriaMet'));
    assert.deepEqual(status.uncountedTerminatedPods, {});
    // Finalizers are gone from every pod, so counts survive pod deletion.
    for (const p of await podsOf(bed, 'work')) assert.ok(!(p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER));
    assert.ok(bed.events.some((e) => e.reason === 'Completed'));
  } finally {
    await bed.close();
  }
});

test('counts stay right when finished pods are deleted', async () => {
  const { bed, jobs, pods } = await setup();
  try {
    await jobs.create(jobManifest('keep', { completions: 2, parallelism: 1 }));
    const [first] = await bed.until(async () => { const p = live(await podsOf(bed, 'keep')); return p.length === 1 && p; });
    await finish(bed, first!, 'Succeeded');
    await bed.until(async () => ((await jobs.get('default', 'keep')).status as Json).succeeded === 1);
    await pods.delete('default', first!.metadata.name!);
    const [second] = await bed.until(async () => { const p = live(await podsOf(bed, 'keep')); return p.length === 1 && p; });
    assert.notEqual(second!.metadata.uid, first!.metadata.uid);
    assert.equal(((await jobs.get('default', 'keep')).status as Json).succeeded, 1);
    await finish(bed, second!, 'Succeeded');
    const job = await bed.until(async () => { const j = await jobs.get('default', 'keep'); return cond(j, 'Complete') && j; });
    assert.equal((job.status as Json).succeeded, 2);
  } finally {
    await bed.close();
  }
});

test('fails with BackoffLimitExceeded after backoffLimit+1 failures', async () => {
  const { bed, jobs } = await setup();
  try {
    await jobs.create(jobManifest('flaky', { backoffLimit: 2 }));
    const failed = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const [pod] = await bed.until(async () => { const p = live(await podsOf(bed, 'flaky')).filter((x) => !failed.has(x.metadata.uid!)); return p.length === 1 && p; }, 5000, `pod ${i}`);
      failed.add(pod!.metadata.uid!);
      await finish(bed, pod!, 'Failed');
    }
    const job = await bed.until(async () => { const j = await jobs.get('default', 'flaky'); return cond(j, 'Failed') && j; }, 5000, 'Failed');
    assert.equal(cond(job, 'Failed')!.reason, 'BackoffLimitExceeded');
    assert.equal(cond(job, 'FailureTarget')!.reason, 'BackoffLimitExceeded');
    assert.equal((job.status as Json).failed, 3);
    assert.equal((job.status as Json).active, 0);
    assert.equal(live(await podsOf(bed, 'flaky')).length, 0);
    assert.ok(bed.events.some((e) => e.reason === 'BackoffLimitExceeded' && e.type === 'Warning'));
  } finally {
    await bed.close();
  }
});

test('restartPolicy OnFailure: container restarts count against backoffLimit', async () => {
  const { bed, jobs, pods } = await setup();
  try {
    await jobs.create(jobManifest('restarts', { backoffLimit: 2 }, 'OnFailure'));
    const [pod] = await bed.until(async () => { const p = live(await podsOf(bed, 'restarts')); return p.length === 1 && p; });
    const cur = await pods.get('default', pod!.metadata.name!);
    cur.status = { ...(cur.status as Json), phase: 'Running', containerStatuses: [{ name: 'main', restartCount: 2, ready: false, image: 'busybox', imageID: '', started: true, state: { running: {} } }] };
    await pods.updateStatus(cur);
    const job = await bed.until(async () => { const j = await jobs.get('default', 'restarts'); return cond(j, 'Failed') && j; }, 5000, 'Failed');
    assert.equal(cond(job, 'Failed')!.reason, 'BackoffLimitExceeded');
  } finally {
    await bed.close();
  }
});

test('activeDeadlineSeconds fails the job and deletes its active pods', async () => {
  const { bed, jobs } = await setup();
  try {
    await jobs.create(jobManifest('slow', { activeDeadlineSeconds: 1, parallelism: 2, completions: 4 }));
    // (startTime has whole seconds, so the deadline may come well under a second after the pods.)
    const job = await bed.until(async () => { const j = await jobs.get('default', 'slow'); return cond(j, 'Failed') && j; }, 5000, 'deadline');
    assert.equal(bed.events.filter((e) => e.reason === 'SuccessfulCreate').length, 2);
    assert.equal(cond(job, 'Failed')!.reason, 'DeadlineExceeded');
    assert.equal(cond(job, 'Failed')!.message, 'Job was active longer than specified deadline');
    assert.equal((job.status as Json).active, 0);
    assert.equal((job.status as Json).failed, 2); // the deleted pods never finished
    assert.equal((await podsOf(bed, 'slow')).length, 0);
  } finally {
    await bed.close();
  }
});

test('suspend deletes active pods without counting failures; resume starts them again', async () => {
  const { bed, jobs } = await setup();
  try {
    await jobs.create(jobManifest('pause', { parallelism: 2, completions: 2 }));
    await bed.until(async () => live(await podsOf(bed, 'pause')).length === 2);
    // A patch, not get+update: the controller writes the Job's status meanwhile.
    await jobs.patch('default', 'pause', 'merge', { spec: { suspend: true } });
    let job = await bed.until(async () => {
      const cur = await jobs.get('default', 'pause');
      return cond(cur, 'Suspended') && (await podsOf(bed, 'pause')).length === 0 && (cur.status as Json).active === 0 && cur;
    }, 15000, 'suspended');
    assert.equal((job.status as Json).failed, 0);
    await jobs.patch('default', 'pause', 'merge', { spec: { suspend: false } });
    await bed.until(async () => live(await podsOf(bed, 'pause')).length === 2, 15000, 'resumed');
    job = await bed.until(async () => { const cur = await jobs.get('default', 'pause'); return !cond(cur, 'Suspended') && cur; });
    assert.equal(((job.status as Json).conditions as Json[]).find((c) => c.type === 'Suspended')?.reason, 'JobResumed');
  } finally {
    await bed.close();
  }
});

test('Indexed: one pod per index with the index annotation, label and env', async () => {
  const { bed, jobs } = await setup();
  try {
    await jobs.create(jobManifest('idx', { completionMode: 'Indexed', completions: 3, parallelism: 3 }));
    const pods = await bed.until(async () => { const p = live(await podsOf(bed, 'idx')); return p.length === 3 && p; });
    const indexes = pods.map((p) => p.metadata.annotations?.[COMPLETION_INDEX_KEY]).sort();
    assert.deepEqual(indexes, ['0', '1', '2']);
    for (const p of pods) {
      const i = p.metadata.annotations![COMPLETION_INDEX_KEY]!;
      assert.equal(p.metadata.labels?.[COMPLETION_INDEX_KEY], i);
      assert.match(p.metadata.name!, new RegExp(`^idx-${i}-[a-z0-9]{5}$`));
      assert.equal((p.spec as Json).hostname, `idx-${i}`);
      const env = (p.spec as Json).containers[0].env as Json[];
      assert.deepEqual(env.find((e) => e.name === 'JOB_COMPLETION_INDEX')?.valueFrom, { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${COMPLETION_INDEX_KEY}']` } });
    }
    const byIndex = (i: string) => pods.find((p) => p.metadata.annotations![COMPLETION_INDEX_KEY] === i)!;
    await finish(bed, byIndex('1'), 'Succeeded');
    await bed.until(async () => ((await jobs.get('default', 'idx')).status as Json).completedIndexes === '1');
    // A failed index is retried by a new pod with the same index.
    await finish(bed, byIndex('0'), 'Failed');
    const retry = await bed.until(async () => live(await podsOf(bed, 'idx')).find((p) => p.metadata.annotations![COMPLETION_INDEX_KEY] === '0' && p.metadata.uid !== byIndex('0').metadata.uid));
    await finish(bed, retry, 'Succeeded');
    await finish(bed, byIndex('2'), 'Succeeded');
    const job = await bed.until(async () => { const j = await jobs.get('default', 'idx'); return cond(j, 'Complete') && j; }, 5000, 'Complete');
    assert.equal((job.status as Json).completedIndexes, '0-2');
    assert.equal((job.status as Json).succeeded, 3);
    assert.equal((job.status as Json).failed, 1);
  } finally {
    await bed.close();
  }
});

test('work queue job (no completions): done when one pod succeeds and the rest have finished', async () => {
  const { bed, jobs } = await setup();
  try {
    await jobs.create(jobManifest('queue', { parallelism: 2 }));
    const pods = await bed.until(async () => { const p = live(await podsOf(bed, 'queue')); return p.length === 2 && p; });
    await finish(bed, pods[0]!, 'Succeeded');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(cond(await jobs.get('default', 'queue'), 'Complete'), undefined);
    assert.equal(live(await podsOf(bed, 'queue')).length, 1, 'no replacement once one succeeded');
    await finish(bed, pods[1]!, 'Succeeded');
    const job = await bed.until(async () => { const j = await jobs.get('default', 'queue'); return cond(j, 'Complete') && j; });
    assert.equal((job.status as Json).succeeded, 2);
  } finally {
    await bed.close();
  }
});

test('pods of a deleted job lose the tracking finalizer', async () => {
  const { bed, jobs, pods } = await setup();
  try {
    await jobs.create(jobManifest('gone', {}));
    const [pod] = await bed.until(async () => { const p = live(await podsOf(bed, 'gone')); return p.length === 1 && p; });
    await jobs.delete('default', 'gone', { propagationPolicy: 'Orphan' });
    await bed.until(async () => {
      const cur = await pods.tryGet('default', pod!.metadata.name!);
      return cur && !(cur.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
    }, 5000, 'finalizer removed');
  } finally {
    await bed.close();
  }
});

test('ttlSecondsAfterFinished: the finished job is deleted after its TTL', async () => {
  const bed = await testBed();
  try {
    await bed.run(new JobController({ backoffBaseMs: 0 }), new TTLAfterFinishedController());
    const jobs = bed.api.resource('batch', 'v1', 'jobs');
    await jobs.create(jobManifest('brief', { ttlSecondsAfterFinished: 1 }));
    const [pod] = await bed.until(async () => { const p = live(await podsOf(bed, 'brief')); return p.length === 1 && p; });
    await finish(bed, pod!, 'Succeeded');
    await bed.until(async () => !(await jobs.tryGet('default', 'brief')), 5000, 'deleted by TTL');
    assert.ok(bed.events.some((e) => e.object === 'Job/default/brief' && e.reason === 'Completed'), 'completed first');
  } finally {
    await bed.close();
  }
});

test('failed pods are replaced only after the backoff delay', async () => {
  const timers = new FakeTimers();
  const base = Date.now();
  const bed = await testBed({ now: () => base + timers.now() });
  try {
    await bed.run(new JobController({ backoffBaseMs: 10_000, timers }));
    const jobs = bed.api.resource('batch', 'v1', 'jobs');
    await jobs.create(jobManifest('patient', { backoffLimit: 5 }));
    const [pod] = await bed.until(async () => { const p = live(await podsOf(bed, 'patient')); return p.length === 1 && p; });
    await finish(bed, pod!, 'Failed');
    await bed.until(async () => ((await jobs.get('default', 'patient')).status as Json).failed === 1, 5000, 'failure counted');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(live(await podsOf(bed, 'patient')).length, 0, 'no replacement yet');
    assert.ok(timers.pendingDelays().some((d) => d > 9_000 && d <= 10_000), `a wake-up at the backoff: ${timers.pendingDelays()}`);
    timers.advance(10_000);
    await bed.until(async () => live(await podsOf(bed, 'patient')).length === 1, 5000, 'replacement after backoff');
  } finally {
    await bed.close();
  }
});
