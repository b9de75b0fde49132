// TTL after finished: deletes a finished Job (Complete or Failed) once
// spec.ttlSecondsAfterFinished have passed since it finished. Its pods go with it through
// the garbage collector (propagation Background).
import type { KObject } from '../../api/object.ts';
import { obj } from '../../api/kinds/access.ts';
import type { Informer } from '../../client/informer.ts';
import { realTimers, type Timers } from '../../client/timers.ts';
import { isConflict, isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { Controller, ControllerContext } from '../types.ts';
import { finishedCondition } from '../job/conditions.ts';
import { Wakeups } from '../job/wakeups.ts';

export interface TTLAfterFinishedOptions {
  workers?: number;
  /** Timers for the wake-up at expiry (the clock itself is ctx.now). */
  timers?: Timers;
}

/** When the job finished (ms), or undefined if it has not or has no TTL. */
export function expiresAt(job: KObject): number | undefined {
  const ttl = obj(job.spec).ttlSecondsAfterFinished;
  if (typeof ttl !== 'number' || job.metadata.deletionTimestamp) return undefined;
  const finished = finishedCondition(job);
  if (!finished) return undefined;
  const status = obj(job.status);
  const stamp = finished.type === 'Complete' && typeof status.completionTime === 'string'
    ? status.completionTime : finished.lastTransitionTime;
  const at = Date.parse(stamp ?? '');
  return Number.isNaN(at) ? undefined : at + ttl * 1000;
}

export class TTLAfterFinishedController implements Controller {
  readonly name = 'ttl-after-finished';
  readonly #queue: WorkQueue;
  readonly #wakeups: Wakeups;
  #ctx!: ControllerContext;
  #jobs!: Informer;
  #jobApi!: ResourceInterface;

  constructor(opts: TTLAfterFinishedOptions = {}) {
    this.#queue = new WorkQueue((key) => this.sync(key), {
      concurrency: opts.workers ?? 2,
      onError: (key, err) => this.#ctx?.log.warn('ttl-after-finished sync failed', { job: key, error: String(err) }),
    });
    this.#wakeups = new Wakeups((key) => this.#queue.add(key), opts.timers ?? realTimers);
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#jobApi = ctx.api.resource('batch', 'v1', 'jobs');
    this.#jobs = ctx.informers.informer('batch', 'v1', 'jobs');
    const consider = (job: KObject) => { if (expiresAt(job) !== undefined) this.#queue.add(`${job.metadata.namespace}/${job.metadata.name}`); };
    this.#jobs.addEventHandler({
      onAdd: consider,
      onUpdate: (_old, job) => consider(job),
      onDelete: (job) => this.#wakeups.cancel(`${job.metadata.namespace}/${job.metadata.name}`),
    });
  }

  stop(): void {
    this.#queue.stop();
    this.#wakeups.stop();
  }

  async sync(key: string): Promise<void> {
    const cached = this.#jobs.get(key);
    if (!cached) return;
    const at = expiresAt(cached);
    if (at === undefined) return;
    const now = this.#ctx.now();
    if (now < at) { this.#wakeups.after(key, at - now); return; }
    // The cache may be behind (TTL changed, job recreated): decide on the stored object.
    const fresh = await this.#jobApi.tryGet(cached.metadata.namespace, cached.metadata.name!);
    if (!fresh) return;
    const freshAt = expiresAt(fresh);
    if (freshAt === undefined) return;
    if (now < freshAt) { this.#wakeups.after(key, freshAt - now); return; }
    try {
      await this.#jobApi.delete(fresh.metadata.namespace, fresh.metadata.name!, {
        propagationPolicy: 'Background',
        preconditions: { uid: fresh.metadata.uid, resourceVersion: fresh.metadata.resourceVersion },
      });
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) { this.#queue.addAfter(key, 100); return; }
      throw err;
    }
  }
}
