import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { FakeTimers } from '../../client/timers.ts';
import { testBed } from '../testing.ts';
import { TTLAfterFinishedController, expiresAt } from './controller.ts';

type Json = Record<string, any>;

const job = (name: string, ttl?: number): KObject => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'default' },
  spec: {
    ...(ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl }),
    template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
  },
});

async function markComplete(jobs: any, name: string, at: number): Promise<void> {
  const j = await jobs.get('default', name);
  const stamp = new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
  j.status = {
    startTime: stamp, completionTime: stamp, succeeded: 1,
    conditions: [{ type: 'Complete', status: 'True', lastProbeTime: stamp, lastTransitionTime: stamp, reason: 'CompletionsReached', message: '' }],
  };
  await jobs.updateStatus(j);
}

test('expiresAt: finish time plus the TTL, only for finished jobs with a TTL', () => {
  const j = job('a', 10) as Json;
  assert.equal(expiresAt(j as KObject), undefined);
  j.status = { completionTime: '2024-01-01T00:00:00Z', conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] };
  assert.equal(expiresAt(j as KObject), Date.parse('2024-01-01T00:00:10Z'));
  delete j.spec.ttlSecondsAfterFinished;
  assert.equal(expiresAt(j as KObject), undefined);
});

test('deletes a finished job once its TTL has passed, not before', async () => {
  const timers = new FakeTimers();
  const base = Math.floor(Date.now() / 1000) * 1000;
  const bed = await testBed({ now: () => base + timers.now() });
  try {
    await bed.run(new TTLAfterFinishedController({ timers }));
    const jobs = bed.api.resource('batch', 'v1', 'jobs');
    await jobs.create(job('short', 30));
    await jobs.create(job('forever'));
    await markComplete(jobs, 'short', base);
    await markComplete(jobs, 'forever', base);
    await new Promise((r) => setTimeout(r, 150));
    assert.ok(await jobs.tryGet('default', 'short'), 'kept before the TTL');
    assert.deepEqual(timers.pendingDelays(), [30_000]);
    timers.advance(30_000);
    await bed.until(async () => !(await jobs.tryGet('default', 'short')), 5000, 'deleted');
    assert.ok(await jobs.tryGet('default', 'forever'), 'no TTL: kept');
  } finally {
    await bed.close();
  }
});
