import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.ts';
import { SchedulingQueue } from './queue.ts';
import { podInfo } from './testing.ts';

const names = async (q: SchedulingQueue, n: number) => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await q.pop())!.info.name);
  return out;
};

test('active pods come out by priority, then oldest first', async () => {
  const q = new SchedulingQueue(new FakeClock());
  q.add(podInfo('young', { created: '2024-01-02T00:00:00Z' }));
  q.add(podInfo('old', { created: '2024-01-01T00:00:00Z' }));
  q.add(podInfo('vip', { priority: 1000, created: '2024-01-03T00:00:00Z' }));
  assert.deepEqual(await names(q, 3), ['vip', 'old', 'young']);
});

test('pop waits for a pod; close releases waiters', async () => {
  const q = new SchedulingQueue(new FakeClock());
  const waiting = q.pop();
  q.add(podInfo('p'));
  assert.equal((await waiting)?.info.name, 'p');
  const again = q.pop();
  q.close();
  assert.equal(await again, undefined);
});

test('an unschedulable pod waits for an event, then for its backoff', async () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue(clock);
  q.add(podInfo('p'));
  const qp = (await q.pop())!;
  q.addUnschedulable(qp, ['NodeResourcesFit']);
  clock.advance(60_000);
  assert.deepEqual(q.stats, { active: 0, backoff: 0, unschedulable: 1, inFlight: 0 }, 'no retry without an event');
  q.moveOnEvent('NodeAdd');
  assert.equal(q.stats.active, 1, 'backoff (1 s) long expired: straight to active');

  const second = (await q.pop())!;
  assert.equal(second.attempts, 2);
  q.addUnschedulable(second, ['NodeResourcesFit']);
  q.moveOnEvent('NodeAdd');
  assert.equal(q.stats.backoff, 1, 'moved right after failing: waits out 2 s');
  clock.advance(1999);
  assert.equal(q.stats.active, 0);
  clock.advance(1);
  assert.equal(q.stats.active, 1);
});

test('events that cannot help leave the pod parked', async () => {
  const clock = new FakeClock();
  const helps = (e: string, plugins: readonly string[]) => !(plugins.includes('TaintToleration') && e === 'AssignedPodDelete');
  const q = new SchedulingQueue(clock, { eventHelps: helps });
  q.add(podInfo('p'));
  const qp = (await q.pop())!;
  q.addUnschedulable(qp, ['TaintToleration']);
  clock.advance(5000);
  q.moveOnEvent('AssignedPodDelete');
  assert.equal(q.stats.unschedulable, 1);
  q.moveOnEvent('NodeUpdate');
  assert.equal(q.stats.active, 1);
});

test('an event during the attempt sends the pod to backoff, not to sleep', async () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue(clock);
  q.add(podInfo('p'));
  const qp = (await q.pop())!;
  q.moveOnEvent('NodeAdd'); // arrives while qp is being scheduled
  q.addUnschedulable(qp, ['NodeResourcesFit']);
  assert.equal(q.stats.backoff, 1);
  clock.advance(1000);
  assert.equal(q.stats.active, 1);
});

test('backoff doubles up to 10 s', async () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue(clock);
  q.add(podInfo('p'));
  const waits: number[] = [];
  for (let i = 0; i < 6; i++) {
    const qp = (await q.pop())!;
    const t0 = clock.now();
    q.addBackoff(qp);
    while (q.stats.active === 0) clock.advance(100);
    waits.push(clock.now() - t0);
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 10000, 10000]);
});

test('deleted while in flight: dropped; updated while in flight: retried with the new object', async () => {
  const q = new SchedulingQueue(new FakeClock());
  q.add(podInfo('gone'));
  const a = (await q.pop())!;
  q.delete('default/gone');
  q.addUnschedulable(a, []);
  assert.equal(q.has('default/gone'), false);

  q.add(podInfo('p', { cpu: '1' }));
  const b = (await q.pop())!;
  q.update(podInfo('p', { cpu: '100m' }));
  q.addUnschedulable(b, ['NodeResourcesFit']);
  assert.equal(q.stats.unschedulable, 0);
  const clockless = q.stats.active + q.stats.backoff;
  assert.equal(clockless, 1);
});

test('parked pods are flushed after five minutes even without events', async () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue(clock);
  q.add(podInfo('p'));
  q.addUnschedulable((await q.pop())!, ['X']);
  clock.advance(4 * 60_000);
  assert.equal(q.stats.unschedulable, 1);
  clock.advance(61_000);
  assert.equal(q.stats.active, 1);
});
