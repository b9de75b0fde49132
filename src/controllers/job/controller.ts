// The Job controller: runs a Job's pods until enough of them succeed, or until the job
// fails (too many failures, or past its deadline).
//
// Counting is exact across pod deletion the way Kubernetes does it: every pod carries the
// batch.kubernetes.io/job-tracking finalizer; a finished pod's uid first goes into
// status.uncountedTerminatedPods, then its finalizer is removed, then it moves into
// status.succeeded/failed. A crash between steps repeats a step, never a count.
//
// Per sync, in order:
//   1. count newly finished pods (uncounted → finalizers off → counters)
//   2. suspend / resume
//   3. decide failure (backoffLimit, activeDeadlineSeconds) or success (completions)
//   4. finishing: delete active pods, then set Failed or Complete once none are left
//   5. otherwise create or delete pods to have the wanted number active
//   6. write status if it changed; wake up for deadlines and backoff
import type { KObject } from '../../api/object.ts';
import { obj, str, jsonEqual } from '../../api/kinds/access.ts';
import type { Informer } from '../../client/informer.ts';
import { realTimers, type Timers } from '../../client/timers.ts';
import { isConflict, isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { EventRecorder } from '../events.ts';
import type { Controller, ControllerContext } from '../types.ts';
import { conditionTrue, finishedCondition, getCondition, rfc3339, setCondition } from './conditions.ts';
import { Expectations, UidExpectations } from './expectations.ts';
import { formatIndexes, parseIndexes } from './indexes.ts';
import {
  completionIndex, deletionOrder, hasTrackingFinalizer, isActive, isReady, isTerminating, jobOwnerKey, jobOwnerUid,
  phaseOf, podFromTemplate, restartCount, JOB_TRACKING_FINALIZER,
} from './pods.ts';
import { Wakeups } from './wakeups.ts';

const BY_JOB_UID = 'job:controllerUid';
const EXPECTATIONS_RECHECK_MS = 5 * 60 * 1000 + 1000;
const BY_JOB_KEY = 'job:controllerKey';
const byJobUid = (pod: KObject) => [jobOwnerUid(pod)];
const byJobKey = (pod: KObject) => [jobOwnerKey(pod)];

export interface JobControllerOptions {
  workers?: number;
  /** Delay before replacing a failed pod, doubling per failure (Kubernetes: 10 s). */
  backoffBaseMs?: number;
  /** Cap on that delay (Kubernetes: 6 min). */
  backoffMaxMs?: number;
  /** Timers for deadline and backoff wake-ups (the clock itself is ctx.now). */
  timers?: Timers;
}

interface JobSpec {
  parallelism?: number;
  completions?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  completionMode?: string;
  suspend?: boolean;
  template?: { spec?: { restartPolicy?: string } };
}

interface JobStatus {
  startTime?: string;
  completionTime?: string;
  active?: number;
  ready?: number;
  terminating?: number;
  succeeded?: number;
  failed?: number;
  completedIndexes?: string;
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
  conditions?: unknown[];
  [key: string]: unknown;
}

export class JobController implements Controller {
  readonly name = 'job';
  readonly #opts: Required<Omit<JobControllerOptions, 'timers'>> & { timers: Timers };
  #ctx!: ControllerContext;
  #jobs!: Informer;
  #pods!: Informer;
  #jobApi!: ResourceInterface;
  #podApi!: ResourceInterface;
  #recorder!: EventRecorder;
  #expectations!: Expectations;
  readonly #finalizerRemovals = new UidExpectations();
  /** Last time a job saw new failures, for the replacement backoff. */
  readonly #lastFailure = new Map<string, { at: number; failures: number }>();
  readonly #queue: WorkQueue;
  readonly #wakeups: Wakeups;

  constructor(opts: JobControllerOptions = {}) {
    this.#opts = {
      workers: opts.workers ?? 4,
      backoffBaseMs: opts.backoffBaseMs ?? 10_000,
      backoffMaxMs: opts.backoffMaxMs ?? 360_000,
      timers: opts.timers ?? realTimers,
    };
    this.#queue = new WorkQueue((key) => this.sync(key), {
      concurrency: this.#opts.workers,
      onError: (key, err) => { if (!isConflict(err)) this.#ctx?.log.warn('job sync failed', { job: key, error: String(err) }); },
    });
    this.#wakeups = new Wakeups((key) => this.#queue.add(key), this.#opts.timers);
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#recorder = ctx.recorder('job-controller');
    this.#expectations = new Expectations(ctx.now);
    this.#jobApi = ctx.api.resource('batch', 'v1', 'jobs');
    this.#podApi = ctx.api.resource('', 'v1', 'pods');
    this.#jobs = ctx.informers.informer('batch', 'v1', 'jobs');
    this.#pods = ctx.informers.informer('', 'v1', 'pods', { indexers: { [BY_JOB_UID]: byJobUid, [BY_JOB_KEY]: byJobKey } });

    const enqueueJob = (job: KObject) => this.#queue.add(keyOf(job));
    this.#jobs.addEventHandler({
      onAdd: enqueueJob,
      onUpdate: (_old, job) => enqueueJob(job),
      onDelete: (job) => {
        const key = keyOf(job);
        this.#expectations.forget(key);
        this.#lastFailure.delete(key);
        this.#wakeups.cancel(key);
        this.#queue.add(key); // its pods' finalizers must go
      },
    });
    this.#pods.addEventHandler({
      onAdd: (pod) => {
        const key = jobOwnerKey(pod);
        if (!key) return;
        if (pod.metadata.deletionTimestamp) this.#expectations.deletionObserved(key, pod.metadata.uid!);
        else this.#expectations.creationObserved(key);
        this.#queue.add(key);
      },
      onUpdate: (old, pod) => {
        const key = jobOwnerKey(pod);
        const oldKey = jobOwnerKey(old);
        if (oldKey && oldKey !== key) this.#queue.add(oldKey);
        if (!key) return;
        const uid = pod.metadata.uid!;
        if (pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) this.#expectations.deletionObserved(key, uid);
        if (!hasTrackingFinalizer(pod)) this.#finalizerRemovals.observed(key, uid);
        this.#queue.add(key);
      },
      onDelete: (pod) => {
        const key = jobOwnerKey(pod);
        if (!key) return;
        this.#expectations.deletionObserved(key, pod.metadata.uid!);
        this.#finalizerRemovals.observed(key, pod.metadata.uid!);
        this.#queue.add(key);
      },
    });
  }

  stop(): void {
    this.#queue.stop();
    this.#wakeups.stop();
  }

  /** True when no sync is queued or running (tests wait on it). */
  get idle(): boolean { return this.#queue.idle; }

  async sync(key: string): Promise<void> {
    const cached = this.#jobs.get(key);
    if (!cached) {
      await this.#releaseOrphans(key, undefined);
      return;
    }
    if (cached.metadata.deletionTimestamp || finishedCondition(cached)) {
      // Nothing more to run; only make sure no pod is held back by our finalizer.
      await this.#releaseOrphans(key, cached.metadata.uid);
      await this.#releaseFinalizers(key, this.#podsOf(cached)
        .filter((p) => hasTrackingFinalizer(p) && !this.#finalizerRemovals.has(key, p.metadata.uid!)));
      return;
    }
    if (!this.#expectations.satisfied(key)) {
      // Our own writes are on their way; their events requeue us (this is the safety net).
      this.#wakeups.after(key, EXPECTATIONS_RECHECK_MS);
      return;
    }
    await this.#releaseOrphans(key, cached.metadata.uid);

    const now = this.#ctx.now();
    let job = structuredClone(cached);
    const spec = obj(job.spec) as JobSpec;
    const status = obj(job.status) as JobStatus;
    job.status = status;
    const before = structuredClone(status);
    const pods = this.#podsOf(job);
    const indexed = spec.completionMode === 'Indexed';
    const completions = typeof spec.completions === 'number' ? spec.completions : undefined;
    const parallelism = spec.parallelism ?? 1;
    const backoffLimit = spec.backoffLimit ?? 6;
    const suspended = spec.suspend === true;
    const successCriteriaMet = conditionTrue(status, 'SuccessCriteriaMet');

    // 1. Count newly finished pods.
    const uncounted = {
      succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])],
      failed: [...(status.uncountedTerminatedPods?.failed ?? [])],
    };
    const alreadyUncounted = new Set([...uncounted.succeeded, ...uncounted.failed]);
    const completed = indexed ? parseIndexes(status.completedIndexes, completions ?? 0) : new Set<number>();
    const release: KObject[] = [];
    let newFailures = 0;
    for (const pod of pods) {
      const uid = pod.metadata.uid!;
      if (!hasTrackingFinalizer(pod) || this.#finalizerRemovals.has(key, uid)) continue;
      if (alreadyUncounted.has(uid)) { release.push(pod); continue; }
      const phase = phaseOf(pod);
      if (phase === 'Succeeded') {
        uncounted.succeeded.push(uid);
        if (indexed) {
          const i = completionIndex(pod, completions ?? 0);
          if (i !== undefined) completed.add(i);
        }
        release.push(pod);
      } else if (phase === 'Failed' || (pod.metadata.deletionTimestamp && !suspended && !successCriteriaMet)) {
        // A pod deleted before it finished counts as failed (it may never reach Failed).
        uncounted.failed.push(uid);
        newFailures++;
        release.push(pod);
      } else if (pod.metadata.deletionTimestamp) {
        release.push(pod); // deleted for suspension or after success: not a failure
      }
    }
    if (uncounted.succeeded.length + uncounted.failed.length > alreadyUncounted.size) {
      status.uncountedTerminatedPods = uncounted;
      if (indexed) status.completedIndexes = formatIndexes(completed);
      job = await this.#jobApi.updateStatus(job);
      Object.assign(status, obj(job.status));
      job.status = status;
    }
    const released = await this.#releaseFinalizers(key, release);
    const stillHeld = new Set(pods.filter((p) => hasTrackingFinalizer(p) && !released.has(p.metadata.uid!)
      && !this.#finalizerRemovals.has(key, p.metadata.uid!)).map((p) => p.metadata.uid!));
    const movedSucceeded = uncounted.succeeded.filter((uid) => !stillHeld.has(uid));
    const movedFailed = uncounted.failed.filter((uid) => !stillHeld.has(uid));
    status.succeeded = indexed ? completed.size : (status.succeeded ?? 0) + movedSucceeded.length;
    status.failed = (status.failed ?? 0) + movedFailed.length;
    uncounted.succeeded = uncounted.succeeded.filter((uid) => stillHeld.has(uid));
    uncounted.failed = uncounted.failed.filter((uid) => stillHeld.has(uid));
    status.uncountedTerminatedPods = {
      ...(uncounted.succeeded.length ? { succeeded: uncounted.succeeded } : {}),
      ...(uncounted.failed.length ? { failed: uncounted.failed } : {}),
    };
    if (indexed) status.completedIndexes = formatIndexes(completed);
    if (newFailures > 0) this.#lastFailure.set(key, { at: now, failures: status.failed + uncounted.failed.length });
    const allCounted = uncounted.succeeded.length + uncounted.failed.length === 0;

    let active = pods.filter(isActive);
    let terminating = pods.filter(isTerminating).length;
    const succeeded = indexed ? completed.size : status.succeeded + uncounted.succeeded.length;
    const failed = status.failed + uncounted.failed.length;

    // 2. Suspend and resume.
    if (suspended) {
      if (!conditionTrue(status, 'Suspended')) {
        setCondition(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now);
        this.#recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
      }
      terminating += await this.#deletePods(key, job, active);
      active = [];
    } else {
      if (conditionTrue(status, 'Suspended')) {
        setCondition(status, 'Suspended', 'False', 'JobResumed', 'Job resumed', now);
        this.#recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
        status.startTime = rfc3339(now); // the deadline counts from the resume
      }
      status.startTime ??= rfc3339(now);
    }

    // 3. Failure or success?
    let failure = getCondition(status, 'FailureTarget');
    if (!suspended && failure?.status !== 'True') {
      let reason: string | undefined;
      let message = '';
      if (failed > backoffLimit || this.#pastBackoffLimitOnFailure(spec, active, backoffLimit)) {
        [reason, message] = ['BackoffLimitExceeded', 'Job has reached the specified backoff limit'];
      } else if (this.#pastDeadline(spec, status, now)) {
        [reason, message] = ['DeadlineExceeded', 'Job was active longer than specified deadline'];
      }
      if (reason) {
        setCondition(status, 'FailureTarget', 'True', reason, message, now);
        this.#recorder.event(job, 'Warning', reason, message);
        failure = getCondition(status, 'FailureTarget');
      }
    }
    const failing = failure?.status === 'True';
    if (!failing && !suspended && !conditionTrue(status, 'SuccessCriteriaMet')) {
      let complete: boolean;
      if (indexed) complete = completed.size >= (completions ?? 0);
      else if (completions !== undefined) complete = succeeded >= completions;
      else complete = succeeded > 0 && active.length === 0; // a work queue: one success, then everyone done
      if (complete) setCondition(status, 'SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
    }
    const succeeding = !failing && conditionTrue(status, 'SuccessCriteriaMet');

    let created = 0;
    if (failing || succeeding) {
      // 4. Finishing: nothing may keep running; the final condition waits for the last pod.
      terminating += await this.#deletePods(key, job, active);
      active = [];
      if (terminating === 0 && allCounted) {
        if (failing) {
          setCondition(status, 'Failed', 'True', failure!.reason ?? 'Failed', failure!.message ?? '', now);
        } else {
          setCondition(status, 'Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
          status.completionTime = rfc3339(now);
          this.#recorder.event(job, 'Normal', 'Completed', 'Job completed');
        }
      }
    } else if (!suspended) {
      // 5. Keep the wanted number of pods active.
      let want: number;
      if (indexed) want = Math.min(parallelism, Math.max(0, (completions ?? 0) - completed.size));
      else if (completions !== undefined) want = Math.min(parallelism, Math.max(0, completions - succeeded));
      else want = succeeded > 0 ? active.length : parallelism;

      let excess: KObject[] = [];
      let freeIndexes: number[] = [];
      if (indexed) {
        // Duplicates, finished indexes and pods without a valid index go first.
        const held = new Set<number>();
        const keep: KObject[] = [];
        for (const pod of [...active].sort((a, b) => str(a.metadata.creationTimestamp).localeCompare(str(b.metadata.creationTimestamp)))) {
          const i = completionIndex(pod, completions ?? 0);
          if (i === undefined || completed.has(i) || held.has(i)) excess.push(pod);
          else { held.add(i); keep.push(pod); }
        }
        active = keep;
        for (let i = 0; i < (completions ?? 0) && freeIndexes.length < want; i++) if (!completed.has(i) && !held.has(i)) freeIndexes.push(i);
      }
      if (active.length > want) {
        const sorted = [...active].sort(deletionOrder);
        excess = [...excess, ...sorted.slice(0, active.length - want)];
        active = sorted.slice(active.length - want);
      }
      terminating += await this.#deletePods(key, job, excess);
      const missing = want - active.length;
      if (missing > 0) {
        const wait = this.#backoffRemaining(key, now);
        if (wait > 0) this.#wakeups.after(key, wait);
        else {
          created = await this.#createPods(key, job, indexed ? freeIndexes.slice(0, missing) : Array.from({ length: missing }, () => undefined));
        }
      }
    }

    // 6. Status.
    status.active = active.length + created;
    status.ready = active.filter(isReady).length;
    status.terminating = terminating;
    if (!jsonEqual(before, status)) {
      await this.#jobApi.updateStatus(job);
    }
    if (!finishedCondition(job) && !suspended) {
      const deadline = this.#deadlineAt(spec, status);
      if (deadline !== undefined && deadline > now) this.#wakeups.after(key, deadline - now);
    }
  }

  // ---- pods -----------------------------------------------------------------------------

  #podsOf(job: KObject): KObject[] {
    return this.#pods.byIndex(BY_JOB_UID, job.metadata.uid!).filter((p) => p.metadata.namespace === job.metadata.namespace);
  }

  /** Creates pods (one per entry: an index, or undefined for NonIndexed); returns how many were made. */
  async #createPods(key: string, job: KObject, indexes: (number | undefined)[]): Promise<number> {
    if (!indexes.length) return 0;
    this.#expectations.expectCreations(key, indexes.length);
    let created = 0;
    let firstError: unknown;
    await Promise.all(indexes.map(async (index) => {
      try {
        const pod = await this.#podApi.create(podFromTemplate(job, index));
        created++;
        this.#recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      } catch (err) {
        this.#expectations.creationObserved(key); // it will never show up
        this.#recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
        firstError ??= err;
      }
    }));
    if (firstError !== undefined && created === 0) throw firstError;
    if (firstError !== undefined) this.#wakeups.after(key, 1000);
    return created;
  }

  /** Deletes pods; returns how many are now terminating. */
  async #deletePods(key: string, job: KObject, pods: KObject[]): Promise<number> {
    if (!pods.length) return 0;
    this.#expectations.expectDeletions(key, pods.map((p) => p.metadata.uid!));
    let deleted = 0;
    let firstError: unknown;
    await Promise.all(pods.map(async (pod) => {
      const uid = pod.metadata.uid!;
      try {
        await this.#podApi.delete(pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid } });
        deleted++;
        this.#recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (err) {
        this.#expectations.deletionObserved(key, uid);
        if (isNotFound(err)) return;
        this.#recorder.event(job, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
        firstError ??= err;
      }
    }));
    if (firstError !== undefined) throw firstError;
    return deleted;
  }

  /** Removes our finalizer from `pods`; returns the uids it is gone from. */
  async #releaseFinalizers(key: string, pods: KObject[]): Promise<Set<string>> {
    const done = new Set<string>();
    let firstError: unknown;
    await Promise.all(pods.map(async (pod) => {
      const uid = pod.metadata.uid!;
      this.#finalizerRemovals.expect(key, uid);
      try {
        // A strategic merge patch takes out our finalizer alone, whatever the pod's version.
        await this.#podApi.patch(pod.metadata.namespace, pod.metadata.name!, 'strategic', {
          metadata: { '$deleteFromPrimitiveList/finalizers': [JOB_TRACKING_FINALIZER] },
        });
        done.add(uid);
      } catch (err) {
        this.#finalizerRemovals.observed(key, uid);
        if (isNotFound(err)) { done.add(uid); return; }
        firstError ??= err;
      }
    }));
    if (firstError !== undefined && done.size === 0) throw firstError;
    if (firstError !== undefined) this.#wakeups.after(key, 1000);
    return done;
  }

  /** Pods under this job name whose job (by uid) no longer exists: let them go. */
  async #releaseOrphans(key: string, liveUid: string | undefined): Promise<void> {
    const orphans = this.#pods.byIndex(BY_JOB_KEY, key)
      .filter((p) => jobOwnerUid(p) !== liveUid && hasTrackingFinalizer(p) && !this.#finalizerRemovals.has(key, p.metadata.uid!));
    if (orphans.length) await this.#releaseFinalizers(key, orphans);
    if (liveUid === undefined) {
      this.#expectations.forget(key);
    }
  }

  // ---- failure policy -------------------------------------------------------------------

  /** With restartPolicy OnFailure, container restarts in running pods count as failures. */
  #pastBackoffLimitOnFailure(spec: JobSpec, active: KObject[], limit: number): boolean {
    if (spec.template?.spec?.restartPolicy !== 'OnFailure') return false;
    let restarts = 0;
    for (const pod of active) if (['Running', 'Pending'].includes(phaseOf(pod))) restarts += restartCount(pod);
    return limit === 0 ? restarts > 0 : restarts >= limit;
  }

  #deadlineAt(spec: JobSpec, status: JobStatus): number | undefined {
    if (typeof spec.activeDeadlineSeconds !== 'number' || !status.startTime) return undefined;
    const start = Date.parse(status.startTime);
    return Number.isNaN(start) ? undefined : start + spec.activeDeadlineSeconds * 1000;
  }

  #pastDeadline(spec: JobSpec, status: JobStatus, now: number): boolean {
    const at = this.#deadlineAt(spec, status);
    return at !== undefined && now >= at;
  }

  #backoffRemaining(key: string, now: number): number {
    const last = this.#lastFailure.get(key);
    if (!last || last.failures <= 0 || this.#opts.backoffBaseMs <= 0) return 0;
    const delay = Math.min(this.#opts.backoffMaxMs, this.#opts.backoffBaseMs * 2 ** Math.min(30, last.failures - 1));
    return last.at + delay - now;
  }
}

function keyOf(o: KObject): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}
