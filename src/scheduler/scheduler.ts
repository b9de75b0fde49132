// The Scheduler: informer events in, decisions out. Events update the cache and the
// queue; one loop pops a pod, refreshes the snapshot, runs the pure scheduleOne, and
// hands the outcome to injected effects: a Binder for placements, a Recorder for
// FailedScheduling conditions/events and preemption. Binding runs in the background so
// the next pod's cycle does not wait on the API server; the assumed pod holds its room,
// and the pod counts as in flight in the queue until the binding returns.
import type { KObject } from '../api/object.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { SchedulerCache, isTerminal } from './cache.ts';
import { realClock, type Clock } from './clock.ts';
import type { Binder, ClusterEvent, Profile } from './framework/interface.ts';
import { newPodInfo, podKey, type PodInfo } from './framework/pod-info.ts';
import { Snapshot } from './framework/snapshot.ts';
import { Nominator } from './nominator.ts';
import { defaultProfile } from './plugins/index.ts';
import { SchedulingQueue, type QueueOptions, type QueuedPod } from './queue.ts';
import { scheduleOne } from './schedule-one.ts';

export interface Recorder {
  /** Set PodScheduled=False (reason Unschedulable) and emit a FailedScheduling event. */
  unschedulable(pod: KObject, message: string): Promise<void>;
  /** Delete the victims and set the preemptor's status.nominatedNodeName. */
  preempt(victims: KObject[], nominatedNode: string, pod: KObject): Promise<void>;
}

export interface SchedulerDeps {
  binder: Binder;
  recorder: Recorder;
  clock?: Clock;
  log?: Logger;
  profile?: Profile;
  /** Tie-breaks between equally good nodes. */
  rng?: () => number;
  queue?: Omit<QueueOptions, 'eventHelps'>;
  /**
   * How long one turn of the scheduling loop may run cycles back to back before it
   * yields to the event loop (ms). Default 5: the API server sharing the thread keeps
   * answering, and a busy server's turn of I/O does not limit scheduling to one pod.
   */
  sliceMs?: number;
  /**
   * The most a turn may take when the rest of the process took long since the last one
   * (ms, default 25): the slice grows to match that gap (see sliceFor).
   */
  maxSliceMs?: number;
}

/**
 * How long the next scheduling turn may run: as long as the rest of the process just ran
 * (`gapMs`, the time since the previous turn ended), between `min` and `max`. A fixed slice
 * starves the scheduler exactly when it matters: under a burst of creates the event loop's
 * turns grow to tens of milliseconds, and 5 ms of each bound only ~30 pods/s. Matching the
 * gap gives scheduling up to half the thread while it has work; `max` bounds how long a
 * request can wait behind it.
 */
export function sliceFor(gapMs: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, gapMs));
}

const spec = (pod: KObject) => (pod.spec ?? {}) as { nodeName?: string; schedulerName?: string };
const isAssigned = (pod: KObject) => !!spec(pod).nodeName;
const nominatedNodeName = (pod: KObject) => {
  const n = (pod.status as { nominatedNodeName?: unknown } | undefined)?.nominatedNodeName;
  return typeof n === 'string' ? n : '';
};

// What a node update must change to be worth waking parked pods (heartbeats are not).
function schedulingView(node: KObject): string {
  const s = (node.spec ?? {}) as Record<string, unknown>;
  const st = (node.status ?? {}) as Record<string, unknown>;
  return JSON.stringify([node.metadata.labels, s.taints, s.unschedulable, st.allocatable ?? st.capacity]);
}

function podSchedulingView(pod: KObject): string {
  const s = (pod.spec ?? {}) as Record<string, unknown>;
  return JSON.stringify([pod.metadata.labels, s.containers, s.initContainers, s.overhead, s.nodeName, isTerminal(pod)]);
}

/** The events each plugin registered: which parked pods an event may wake. */
function eventFilter(profile: Profile): (event: ClusterEvent, plugins: readonly string[]) => boolean {
  const byName = new Map<string, readonly ClusterEvent[] | undefined>();
  for (const p of [...profile.preFilter, ...profile.filter]) byName.set(p.name, p.events);
  return (event, plugins) => plugins.some((name) => {
    const events = byName.get(name);
    return !events || events.includes(event);
  });
}

export class Scheduler {
  readonly cache = new SchedulerCache();
  /** Pending pods nominated to a node by preemption: filtering keeps their room for them. */
  readonly nominator = new Nominator();
  readonly queue: SchedulingQueue;
  readonly #snapshot = new Snapshot();
  readonly #deps: Required<Omit<SchedulerDeps, 'queue' | 'sliceMs' | 'maxSliceMs'>>;
  readonly #sliceMs: number;
  readonly #maxSliceMs: number;
  readonly #pending = new Set<Promise<unknown>>();
  #nextStartIndex = 0;
  #running = false;
  #busy = false;

  constructor(deps: SchedulerDeps) {
    const profile = deps.profile ?? defaultProfile();
    this.#deps = {
      binder: deps.binder, recorder: deps.recorder, profile,
      clock: deps.clock ?? realClock, log: deps.log ?? silentLogger, rng: deps.rng ?? Math.random,
    };
    this.queue = new SchedulingQueue(this.#deps.clock, { ...deps.queue, eventHelps: eventFilter(profile) });
    this.#sliceMs = deps.sliceMs ?? 5;
    this.#maxSliceMs = Math.max(this.#sliceMs, deps.maxSliceMs ?? 25);
  }

  get schedulerName(): string {
    return this.#deps.profile.schedulerName;
  }

  /** Pending pods for this scheduler; others' pods and pods being deleted are left alone. */
  #responsibleFor(pod: KObject): boolean {
    return (spec(pod).schedulerName || 'default-scheduler') === this.schedulerName && !pod.metadata.deletionTimestamp;
  }

  onPodAdd(pod: KObject): void {
    if (isAssigned(pod)) {
      this.queue.delete(podKey(pod));
      this.nominator.delete(podKey(pod));
      this.cache.addPod(pod);
      this.queue.moveOnEvent('AssignedPodAdd');
    } else if (this.#responsibleFor(pod) && !this.cache.isAssumed(podKey(pod))) {
      const info = newPodInfo(pod);
      this.queue.add(info);
      this.nominator.set(info, info.nominatedNodeName);
    }
  }

  /** A nomination went away without the pod binding: the room it held is free. */
  #unnominate(key: string): void {
    if (this.nominator.delete(key)) this.queue.moveOnEvent('AssignedPodDelete');
  }

  onPodUpdate(oldPod: KObject | undefined, pod: KObject): void {
    const key = podKey(pod);
    if (isAssigned(pod)) {
      const wasAssigned = oldPod ? isAssigned(oldPod) : this.cache.hasPod(key) && !this.cache.isAssumed(key);
      this.queue.delete(key);
      this.nominator.delete(key);
      const relevant = !oldPod || podSchedulingView(oldPod) !== podSchedulingView(pod);
      this.cache.updatePod(pod);
      if (!wasAssigned) this.queue.moveOnEvent('AssignedPodAdd');
      else if (relevant) this.queue.moveOnEvent(isTerminal(pod) ? 'AssignedPodDelete' : 'AssignedPodUpdate');
    } else if (this.#responsibleFor(pod)) {
      if (this.cache.isAssumed(key)) return;
      const info = newPodInfo(pod);
      this.queue.update(info);
      // As kube-scheduler: an update that neither sets nor clears nominatedNodeName keeps
      // a nomination made in memory (by preemption) before the status write came back.
      const kept = !info.nominatedNodeName && !(oldPod && nominatedNodeName(oldPod)) ? this.nominator.nodeOf(key) : undefined;
      const node = kept ?? info.nominatedNodeName;
      if (node) this.nominator.set(info, node);
      else this.#unnominate(key);
    } else {
      this.queue.delete(key);
      this.#unnominate(key);
    }
  }

  onPodDelete(pod: KObject): void {
    const key = podKey(pod);
    this.queue.delete(key);
    this.#unnominate(key);
    if (this.cache.hasPod(key)) {
      this.cache.removePod(pod);
      this.queue.moveOnEvent('AssignedPodDelete');
    }
  }

  onNodeAdd(node: KObject): void {
    this.cache.addNode(node);
    this.queue.moveOnEvent('NodeAdd');
  }

  onNodeUpdate(oldNode: KObject | undefined, node: KObject): void {
    this.cache.updateNode(node);
    if (!oldNode || schedulingView(oldNode) !== schedulingView(node)) this.queue.moveOnEvent('NodeUpdate');
  }

  onNodeDelete(node: KObject): void {
    this.cache.removeNode(node.metadata.name!);
    this.queue.moveOnEvent('NodeDelete');
  }

  /** Schedules until stop(). */
  async run(): Promise<void> {
    this.#running = true;
    let lastEnd = performance.now();
    while (this.#running) {
      const waited = this.queue.stats.active === 0;
      const first = await this.queue.pop();
      if (!first) break;
      this.#busy = true;
      try {
        // Cycles back to back for at most a slice of time, each on a fresh snapshot;
        // then the event loop gets its turn (requests, informer events, binding results).
        // After an idle wait the gap says nothing about load: the base slice.
        const start = performance.now();
        const until = start + (waited ? this.#sliceMs : sliceFor(start - lastEnd, this.#sliceMs, this.#maxSliceMs));
        for (let qp: QueuedPod | undefined = first; qp; qp = this.queue.tryPop()) {
          this.#cycle(qp);
          if (!this.#running || performance.now() >= until) break;
        }
      } finally {
        this.#busy = false;
      }
      lastEnd = performance.now();
      await new Promise((r) => setImmediate(r));
    }
  }

  stop(): void {
    this.#running = false;
    this.queue.close();
  }

  /** Resolves once nothing is ready to schedule and no binding or record is in flight. */
  async settle(): Promise<void> {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (this.#pending.size) {
        await Promise.allSettled([...this.#pending]);
        continue;
      }
      const { active, inFlight } = this.queue.stats;
      if (!this.#busy && active === 0 && inFlight === 0) return;
    }
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  #record(what: string, pod: PodInfo, work: () => Promise<void>): void {
    this.#track(work().catch((err: unknown) => this.#deps.log.warn(`recording ${what} failed`, { pod: pod.key, err: String(err) })));
  }

  #cycle(qp: QueuedPod): void {
    const pod = qp.info;
    const { log, profile, recorder } = this.#deps;
    if (pod.deleting || pod.nodeName || this.cache.hasPod(pod.key)) {
      this.queue.done(pod.key);
      return;
    }
    this.cache.updateSnapshot(this.#snapshot);
    let result: ReturnType<typeof scheduleOne>;
    try {
      result = scheduleOne(pod, this.#snapshot, profile, { startIndex: this.#nextStartIndex, rng: this.#deps.rng, nominator: this.nominator });
    } catch (err) {
      log.error('scheduling cycle failed', { pod: pod.key, err: String(err) });
      this.queue.addBackoff(qp);
      return;
    }

    if ('node' in result) {
      this.#nextStartIndex = (this.#nextStartIndex + result.evaluatedNodes) % Math.max(1, this.#snapshot.size);
      for (const [i, r] of profile.reserve.entries()) {
        const s = r.reserve(result.state, pod, result.node);
        if (s.code !== 'Success') {
          for (const undo of profile.reserve.slice(0, i + 1).reverse()) undo.unreserve(result.state, pod, result.node);
          this.queue.addBackoff(qp);
          return;
        }
      }
      this.cache.assumePod(pod, result.node);
      // Assumed, it counts on its node as any placed pod: no longer as a nominated one.
      // (Should binding fail, it retries un-nominated: a nomination restored then could
      // outlive a pod deleted meanwhile.)
      this.nominator.delete(pod.key);
      log.debug('scheduled', { pod: pod.key, node: result.node });
      const state = result.state;
      const node = result.node;
      this.#track(this.#bind(qp, node, () => {
        for (const r of [...profile.reserve].reverse()) r.unreserve(state, pod, node);
      }));
      return;
    }

    if ('preempt' in result) {
      const { node, victims, message, plugins } = result.preempt;
      log.info('preempting', { pod: pod.key, node, victims: victims.map((v) => v.key) });
      // Nominated at once, not when the status write comes back: the victims' delete
      // events may come first, and the room they free is this pod's.
      this.nominator.set(pod, node);
      this.#record('preemption', pod, () => recorder.preempt(victims.map((v) => v.pod), node, pod.pod));
      this.#record('FailedScheduling', pod, () => recorder.unschedulable(pod.pod, message));
      // It waits for its victims' delete events like any parked pod.
      this.queue.addUnschedulable(qp, plugins);
      return;
    }

    const { message, plugins, error } = result.unschedulable;
    log.debug('unschedulable', { pod: pod.key, message });
    this.#record('FailedScheduling', pod, () => recorder.unschedulable(pod.pod, message));
    if (error) this.queue.addBackoff(qp);
    else this.queue.addUnschedulable(qp, plugins);
  }

  async #bind(qp: QueuedPod, node: string, unreserve: () => void): Promise<void> {
    const pod = qp.info;
    try {
      await this.#deps.binder.bind(pod.pod, node);
      this.queue.done(pod.key);
    } catch (err) {
      this.#deps.log.warn('binding failed', { pod: pod.key, node, err: String(err) });
      unreserve();
      this.cache.forgetPod(pod.key);
      // The room it held is free again: parked pods may fit.
      this.queue.moveOnEvent('AssignedPodDelete');
      this.#record('FailedScheduling', pod, () => this.#deps.recorder.unschedulable(pod.pod, `Binding rejected: ${String((err as Error)?.message ?? err)}`));
      // Back with backoff, not straight to active: no hot loop on a failing API server.
      this.queue.addBackoff(qp);
    }
  }
}
