// Pod garbage collection, as Kubernetes' podgc controller does it. One sweep (a single
// queue key, run on relevant events and every periodMs) that:
//   - force-deletes pods bound to a node that no longer exists, once the node has been
//     missing for orphanGraceMs and the API confirms it is gone (running ones are first
//     marked Failed with a DisruptionTarget condition, as the kubelet never will);
//   - force-deletes terminating pods that were never scheduled;
//   - deletes the oldest terminated (Succeeded/Failed) pods above terminatedPodThreshold.
import type { KObject } from '../../api/object.ts';
import { obj, objs, str } from '../../api/kinds/access.ts';
import type { Informer } from '../../client/informer.ts';
import { realTimers, type Timers } from '../../client/timers.ts';
import { isConflict, isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { EventRecorder } from '../events.ts';
import type { Controller, ControllerContext } from '../types.ts';
import { rfc3339 } from '../job/conditions.ts';
import { Wakeups } from '../job/wakeups.ts';

const SWEEP = 'sweep';
const NOT_SYNCED_RETRY_MS = 200;
const TERMINAL_INDEX = 'podgc:terminal';
const isTerminal = (pod: KObject): boolean => ['Succeeded', 'Failed'].includes(str(obj(pod.status).phase));
const nodeOf = (pod: KObject): string => str(obj(pod.spec).nodeName);

export interface PodGCOptions {
  /** Terminated pods kept before the oldest are deleted (Kubernetes: 12500); 0 or less keeps all. */
  terminatedPodThreshold?: number;
  /** How long a node must be missing before its pods go (Kubernetes: 40 s). */
  orphanGraceMs?: number;
  /** A full sweep at least this often (Kubernetes: 20 s). */
  periodMs?: number;
  timers?: Timers;
}

export class PodGCController implements Controller {
  readonly name = 'podgc';
  readonly #threshold: number;
  readonly #graceMs: number;
  readonly #periodMs: number;
  readonly #queue: WorkQueue;
  readonly #wakeups: Wakeups;
  /** Pod uid → when we first saw its node missing. */
  readonly #orphanSince = new Map<string, number>();
  #ctx!: ControllerContext;
  #pods!: Informer;
  #nodes!: Informer;
  #podApi!: ResourceInterface;
  #nodeApi!: ResourceInterface;
  #recorder!: EventRecorder;

  constructor(opts: PodGCOptions = {}) {
    this.#threshold = opts.terminatedPodThreshold ?? 12_500;
    this.#graceMs = opts.orphanGraceMs ?? 40_000;
    this.#periodMs = opts.periodMs ?? 20_000;
    this.#queue = new WorkQueue(() => this.sync(), {
      onError: (_key, err) => this.#ctx?.log.warn('pod gc sweep failed', { error: String(err) }),
    });
    this.#wakeups = new Wakeups(() => this.#queue.add(SWEEP), opts.timers ?? realTimers);
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#recorder = ctx.recorder('pod-garbage-collector');
    this.#podApi = ctx.api.resource('', 'v1', 'pods');
    this.#nodeApi = ctx.api.resource('', 'v1', 'nodes');
    this.#pods = ctx.informers.informer('', 'v1', 'pods', { indexers: { [TERMINAL_INDEX]: (p) => [isTerminal(p) ? 'true' : undefined] } });
    this.#nodes = ctx.informers.informer('', 'v1', 'nodes');
    const sweep = () => this.#queue.add(SWEEP);
    const consider = (pod: KObject) => {
      const node = nodeOf(pod);
      if (node && !this.#nodes.getByName(undefined, node)) sweep();
      else if (!node && pod.metadata.deletionTimestamp) sweep();
      else if (isTerminal(pod) && this.#threshold > 0 && this.#pods.indexKeys(TERMINAL_INDEX, 'true').length > this.#threshold) sweep();
    };
    this.#pods.addEventHandler({ onAdd: consider, onUpdate: (_old, pod) => consider(pod), onDelete: (pod) => this.#orphanSince.delete(pod.metadata.uid!) });
    this.#nodes.addEventHandler({ onDelete: sweep });
    this.#wakeups.after(SWEEP, this.#periodMs);
  }

  stop(): void {
    this.#queue.stop();
    this.#wakeups.stop();
  }

  get idle(): boolean { return this.#queue.idle; }

  async sync(): Promise<void> {
    if (!this.#pods.hasSynced() || !this.#nodes.hasSynced()) {
      this.#wakeups.after(SWEEP, NOT_SYNCED_RETRY_MS); // an empty node cache says nothing yet
      return;
    }
    try {
      await this.#collectTerminated();
      await this.#collectOrphaned();
      await this.#collectUnscheduledTerminating();
    } finally {
      this.#wakeups.after(SWEEP, this.#periodMs);
    }
  }

  async #collectTerminated(): Promise<void> {
    if (this.#threshold <= 0) return;
    const terminated = this.#pods.byIndex(TERMINAL_INDEX, 'true').filter((p) => !p.metadata.deletionTimestamp);
    const excess = terminated.length - this.#threshold;
    if (excess <= 0) return;
    terminated.sort((a, b) => str(a.metadata.creationTimestamp).localeCompare(str(b.metadata.creationTimestamp))
      || `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    await this.#each(terminated.slice(0, excess), (pod) => this.#forceDelete(pod));
  }

  async #collectOrphaned(): Promise<void> {
    const now = this.#ctx.now();
    const orphans: KObject[] = [];
    const seen = new Set<string>();
    const confirmedGone = new Map<string, boolean>();
    for (const pod of this.#pods.list()) {
      const node = nodeOf(pod);
      if (!node || this.#nodes.getByName(undefined, node)) continue;
      const uid = pod.metadata.uid!;
      seen.add(uid);
      const since = this.#orphanSince.get(uid) ?? now;
      this.#orphanSince.set(uid, since);
      const wait = since + this.#graceMs - now;
      if (wait > 0) { this.#wakeups.after(SWEEP, wait); continue; }
      if (!confirmedGone.has(node)) confirmedGone.set(node, !(await this.#nodeApi.tryGet(undefined, node)));
      if (confirmedGone.get(node)) orphans.push(pod);
    }
    for (const uid of this.#orphanSince.keys()) if (!seen.has(uid)) this.#orphanSince.delete(uid);
    await this.#each(orphans, async (pod) => {
      if (!isTerminal(pod) && !pod.metadata.deletionTimestamp) await this.#markFailed(pod, now);
      await this.#forceDelete(pod);
      this.#orphanSince.delete(pod.metadata.uid!);
    });
  }

  async #collectUnscheduledTerminating(): Promise<void> {
    const stuck = this.#pods.list().filter((p) => p.metadata.deletionTimestamp && !nodeOf(p) && !(p.metadata.finalizers?.length));
    await this.#each(stuck, (pod) => this.#forceDelete(pod));
  }

  /** The kubelet of a vanished node will never report: say what happened to the pod. */
  async #markFailed(pod: KObject, now: number): Promise<void> {
    const next = structuredClone(pod);
    const status = obj(next.status);
    const conditions = objs(status.conditions).filter((c) => c.type !== 'DisruptionTarget');
    conditions.push({
      type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC',
      message: 'PodGC: node no longer exists', lastProbeTime: null, lastTransitionTime: rfc3339(now),
    });
    next.status = { ...status, phase: 'Failed', conditions };
    try {
      await this.#podApi.updateStatus(next);
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  async #forceDelete(pod: KObject): Promise<void> {
    try {
      await this.#podApi.delete(pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      this.#ctx.log.info('pod garbage collected', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, node: nodeOf(pod) || undefined });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      this.#recorder.event(pod, 'Warning', 'FailedDelete', `pod garbage collection failed: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Runs `fn` on each, a few at a time; one failure does not stop the rest. */
  async #each(pods: KObject[], fn: (pod: KObject) => Promise<void>): Promise<void> {
    let firstError: unknown;
    for (let i = 0; i < pods.length; i += 16) {
      await Promise.all(pods.slice(i, i + 16).map((p) => fn(p).catch((err) => { firstError ??= err; })));
    }
    if (firstError !== undefined) throw firstError;
  }
}
