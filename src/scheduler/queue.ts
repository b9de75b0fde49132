// The scheduling queue, after kube-scheduler's: three places a pending pod can be.
//   active        ready to try, highest priority first, then oldest first;
//   backoff       failed recently, waits out 1 s, 2 s, 4 s ... 10 s before going active;
//   unschedulable parked until a cluster event that could make it fit (a node added, a
//                 pod deleted, ...) moves it to backoff or active. No event, no retry,
//                 except a slow flush every few minutes in case an event was missed.
import type { Clock } from './clock.ts';
import type { ClusterEvent } from './framework/interface.ts';
import type { PodInfo } from './framework/pod-info.ts';

export interface QueuedPod {
  info: PodInfo;
  /** Scheduling attempts so far; drives the backoff. */
  attempts: number;
  /** When it may next be tried (clock ms). */
  backoffUntil: number;
  /** Plugins that rejected it last time; an event matters only if one of them cares. */
  plugins: readonly string[];
  /** The queue's cycle when it was popped: detects events that raced with the attempt. */
  cycle: number;
  /** When it entered the unschedulable set. */
  parkedAt: number;
  seq: number;
}

export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Unschedulable pods are retried after this long even without an event. */
  maxUnschedulableMs?: number;
  /** Whether an event can help a pod rejected by these plugins. */
  eventHelps?: (event: ClusterEvent, plugins: readonly string[]) => boolean;
}

function before(a: QueuedPod, b: QueuedPod): boolean {
  if (a.info.priority !== b.info.priority) return a.info.priority > b.info.priority;
  if (a.info.created !== b.info.created) return a.info.created < b.info.created;
  return a.seq < b.seq;
}

/** A binary heap of queued pods; stale entries are skipped on pop (lazy deletion). */
class Heap {
  readonly #items: QueuedPod[] = [];
  get size(): number {
    return this.#items.length;
  }
  push(x: QueuedPod): void {
    const a = this.#items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): QueuedPod | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

const FLUSH_INTERVAL_MS = 30_000;

export class SchedulingQueue {
  readonly #clock: Clock;
  readonly #opts: Required<QueueOptions>;
  readonly #heap = new Heap();
  readonly #active = new Map<string, QueuedPod>();
  readonly #backoff = new Map<string, QueuedPod>();
  readonly #unschedulable = new Map<string, QueuedPod>();
  /** Popped and being scheduled; a newer version seen meanwhile waits here. */
  readonly #inFlight = new Map<string, { qp: QueuedPod; updated?: PodInfo; deleted?: boolean }>();
  #waiters: ((qp: QueuedPod | undefined) => void)[] = [];
  #cycle = 0;
  #moveRequestCycle = -1;
  #seq = 0;
  #closed = false;
  #cancelBackoffTimer: (() => void) | undefined;
  #backoffTimerAt = Infinity;
  #cancelFlushTimer: (() => void) | undefined;

  constructor(clock: Clock, opts: QueueOptions = {}) {
    this.#clock = clock;
    this.#opts = {
      initialBackoffMs: opts.initialBackoffMs ?? 1000,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000,
      maxUnschedulableMs: opts.maxUnschedulableMs ?? 5 * 60_000,
      eventHelps: opts.eventHelps ?? (() => true),
    };
  }

  get stats(): { active: number; backoff: number; unschedulable: number; inFlight: number } {
    return { active: this.#active.size, backoff: this.#backoff.size, unschedulable: this.#unschedulable.size, inFlight: this.#inFlight.size };
  }

  has(key: string): boolean {
    return this.#active.has(key) || this.#backoff.has(key) || this.#unschedulable.has(key) || this.#inFlight.has(key);
  }

  /** A new pending pod. */
  add(info: PodInfo): void {
    if (this.#closed) return;
    if (this.has(info.key)) return this.update(info);
    this.#activate({ info, attempts: 0, backoffUntil: 0, plugins: [], cycle: 0, parkedAt: 0, seq: ++this.#seq });
  }

  /** A pending pod changed: keep the newest object; a parked pod gets another try. */
  update(info: PodInfo): void {
    const flying = this.#inFlight.get(info.key);
    if (flying) {
      flying.updated = info;
      return;
    }
    const active = this.#active.get(info.key);
    if (active) {
      this.#activate({ ...active, info, seq: active.seq });
      return;
    }
    const waiting = this.#backoff.get(info.key) ?? this.#unschedulable.get(info.key);
    if (!waiting) return this.add(info);
    this.#backoff.delete(info.key);
    this.#unschedulable.delete(info.key);
    this.#requeue({ ...waiting, info });
  }

  delete(key: string): void {
    this.#active.delete(key);
    this.#backoff.delete(key);
    this.#unschedulable.delete(key);
    const flying = this.#inFlight.get(key);
    if (flying) flying.deleted = true;
  }

  /** The next pod to schedule; waits for one. Undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    const qp = this.#take();
    if (qp || this.#closed) return Promise.resolve(qp);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The next pod to schedule if one is ready now, without waiting. */
  tryPop(): QueuedPod | undefined {
    return this.#closed ? undefined : this.#take();
  }

  /** Scheduling it succeeded (or it was dropped): it leaves the queue. */
  done(key: string): void {
    this.#inFlight.delete(key);
  }

  /** No node fits: park it until an event the rejecting plugins care about. */
  addUnschedulable(qp: QueuedPod, plugins: readonly string[]): void {
    const next = this.#land(qp);
    if (!next) return;
    next.plugins = plugins;
    next.backoffUntil = this.#clock.now() + this.#backoffFor(next.attempts);
    // An event arrived while we were busy with it: it may fit now; do not park it.
    if (this.#moveRequestCycle >= qp.cycle || next.info !== qp.info) {
      this.#requeue(next);
      return;
    }
    next.parkedAt = this.#clock.now();
    this.#unschedulable.set(next.info.key, next);
    this.#armFlush();
  }

  /** An error, not a verdict (a failed binding, a plugin error): retry after backoff. */
  addBackoff(qp: QueuedPod): void {
    const next = this.#land(qp);
    if (!next) return;
    next.backoffUntil = this.#clock.now() + this.#backoffFor(next.attempts);
    this.#requeue(next);
  }

  /** A cluster event: pods it might help leave the unschedulable set. */
  moveOnEvent(event: ClusterEvent): void {
    this.#moveRequestCycle = this.#cycle;
    for (const [key, qp] of this.#unschedulable) {
      if (qp.plugins.length && !this.#opts.eventHelps(event, qp.plugins)) continue;
      this.#unschedulable.delete(key);
      this.#requeue(qp);
    }
  }

  close(): void {
    this.#closed = true;
    this.#cancelBackoffTimer?.();
    this.#cancelFlushTimer?.();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  // The pod is back from an attempt: take the newest version seen while it was away.
  #land(qp: QueuedPod): QueuedPod | undefined {
    const flying = this.#inFlight.get(qp.info.key);
    this.#inFlight.delete(qp.info.key);
    if (this.#closed || flying?.deleted) return undefined;
    return { ...qp, info: flying?.updated ?? qp.info };
  }

  #backoffFor(attempts: number): number {
    return Math.min(this.#opts.maxBackoffMs, this.#opts.initialBackoffMs * 2 ** Math.max(0, attempts - 1));
  }

  #requeue(qp: QueuedPod): void {
    if (qp.backoffUntil > this.#clock.now()) {
      this.#backoff.set(qp.info.key, qp);
      this.#armBackoff(qp.backoffUntil);
    } else {
      this.#activate(qp);
    }
  }

  #activate(qp: QueuedPod): void {
    if (this.#closed) return;
    this.#active.set(qp.info.key, qp);
    this.#heap.push(qp);
    const w = this.#waiters.shift();
    if (w) w(this.#take());
  }

  #take(): QueuedPod | undefined {
    while (this.#heap.size) {
      const qp = this.#heap.pop()!;
      if (this.#active.get(qp.info.key) !== qp) continue; // replaced or deleted
      this.#active.delete(qp.info.key);
      const taken = { ...qp, attempts: qp.attempts + 1, cycle: ++this.#cycle };
      this.#inFlight.set(qp.info.key, { qp: taken });
      return taken;
    }
    return undefined;
  }

  // One timer for the whole backoff set, at its earliest expiry.
  #armBackoff(at: number): void {
    if (at >= this.#backoffTimerAt) return;
    this.#cancelBackoffTimer?.();
    this.#backoffTimerAt = at;
    this.#cancelBackoffTimer = this.#clock.setTimer(() => this.#flushBackoff(), at - this.#clock.now());
  }

  #flushBackoff(): void {
    this.#cancelBackoffTimer = undefined;
    this.#backoffTimerAt = Infinity;
    const now = this.#clock.now();
    let next = Infinity;
    for (const [key, qp] of this.#backoff) {
      if (qp.backoffUntil <= now) {
        this.#backoff.delete(key);
        this.#activate(qp);
      } else {
        next = Math.min(next, qp.backoffUntil);
      }
    }
    if (next < Infinity) this.#armBackoff(next);
  }

  #armFlush(): void {
    if (this.#cancelFlushTimer || this.#closed) return;
    this.#cancelFlushTimer = this.#clock.setTimer(() => {
      this.#cancelFlushTimer = undefined;
      const now = this.#clock.now();
      for (const [key, qp] of this.#unschedulable) {
        if (now - qp.parkedAt < this.#opts.maxUnschedulableMs) continue;
        this.#unschedulable.delete(key);
        this.#requeue(qp);
      }
      if (this.#unschedulable.size) this.#armFlush();
    }, FLUSH_INTERVAL_MS);
  }
}
