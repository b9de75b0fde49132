// The CronJob controller: creates a Job from spec.jobTemplate at each time spec.schedule
// names, named `<cronjob>-<scheduled time in minutes since the epoch>` so a time can never
// run twice. Per sync:
//   1. reconcile status.active with the Jobs it owns (finished ones leave, strays join)
//   2. suspended or being deleted: stop there
//   3. find the latest scheduled time not yet run (missed runs: one catch-up only, and none
//      older than startingDeadlineSeconds)
//   4. concurrencyPolicy: Allow runs alongside, Forbid waits, Replace deletes the running ones
//   5. create the Job, record lastScheduleTime
//   6. delete finished Jobs beyond the history limits; write status; sleep until the next time
import type { KObject } from '../../api/object.ts';
import { obj, str, jsonEqual } from '../../api/kinds/access.ts';
import type { Informer } from '../../client/informer.ts';
import { realTimers, type Timers } from '../../client/timers.ts';
import { isAlreadyExists, isConflict, isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { EventRecorder } from '../events.ts';
import type { Controller, ControllerContext } from '../types.ts';
import { finishedCondition, rfc3339 } from '../job/conditions.ts';
import { Wakeups } from '../job/wakeups.ts';
import { compileSchedule, mostRecent, type Schedule } from './schedule.ts';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const BY_CRONJOB_UID = 'cronjob:controllerUid';
const TOO_MANY_MISSED = 100;
/** Wake a little after the scheduled minute, so the clock has surely reached it. */
const WAKE_SLACK_MS = 100;

export interface CronJobControllerOptions {
  workers?: number;
  /** Timers for sleeping until the next scheduled time (the clock itself is ctx.now). */
  timers?: Timers;
}

interface ObjectRef { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string; resourceVersion?: string }

interface CronJobStatus { active?: ObjectRef[]; lastScheduleTime?: string; lastSuccessfulTime?: string; [k: string]: unknown }

function cronJobOwner(o: KObject): { key: string; uid: string } | undefined {
  const ref = (o.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  if (!ref || ref.kind !== 'CronJob' || !ref.apiVersion.startsWith('batch/')) return undefined;
  return { key: `${o.metadata.namespace}/${ref.name}`, uid: ref.uid };
}

const keyOf = (o: KObject): string => `${o.metadata.namespace}/${o.metadata.name}`;
const jobRef = (job: KObject): ObjectRef => ({
  apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, namespace: job.metadata.namespace,
  uid: job.metadata.uid, resourceVersion: job.metadata.resourceVersion,
});

export class CronJobController implements Controller {
  readonly name = 'cronjob';
  readonly #queue: WorkQueue;
  readonly #wakeups: Wakeups;
  #ctx!: ControllerContext;
  #cronJobs!: Informer;
  #jobs!: Informer;
  #cronJobApi!: ResourceInterface;
  #jobApi!: ResourceInterface;
  #recorder!: EventRecorder;

  constructor(opts: CronJobControllerOptions = {}) {
    this.#queue = new WorkQueue((key) => this.sync(key), {
      concurrency: opts.workers ?? 2,
      onError: (key, err) => { if (!isConflict(err)) this.#ctx?.log.warn('cronjob sync failed', { cronjob: key, error: String(err) }); },
    });
    this.#wakeups = new Wakeups((key) => this.#queue.add(key), opts.timers ?? realTimers);
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#recorder = ctx.recorder('cronjob-controller');
    this.#cronJobApi = ctx.api.resource('batch', 'v1', 'cronjobs');
    this.#jobApi = ctx.api.resource('batch', 'v1', 'jobs');
    this.#cronJobs = ctx.informers.informer('batch', 'v1', 'cronjobs');
    this.#jobs = ctx.informers.informer('batch', 'v1', 'jobs', { indexers: { [BY_CRONJOB_UID]: (j) => [cronJobOwner(j)?.uid] } });
    this.#cronJobs.addEventHandler({
      onAdd: (cj) => this.#queue.add(keyOf(cj)),
      onUpdate: (_old, cj) => this.#queue.add(keyOf(cj)),
      onDelete: (cj) => this.#wakeups.cancel(keyOf(cj)),
    });
    const enqueueOwner = (job: KObject) => { const o = cronJobOwner(job); if (o) this.#queue.add(o.key); };
    this.#jobs.addEventHandler({ onAdd: enqueueOwner, onUpdate: (_old, job) => enqueueOwner(job), onDelete: enqueueOwner });
  }

  stop(): void {
    this.#queue.stop();
    this.#wakeups.stop();
  }

  get idle(): boolean { return this.#queue.idle; }

  async sync(key: string): Promise<void> {
    const cached = this.#cronJobs.get(key);
    if (!cached) return;
    const cj = structuredClone(cached);
    const spec = obj(cj.spec);
    const status = obj(cj.status) as CronJobStatus;
    cj.status = status;
    const before = structuredClone(status);
    const now = this.#ctx.now();
    const children = this.#jobs.byIndex(BY_CRONJOB_UID, cj.metadata.uid!).filter((j) => j.metadata.namespace === cj.metadata.namespace);

    // 1. status.active against the Jobs we own.
    await this.#reconcileActive(cj, status, children);
    if (cj.metadata.deletionTimestamp) { await this.#writeStatus(cj, before); return; }
    await this.#cleanupHistory(cj, spec, children);
    if (spec.suspend === true) { this.#wakeups.cancel(key); await this.#writeStatus(cj, before); return; }

    // 3. Which time is due?
    let schedule: Schedule;
    try {
      schedule = compileSchedule(str(spec.schedule), str(spec.timeZone) || undefined);
    } catch (err) {
      this.#recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(spec.schedule)} : ${(err as Error).message}`);
      await this.#writeStatus(cj, before);
      return;
    }
    const deadlineMs = typeof spec.startingDeadlineSeconds === 'number' ? spec.startingDeadlineSeconds * 1000 : undefined;
    let earliest = Date.parse(status.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '');
    if (Number.isNaN(earliest)) earliest = now;
    if (deadlineMs !== undefined) earliest = Math.max(earliest, now - deadlineMs);
    const due = mostRecent(schedule, earliest, now, TOO_MANY_MISSED);
    const next = schedule.next(now);
    if (next !== undefined) this.#wakeups.after(key, next - now + WAKE_SLACK_MS);
    if (!due) { await this.#writeStatus(cj, before); return; }
    if (due.missed > TOO_MANY_MISSED) {
      this.#recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    const scheduled = due.time;
    if (deadlineMs !== undefined && scheduled + deadlineMs < now) {
      this.#recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc3339(scheduled)}`);
      await this.#writeStatus(cj, before);
      return;
    }
    const jobName = `${cj.metadata.name}-${Math.floor(scheduled / 60_000)}`;
    const existing = children.find((j) => j.metadata.name === jobName);
    if (existing) {
      // Already made (our status write was lost or is not in the cache yet).
      this.#recordScheduled(status, scheduled, existing);
      await this.#writeStatus(cj, before);
      return;
    }

    // 4. Concurrency.
    const active = status.active ?? [];
    if (spec.concurrencyPolicy === 'Forbid' && active.length > 0) {
      this.#recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      await this.#writeStatus(cj, before);
      return;
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const ref of [...active]) {
        await this.#deleteJob(cj, ref.namespace ?? cj.metadata.namespace!, ref.name!, ref.uid);
        status.active = (status.active ?? []).filter((r) => r.uid !== ref.uid);
      }
    }

    // 5. Create the job.
    let job: KObject;
    try {
      job = await this.#jobApi.create(this.#jobFor(cj, jobName, scheduled));
    } catch (err) {
      if (isAlreadyExists(err)) {
        const found = await this.#jobApi.tryGet(cj.metadata.namespace, jobName);
        if (found && cronJobOwner(found)?.uid === cj.metadata.uid) {
          this.#recordScheduled(status, scheduled, found);
          await this.#writeStatus(cj, before);
          return;
        }
      }
      this.#recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
      await this.#writeStatus(cj, before);
      throw err;
    }
    this.#recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`);
    this.#recordScheduled(status, scheduled, job);
    await this.#writeStatus(cj, before);
  }

  #recordScheduled(status: CronJobStatus, scheduled: number, job: KObject): void {
    const last = Date.parse(status.lastScheduleTime ?? '');
    if (Number.isNaN(last) || last < scheduled) status.lastScheduleTime = rfc3339(scheduled);
    const active = status.active ?? [];
    if (!finishedCondition(job) && !active.some((r) => r.uid === job.metadata.uid)) status.active = [...active, jobRef(job)];
  }

  async #reconcileActive(cj: KObject, status: CronJobStatus, children: KObject[]): Promise<void> {
    let active = [...(status.active ?? [])];
    const byUid = new Map(children.map((j) => [j.metadata.uid!, j]));
    for (const job of children) {
      const listed = active.some((r) => r.uid === job.metadata.uid);
      const finished = finishedCondition(job);
      if (!finished) {
        if (!listed && !job.metadata.deletionTimestamp) active.push(jobRef(job));
        continue;
      }
      if (listed) {
        active = active.filter((r) => r.uid !== job.metadata.uid);
        this.#recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, status: ${finished.type}`);
      }
      if (finished.type === 'Complete') {
        const done = str(obj(job.status).completionTime) || finished.lastTransitionTime || '';
        const doneAt = Date.parse(done);
        const last = Date.parse(status.lastSuccessfulTime ?? '');
        if (!Number.isNaN(doneAt) && (Number.isNaN(last) || doneAt > last)) status.lastSuccessfulTime = done;
      }
    }
    // Listed but not in the cache: the cache may be behind our own create, so ask the API.
    for (const ref of [...active]) {
      if (byUid.has(ref.uid ?? '')) continue;
      const job = await this.#jobApi.tryGet(ref.namespace ?? cj.metadata.namespace, ref.name ?? '');
      if (!job || job.metadata.uid !== ref.uid) {
        active = active.filter((r) => r !== ref);
        this.#recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
      } else if (finishedCondition(job)) {
        active = active.filter((r) => r !== ref);
      }
    }
    if (active.length || status.active) status.active = active;
    if (status.active && status.active.length === 0) delete status.active;
  }

  /** Deletes the oldest finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit. */
  async #cleanupHistory(cj: KObject, spec: Record<string, unknown>, children: KObject[]): Promise<void> {
    const limits: [string, unknown][] = [['Complete', spec.successfulJobsHistoryLimit], ['Failed', spec.failedJobsHistoryLimit]];
    for (const [type, limit] of limits) {
      if (typeof limit !== 'number') continue;
      const finished = children
        .filter((j) => finishedCondition(j)?.type === type && !j.metadata.deletionTimestamp)
        .sort((a, b) => startOf(a) - startOf(b));
      for (const job of finished.slice(0, Math.max(0, finished.length - limit))) {
        await this.#deleteJob(cj, job.metadata.namespace!, job.metadata.name!, job.metadata.uid);
      }
    }
  }

  async #deleteJob(cj: KObject, namespace: string, name: string, uid?: string): Promise<void> {
    try {
      await this.#jobApi.delete(namespace, name, { propagationPolicy: 'Background', ...(uid ? { preconditions: { uid } } : {}) });
      this.#recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${name}`);
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      this.#recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(err as Error).message}`);
      throw err;
    }
  }

  #jobFor(cj: KObject, name: string, scheduled: number): KObject {
    const template = structuredClone(obj(obj(cj.spec).jobTemplate));
    const meta = obj(template.metadata);
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        ...(meta.labels ? { labels: meta.labels as Record<string, string> } : {}),
        annotations: { ...(meta.annotations as Record<string, string> | undefined), [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339(scheduled) },
        ownerReferences: [{
          apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name!, uid: cj.metadata.uid!, controller: true, blockOwnerDeletion: true,
        }],
      },
      spec: obj(template.spec),
    };
  }

  async #writeStatus(cj: KObject, before: CronJobStatus): Promise<void> {
    if (jsonEqual(before, cj.status)) return;
    await this.#cronJobApi.updateStatus(cj);
  }
}

function startOf(job: KObject): number {
  const t = Date.parse(str(obj(job.status).startTime) || str(job.metadata.creationTimestamp));
  return Number.isNaN(t) ? 0 : t;
}
