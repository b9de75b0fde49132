// Cheap timing for thousands of nodes: one timer per duty, never one per node or pod.
//   Limiter        bounds API calls in flight (a queue, high priority first)
//   BatchedTicker  visits every key once per interval in small batches spread over it
//                  (Lease renewals, node status), from ONE timer
//   DueQueue       runs a key when its time comes (a pod's next status change), from ONE timer
import type { Timers } from '../../client/timers.ts';
import { realTimers } from '../../client/timers.ts';

export class Limiter {
  readonly max: number;
  #active = 0;
  readonly #high: (() => void)[] = [];
  readonly #low: (() => void)[] = [];

  constructor(max: number) {
    this.max = Math.max(1, max);
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#high.length + this.#low.length;
  }

  /** Runs fn when a slot is free; `high` jumps the queue (heartbeats before pod writes). */
  run<T>(fn: () => Promise<T>, high = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const go = (): void => {
        this.#active++;
        let p: Promise<T>;
        try { p = fn(); } catch (err) { p = Promise.reject(err); }
        p.then(resolve, reject).finally(() => {
          this.#active--;
          const nextJob = this.#high.shift() ?? this.#low.shift();
          nextJob?.();
        });
      };
      if (this.#active < this.max) go();
      else (high ? this.#high : this.#low).push(go);
    });
  }
}

export interface BatchedTickerOptions {
  /** Each key is visited once per interval. */
  intervalMs: number;
  /** The timer's period; keys are spread over intervalMs / tickMs batches. Default intervalMs / 10. */
  tickMs?: number;
  work(key: string): Promise<void>;
  limiter: Limiter;
  /** Heartbeats should pass pod writes in the limiter's queue. */
  highPriority?: boolean;
  timers?: Timers;
  onError?(key: string, err: unknown): void;
}

export class BatchedTicker {
  readonly #opts: BatchedTickerOptions;
  readonly #timers: Timers;
  readonly #tickMs: number;
  readonly #slots: Set<string>[];
  readonly #slotOf = new Map<string, number>();
  readonly #inFlight = new Set<string>();
  #placed = 0;
  #tick = 0;
  #startedAt = 0;
  #timer: unknown;
  #running = false;

  constructor(opts: BatchedTickerOptions) {
    this.#opts = opts;
    this.#timers = opts.timers ?? realTimers;
    this.#tickMs = Math.max(1, Math.min(opts.intervalMs, opts.tickMs ?? Math.max(100, Math.floor(opts.intervalMs / 10))));
    const n = Math.max(1, Math.round(opts.intervalMs / this.#tickMs));
    this.#slots = Array.from({ length: n }, () => new Set<string>());
  }

  get size(): number {
    return this.#slotOf.size;
  }

  /** Batches per interval. */
  get batches(): number {
    return this.#slots.length;
  }

  /** Adds a key to the least recently filled batch (round robin), so batches stay even. */
  add(key: string): void {
    if (this.#slotOf.has(key)) return;
    const slot = this.#placed++ % this.#slots.length;
    this.#slots[slot]!.add(key);
    this.#slotOf.set(key, slot);
  }

  remove(key: string): void {
    const slot = this.#slotOf.get(key);
    if (slot === undefined) return;
    this.#slots[slot]!.delete(key);
    this.#slotOf.delete(key);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#startedAt = this.#timers.now();
    this.#tick = 0;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    // Against the start time, not the last tick, so slow ticks do not make the clock drift.
    const at = this.#startedAt + (this.#tick + 1) * this.#tickMs;
    const handle = this.#timers.setTimeout(() => this.#onTick(), Math.max(0, at - this.#timers.now()));
    (handle as { unref?: () => void } | null)?.unref?.();
    this.#timer = handle;
  }

  #onTick(): void {
    if (!this.#running) return;
    const slot = this.#slots[this.#tick % this.#slots.length]!;
    this.#tick++;
    for (const key of slot) {
      if (this.#inFlight.has(key)) continue; // the last visit has not finished: skip, not pile up
      this.#inFlight.add(key);
      this.#opts.limiter.run(() => this.#opts.work(key), this.#opts.highPriority)
        .catch((err) => this.#opts.onError?.(key, err))
        .finally(() => this.#inFlight.delete(key));
    }
    this.#schedule();
  }
}

/** Keys due at given times, one timer armed for the earliest (a binary heap, stale entries skipped). */
export class DueQueue {
  readonly #timers: Timers;
  readonly #onDue: (key: string) => void;
  readonly #due = new Map<string, number>();
  readonly #heap: { at: number; key: string }[] = [];
  #timer: unknown;
  #timerAt = Infinity;
  #stopped = false;

  constructor(onDue: (key: string) => void, timers: Timers = realTimers) {
    this.#onDue = onDue;
    this.#timers = timers;
  }

  get size(): number {
    return this.#due.size;
  }

  /** Runs onDue(key) at `at` (ms, on the timers' clock); replaces an earlier schedule for the key. */
  schedule(key: string, at: number): void {
    if (this.#stopped || this.#due.get(key) === at) return;
    this.#due.set(key, at);
    this.#push({ at, key });
    this.#arm();
  }

  cancel(key: string): void {
    this.#due.delete(key); // its heap entry goes stale and is skipped
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due.clear();
    this.#heap.length = 0;
  }

  #arm(): void {
    while (this.#heap.length && this.#due.get(this.#heap[0]!.key) !== this.#heap[0]!.at) this.#pop();
    const first = this.#heap[0];
    if (!first) return;
    if (first.at >= this.#timerAt && this.#timer !== undefined) return;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timerAt = first.at;
    const handle = this.#timers.setTimeout(() => this.#fire(), Math.max(0, first.at - this.#timers.now()));
    (handle as { unref?: () => void } | null)?.unref?.();
    this.#timer = handle;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#timers.now();
    const ready: string[] = [];
    while (this.#heap.length && this.#heap[0]!.at <= now) {
      const { at, key } = this.#pop()!;
      if (this.#due.get(key) !== at) continue;
      this.#due.delete(key);
      ready.push(key);
    }
    for (const key of ready) this.#onDue(key);
    this.#arm();
  }

  #push(e: { at: number; key: string }): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= h[i]!.at) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  #pop(): { at: number; key: string } | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < h[m]!.at) m = l;
        if (r < h.length && h[r]!.at < h[m]!.at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
