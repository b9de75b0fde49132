// Watch fan-out. Watchers are grouped by prefix, and a write looks up only the prefixes
// of its own key (one map lookup per distinct prefix length in use), so a write costs the
// same whether ten or a thousand watchers are open on other prefixes.
// Each watcher has its own queue drained in a microtask: handlers never run inside a
// writer's call, and a throwing handler ends only its own watch.
import { CompactedError } from '../types.ts';
import type { WatchEvent, WatchHandlers, Watcher } from '../types.ts';

/** Where replayed history comes from. */
export interface ReplaySource {
  /** Events under `prefix` with after < revision <= upTo, oldest first, at most `limit`. */
  readEvents(prefix: string, after: number, upTo: number, limit: number): WatchEvent[];
  compactRevision(): number;
}

export interface WatchHubOptions {
  /** History rows read per turn of the event loop while a watcher catches up. */
  replayBatch?: number;
}

const revisionOf = (event: WatchEvent): number => event.kv.modRevision;

export class WatchHub {
  readonly #source: ReplaySource;
  readonly #replayBatch: number;
  readonly #byPrefix = new Map<string, Set<Subscription>>();
  /** Distinct prefix length → how many distinct prefixes of that length have watchers. */
  readonly #prefixLengths = new Map<number, number>();

  constructor(source: ReplaySource, opts: WatchHubOptions = {}) {
    this.#source = source;
    this.#replayBatch = opts.replayBatch ?? 500;
  }

  /**
   * Starts a watcher that replays history in (fromRevision, currentRevision], then
   * receives what publish() hands it. Call in the same tick as reading currentRevision
   * so nothing is written in between.
   */
  subscribe(prefix: string, fromRevision: number, currentRevision: number, handlers: WatchHandlers): Watcher {
    const sub = new Subscription(this, prefix, fromRevision, currentRevision, handlers);
    let subs = this.#byPrefix.get(prefix);
    if (!subs) {
      subs = new Set();
      this.#byPrefix.set(prefix, subs);
      this.#prefixLengths.set(prefix.length, (this.#prefixLengths.get(prefix.length) ?? 0) + 1);
    }
    subs.add(sub);
    sub.start();
    return sub;
  }

  /** Hands a committed write to every watcher whose prefix matches `key`; builds the event only if one does. */
  publish(key: string, makeEvent: () => WatchEvent): void {
    let event: WatchEvent | undefined;
    for (const length of this.#prefixLengths.keys()) {
      if (length > key.length) continue;
      const subs = this.#byPrefix.get(length === key.length ? key : key.slice(0, length));
      if (!subs) continue;
      event ??= makeEvent();
      for (const sub of subs) sub.enqueue(event);
    }
  }

  /** Tells watchers that asked for progress that everything up to `revision` was published. */
  progress(revision: number): void {
    for (const subs of this.#byPrefix.values()) {
      for (const sub of subs) sub.enqueueProgress(revision);
    }
  }

  /** Ends every watcher with `err` (e.g. the store closing). */
  closeAll(err: Error): void {
    for (const subs of [...this.#byPrefix.values()]) {
      for (const sub of [...subs]) sub.fail(err);
    }
  }

  get watcherCount(): number {
    let n = 0;
    for (const subs of this.#byPrefix.values()) n += subs.size;
    return n;
  }

  /** @internal */ get source(): ReplaySource { return this.#source; }
  /** @internal */ get replayBatch(): number { return this.#replayBatch; }

  /** @internal */ remove(sub: Subscription): void {
    const subs = this.#byPrefix.get(sub.prefix);
    if (!subs?.delete(sub) || subs.size > 0) return;
    this.#byPrefix.delete(sub.prefix);
    const left = (this.#prefixLengths.get(sub.prefix.length) ?? 1) - 1;
    if (left > 0) this.#prefixLengths.set(sub.prefix.length, left);
    else this.#prefixLengths.delete(sub.prefix.length);
  }
}

class Subscription implements Watcher {
  readonly prefix: string;
  readonly #hub: WatchHub;
  readonly #handlers: WatchHandlers;
  /** Events at or below this revision are not for us (the watch started after them). */
  readonly #fromRevision: number;
  /** Replay covers (replayedThrough, replayEnd]; live events are all above replayEnd. */
  #replayedThrough: number;
  readonly #replayEnd: number;
  /** Live events, and progress marks (revision numbers) queued behind them. */
  #live: (WatchEvent | number)[] = [];
  #scheduled = false;
  #closed = false;

  constructor(hub: WatchHub, prefix: string, fromRevision: number, currentRevision: number, handlers: WatchHandlers) {
    this.#hub = hub;
    this.prefix = prefix;
    this.#handlers = handlers;
    this.#fromRevision = fromRevision;
    this.#replayedThrough = fromRevision;
    this.#replayEnd = currentRevision;
  }

  start(): void {
    if (this.#replayedThrough < this.#replayEnd) this.#schedule();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#live = [];
    this.#hub.remove(this);
  }

  enqueue(event: WatchEvent): void {
    if (this.#closed || revisionOf(event) <= this.#fromRevision) return;
    this.#live.push(event);
    this.#schedule();
  }

  enqueueProgress(revision: number): void {
    if (this.#closed || !this.#handlers.onProgress) return;
    this.#live.push(revision);
    this.#schedule();
  }

  /** Ends the watch and reports why, outside the caller's stack. */
  fail(err: Error): void {
    if (this.#closed) return;
    this.close();
    const onError = this.#handlers.onError;
    if (onError) queueMicrotask(() => { try { onError(err); } catch { /* nowhere left to report it */ } });
  }

  #schedule(later = false): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Replay continues on setImmediate so a long catch-up lets I/O and writers run in between.
    if (later) setImmediate(() => this.#drain());
    else queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    if (this.#replayedThrough < this.#replayEnd && !this.#replayStep()) return;
    while (this.#live.length > 0 && !this.#closed) {
      const batch = this.#live;
      this.#live = [];
      for (const event of batch) if (!this.#deliver(event)) return;
    }
  }

  /** Delivers one batch of history; true when replay is finished. */
  #replayStep(): boolean {
    const source = this.#hub.source;
    const compacted = source.compactRevision();
    if (compacted > this.#replayedThrough) {
      this.fail(new CompactedError(this.#replayedThrough, compacted));
      return false;
    }
    const limit = this.#hub.replayBatch;
    const batch = source.readEvents(this.prefix, this.#replayedThrough, this.#replayEnd, limit);
    for (const event of batch) {
      if (!this.#deliver(event)) return false;
      this.#replayedThrough = revisionOf(event);
    }
    if (batch.length < limit) {
      this.#replayedThrough = this.#replayEnd;
      return true;
    }
    this.#schedule(true);
    return false;
  }

  /** False when the watch ended (handler threw or closed it). */
  #deliver(event: WatchEvent | number): boolean {
    try {
      if (typeof event === 'number') this.#handlers.onProgress?.(event);
      else this.#handlers.onEvent(event);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    return !this.#closed;
  }
}
