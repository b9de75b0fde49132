// A keyed work queue in client-go's spirit: a key is queued at most once, never handled
// by two workers at once, and retried with exponential backoff when its handler fails.
export interface WorkQueueOptions {
  concurrency?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  setTimer?: (fn: () => void, ms: number) => { unref?: () => void } | unknown;
  onError?: (key: string, err: unknown) => void;
}

export class WorkQueue {
  readonly #handler: (key: string) => Promise<void>;
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #active = new Set<string>();
  /** Keys added again while being handled: re-run after the current run. */
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #opts: Required<Omit<WorkQueueOptions, 'onError'>> & Pick<WorkQueueOptions, 'onError'>;
  #running = 0;
  #stopped = false;

  constructor(handler: (key: string) => Promise<void>, opts: WorkQueueOptions = {}) {
    this.#handler = handler;
    this.#opts = {
      concurrency: opts.concurrency ?? 1,
      baseDelayMs: opts.baseDelayMs ?? 50,
      maxDelayMs: opts.maxDelayMs ?? 30_000,
      setTimer: opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref()),
      onError: opts.onError,
    };
  }

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#active.has(key)) { this.#dirty.add(key); return; }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.#pump();
  }

  addAfter(key: string, ms: number): void {
    this.#opts.setTimer(() => this.add(key), ms);
  }

  get length(): number { return this.#queue.length; }

  /** True when nothing is queued or running (tests wait on it). */
  get idle(): boolean { return this.#queue.length === 0 && this.#running === 0; }

  stop(): void { this.#stopped = true; this.#queue.length = 0; this.#queued.clear(); }

  #pump(): void {
    while (!this.#stopped && this.#running < this.#opts.concurrency && this.#queue.length) {
      const key = this.#queue.shift()!;
      this.#queued.delete(key);
      this.#active.add(key);
      this.#running++;
      // Yield to the event loop first: store writes and watch events resolve as microtasks,
      // so a handler that writes on every event could otherwise starve I/O.
      new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#handler(key)).then(
        () => { this.#failures.delete(key); },
        (err) => {
          const n = (this.#failures.get(key) ?? 0) + 1;
          this.#failures.set(key, n);
          this.#opts.onError?.(key, err);
          this.addAfter(key, Math.min(this.#opts.maxDelayMs, this.#opts.baseDelayMs * 2 ** (n - 1)));
        },
      ).finally(() => {
        this.#running--;
        this.#active.delete(key);
        if (this.#dirty.delete(key)) this.add(key);
        this.#pump();
      });
    }
  }
}
