import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeTimers } from '../../client/timers.ts';
import { ProbeManager, type ProbeAttemptEvent, type ProbeManagerOptions, type ProbeResultEvent } from './manager.ts';
import type { Handler, HandlerContext, HandlerResult, ProbedContainer } from './handlers.ts';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Moves the fake clock forward timer by timer, letting probes settle between timers. */
async function advance(timers: FakeTimers, ms: number): Promise<void> {
  const until = timers.now() + ms;
  for (;;) {
    await flush();
    const next = timers.pendingDelays()[0];
    if (next === undefined || timers.now() + next > until) break;
    timers.advance(next);
  }
  timers.advance(until - timers.now());
  await flush();
}

/** Probes answered from a script: each probe's handler has an `exec.command[0]` name. */
class Script {
  readonly answers = new Map<string, boolean | 'unknown'>();
  readonly calls: { name: string; at: number; timeout: number | undefined }[] = [];
  constructor(readonly timers: FakeTimers) {}
  set(name: string, answer: boolean | 'unknown'): void {
    this.answers.set(name, answer);
  }
  run = async (handler: Handler, ctx: HandlerContext): Promise<HandlerResult> => {
    const name = handler.exec!.command![0]!;
    this.calls.push({ name, at: this.timers.now(), timeout: ctx.timeoutSeconds });
    const a = this.answers.get(name) ?? true;
    if (a === 'unknown') return { ok: false, unknown: true, message: 'cannot run' };
    return a ? { ok: true, message: `${name} ok` } : { ok: false, message: `${name} bad` };
  };
  count(name: string): number {
    return this.calls.filter((c) => c.name === name).length;
  }
}

function setup(opts: Partial<ProbeManagerOptions> = {}) {
  const timers = new FakeTimers();
  const script = new Script(timers);
  const results: ProbeResultEvent[] = [];
  const attempts: ProbeAttemptEvent[] = [];
  const m = new ProbeManager({
    timers, runHandler: script.run, onResult: (e) => results.push(e), onAttempt: (e) => attempts.push(e), random: () => 0.5, ...opts,
  });
  timers.advance(1_000_000); // the manager has been up a while: no jitter by default
  return { timers, script, results, attempts, m };
}

const probe = (name: string, extra: object = {}) => ({ exec: { command: [name] }, ...extra });
const ctx = { podIP: '10.0.0.5', execSync: async () => ({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 }) };
const brief = (rs: ProbeResultEvent[]) => rs.map((r) => `${r.containerName}/${r.probe}=${r.result}`);

test('readiness starts false, turns true after successThreshold, false after failureThreshold', async () => {
  const { timers, script, results, m } = setup();
  const c: ProbedContainer = { name: 'app', readinessProbe: probe('ready', { periodSeconds: 5, successThreshold: 2, failureThreshold: 2 }) };
  script.set('ready', true);
  m.addContainer('p1', c, ctx, timers.now());
  assert.equal(m.readiness('p1', 'app'), false);
  assert.equal(m.startupDone('p1', 'app'), true, 'no startup probe: started');
  await advance(timers, 0);
  assert.equal(script.count('ready'), 1, 'first probe at once without jitter or delay');
  assert.equal(m.readiness('p1', 'app'), false, 'one success < successThreshold 2');
  await advance(timers, 5_000);
  assert.equal(m.readiness('p1', 'app'), true);
  assert.deepEqual(brief(results), ['app/readiness=success']);
  assert.equal(results[0]!.message, 'ready ok');

  script.set('ready', false);
  await advance(timers, 5_000);
  assert.equal(m.readiness('p1', 'app'), true, 'one failure < failureThreshold 2');
  await advance(timers, 5_000);
  assert.equal(m.readiness('p1', 'app'), false);
  await advance(timers, 20_000);
  assert.deepEqual(brief(results), ['app/readiness=success', 'app/readiness=failure'], 'reported only on change');
  m.stop();
});

test('no readiness probe: ready at once; no callbacks', async () => {
  const { timers, results, m } = setup();
  m.addContainer('p1', { name: 'plain' }, ctx, timers.now());
  assert.equal(m.readiness('p1', 'plain'), true);
  await advance(timers, 60_000);
  assert.equal(results.length, 0);
  assert.deepEqual(timers.pendingDelays(), [], 'no workers, no timers');
});

test('liveness: failureThreshold consecutive failures report once, then the worker holds', async () => {
  const { timers, script, results, attempts, m } = setup();
  m.addContainer('p1', { name: 'app', livenessProbe: probe('live', { periodSeconds: 10, timeoutSeconds: 3 }) }, ctx, timers.now());
  await advance(timers, 0);
  script.set('live', false);
  await advance(timers, 10_000);
  await advance(timers, 10_000);
  assert.equal(results.length, 0, 'two failures < failureThreshold 3');
  script.set('live', true);
  await advance(timers, 10_000);
  script.set('live', false);
  await advance(timers, 30_000);
  assert.deepEqual(brief(results), ['app/liveness=failure'], 'a success in between resets the count');
  assert.equal(results[0]!.message, 'live bad');
  assert.equal(attempts.filter((a) => a.probe === 'liveness').length, 5);
  assert.equal(attempts[0]!.message, 'Liveness probe failed: live bad');
  assert.equal(attempts[0]!.reason, 'Unhealthy');
  assert.ok(script.calls.every((c) => c.timeout === 3));
  const n = script.count('live');
  await advance(timers, 60_000);
  assert.equal(script.count('live'), n, 'on hold until the container is added again');
  assert.deepEqual(timers.pendingDelays(), []);
});

test('startup gates liveness and readiness; readiness runs at once when started', async () => {
  const { timers, script, results, m } = setup();
  const c: ProbedContainer = {
    name: 'app',
    startupProbe: probe('start', { periodSeconds: 2, failureThreshold: 30 }),
    livenessProbe: probe('live', { periodSeconds: 10 }),
    readinessProbe: probe('ready', { periodSeconds: 10 }),
  };
  script.set('start', false);
  m.addContainer('p1', c, ctx, timers.now());
  await advance(timers, 10_000);
  assert.equal(script.count('start'), 6);
  assert.equal(script.count('live') + script.count('ready'), 0, 'nothing else before startup');
  assert.equal(m.startupDone('p1', 'app'), false);
  assert.equal(m.readiness('p1', 'app'), false);

  script.set('start', true);
  await advance(timers, 2_000);
  assert.equal(m.startupDone('p1', 'app'), true);
  assert.equal(script.count('ready'), 1, 'readiness right after startup');
  assert.equal(m.readiness('p1', 'app'), true);
  assert.deepEqual(brief(results), ['app/startup=success', 'app/readiness=success']);
  const starts = script.count('start');
  await advance(timers, 30_000);
  assert.equal(script.count('start'), starts, 'startup stops once done');
  assert.equal(script.count('live'), 3, 'liveness every period from one period after startup');
  assert.equal(script.count('ready'), 4);
  m.stop();
});

test('startup failure at failureThreshold is reported; liveness never runs', async () => {
  const { timers, script, results, m } = setup();
  script.set('start', false);
  m.addContainer('p1', { name: 'app', startupProbe: probe('start', { periodSeconds: 1, failureThreshold: 3 }), livenessProbe: probe('live') }, ctx, timers.now());
  await advance(timers, 10_000);
  assert.deepEqual(brief(results), ['app/startup=failure']);
  assert.equal(script.count('start'), 3);
  assert.equal(script.count('live'), 0);
  assert.equal(m.startupDone('p1', 'app'), false);
});

test('initialDelaySeconds counts from the container start; never before it', async () => {
  const { timers, script, m } = setup();
  const startedAt = timers.now();
  await advance(timers, 3_000); // the agent learned of the container 3 s after it started
  m.addContainer('p1', { name: 'app', readinessProbe: probe('ready', { initialDelaySeconds: 5, periodSeconds: 10 }) }, ctx, startedAt);
  await advance(timers, 1_999);
  assert.equal(script.count('ready'), 0);
  await advance(timers, 1);
  assert.deepEqual(script.calls.map((c) => c.at - startedAt), [5_000]);
  await advance(timers, 20_000);
  assert.deepEqual(script.calls.map((c) => c.at - startedAt), [5_000, 15_000, 25_000]);
  m.stop();
});

test('jitter: only while the manager is young (the kubelet rule), or always, and not before the initial delay', async () => {
  const timers = new FakeTimers();
  const script = new Script(timers);
  const young = new ProbeManager({ timers, runHandler: script.run, onResult: () => {}, random: () => 0.25 });
  young.addContainer('p1', { name: 'a', readinessProbe: probe('a', { periodSeconds: 8 }) }, ctx, timers.now());
  young.addContainer('p1', { name: 'b', readinessProbe: probe('b', { periodSeconds: 8, initialDelaySeconds: 5 }) }, ctx, timers.now());
  await advance(timers, 20_000);
  assert.deepEqual(script.calls.filter((c) => c.name === 'a').map((c) => c.at), [2_000, 10_000, 18_000]);
  assert.deepEqual(script.calls.filter((c) => c.name === 'b').map((c) => c.at), [5_000, 13_000]);
  // Now older than a period: no jitter for new containers.
  young.addContainer('p2', { name: 'c', readinessProbe: probe('c', { periodSeconds: 8 }) }, ctx, timers.now());
  await advance(timers, 0);
  assert.equal(script.count('c'), 1);
  young.stop();

  const always = new ProbeManager({ timers, runHandler: script.run, onResult: () => {}, random: () => 0.5, jitter: 'always' });
  const t0 = timers.now();
  always.addContainer('p3', { name: 'd', livenessProbe: probe('d', { periodSeconds: 10 }) }, ctx, t0);
  await advance(timers, 10_000);
  assert.deepEqual(script.calls.filter((c) => c.name === 'd').map((c) => c.at - t0), [5_000]);
  always.stop();
});

test('removeContainer stops its workers; adding it again starts fresh', async () => {
  const { timers, script, results, m } = setup();
  const c: ProbedContainer = { name: 'app', livenessProbe: probe('live', { periodSeconds: 1 }), readinessProbe: probe('ready', { periodSeconds: 1 }) };
  m.addContainer('p1', c, ctx, timers.now());
  m.addContainer('p1', { name: 'side', readinessProbe: probe('side', { periodSeconds: 1 }) }, ctx, timers.now());
  await advance(timers, 0);
  assert.equal(m.readiness('p1', 'app'), true);
  script.set('live', false);
  await advance(timers, 3_000);
  assert.deepEqual(brief(results), ['app/readiness=success', 'side/readiness=success', 'app/liveness=failure']);

  // The pod worker restarts the container.
  m.removeContainer('p1', 'app');
  assert.equal(m.readiness('p1', 'app'), false);
  const before = script.count('ready');
  await advance(timers, 5_000);
  assert.equal(script.count('ready'), before, 'no probes for a removed container');
  assert.equal(script.count('side'), 9, 'the other container keeps going');

  script.set('live', true);
  m.addContainer('p1', c, ctx, timers.now());
  assert.equal(m.readiness('p1', 'app'), false, 'a new instance starts unready');
  await advance(timers, 0);
  assert.equal(m.readiness('p1', 'app'), true);
  assert.deepEqual(brief(results).slice(3), ['app/readiness=success']);

  m.removePod('p1');
  assert.deepEqual(timers.pendingDelays(), []);
  assert.equal(m.readiness('p1', 'side'), false);
});

test('a result that arrives after removal is dropped', async () => {
  const timers = new FakeTimers();
  timers.advance(1_000_000);
  let release!: (r: HandlerResult) => void;
  const results: ProbeResultEvent[] = [];
  const m = new ProbeManager({
    timers, onResult: (e) => results.push(e), random: () => 0,
    runHandler: () => new Promise((r) => { release = r; }),
  });
  timers.advance(1_000_000);
  m.addContainer('p1', { name: 'app', readinessProbe: probe('ready') }, ctx, timers.now());
  await advance(timers, 0);
  m.removeContainer('p1', 'app');
  release({ ok: true, message: '' });
  await flush();
  assert.equal(results.length, 0);
});

test('a slow probe is not run twice at once; the missed tick runs when it finishes', async () => {
  const timers = new FakeTimers();
  let inFlight = 0;
  let maxInFlight = 0;
  let calls = 0;
  const pending: (() => void)[] = [];
  const m = new ProbeManager({
    timers, onResult: () => {}, jitter: 'never',
    runHandler: () => {
      calls++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise((r) => pending.push(() => { inFlight--; r({ ok: true, message: '' }); }));
    },
  });
  m.addContainer('p1', { name: 'app', readinessProbe: probe('ready', { periodSeconds: 1 }) }, ctx, timers.now());
  await advance(timers, 3_500);
  assert.equal(calls, 1);
  pending.shift()!();
  await flush();
  assert.equal(calls, 2, 'one buffered tick, like a Go ticker');
  assert.equal(maxInFlight, 1);
  m.stop();
});

test('errored probes (unknown) count neither way but are reported as attempts', async () => {
  const { timers, script, results, attempts, m } = setup();
  script.set('live', 'unknown');
  m.addContainer('p1', { name: 'app', livenessProbe: probe('live', { periodSeconds: 1, failureThreshold: 1 }) }, ctx, timers.now());
  await advance(timers, 5_000);
  assert.equal(results.length, 0);
  assert.equal(attempts.length, 6);
  assert.equal(attempts[0]!.message, 'Liveness probe errored: cannot run');
  m.stop();
});

test('stopLivenessAndStartup: a terminating pod keeps its readiness probe only', async () => {
  const { timers, script, m } = setup();
  m.addContainer('p1', { name: 'app', livenessProbe: probe('live', { periodSeconds: 1 }), readinessProbe: probe('ready', { periodSeconds: 1 }) }, ctx, timers.now());
  await advance(timers, 1_000);
  m.stopLivenessAndStartup('p1');
  const live = script.count('live');
  const ready = script.count('ready');
  await advance(timers, 3_000);
  assert.equal(script.count('live'), live);
  assert.equal(script.count('ready'), ready + 3);
  m.stop();
});

test('stop() ends everything and ignores later adds', async () => {
  const { timers, m } = setup();
  m.addContainer('p1', { name: 'app', readinessProbe: probe('ready') }, ctx, timers.now());
  m.stop();
  m.addContainer('p2', { name: 'app', readinessProbe: probe('ready') }, ctx, timers.now());
  assert.deepEqual(timers.pendingDelays(), []);
});

test('defaults: period 10 s, liveness successThreshold forced to 1', async () => {
  const { timers, script, results, m } = setup();
  m.addContainer('p1', { name: 'app', livenessProbe: probe('live', { successThreshold: 5, failureThreshold: 1 }) }, ctx, timers.now());
  await advance(timers, 25_000);
  assert.equal(script.count('live'), 3);
  assert.equal(results.length, 0);
  m.stop();
});
