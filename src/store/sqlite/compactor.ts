// The background compactor: every interval, forget history older than the newest
// `keepRevisions` revisions. Kubernetes' API server compacts etcd every 5 minutes by time;
// we bound history by count, so a busy cluster cannot pile up history between runs.
import type { Store } from '../types.ts';

/** Timers the compactor uses; inject fakes in tests. */
export interface CompactorTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: CompactorTimers = {
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref(); // never keep the process alive just to compact
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

export interface CompactorOptions {
  intervalMs?: number;
  keepRevisions?: number;
  timers?: CompactorTimers;
  /** Where failed runs are reported; the compactor keeps going. */
  onError?: (err: unknown) => void;
}

type CompactionTarget = Pick<Store, 'currentRevision' | 'compactRevision' | 'compact'>;

export class Compactor {
  readonly #store: CompactionTarget;
  readonly #intervalMs: number;
  readonly #keep: number;
  readonly #timers: CompactorTimers;
  readonly #onError: (err: unknown) => void;
  #handle: unknown;
  #running = false;

  constructor(store: CompactionTarget, opts: CompactorOptions = {}) {
    this.#store = store;
    this.#intervalMs = opts.intervalMs ?? 60_000;
    this.#keep = opts.keepRevisions ?? 1000;
    this.#timers = opts.timers ?? realTimers;
    this.#onError = opts.onError ?? ((err) => console.warn('store compaction failed:', err));
  }

  start(): this {
    if (!this.#running) {
      this.#running = true;
      this.#scheduleNext();
    }
    return this;
  }

  stop(): void {
    this.#running = false;
    if (this.#handle !== undefined) this.#timers.clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  /** One compaction pass; what each timer tick does. */
  async runOnce(): Promise<void> {
    const target = (await this.#store.currentRevision()) - this.#keep;
    if (target > (await this.#store.compactRevision())) await this.#store.compact(target);
  }

  #scheduleNext(): void {
    // The next run is scheduled only after this one ends: runs never overlap.
    this.#handle = this.#timers.setTimeout(() => {
      this.#handle = undefined;
      this.runOnce()
        .catch((err: unknown) => { if (this.#running) this.#onError(err); })
        .finally(() => { if (this.#running) this.#scheduleNext(); });
    }, this.#intervalMs);
  }
}
