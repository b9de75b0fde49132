// The kubelet's restart backoff for one pod's containers (CrashLoopBackOff) and image
// pulls (ImagePullBackOff): the first retry at once, then 10 s, 20 s, 40 s … 5 min; a
// container that ran for 10 minutes starts over.
export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
const RESET_AFTER_MS = 600_000;

interface Entry { retries: number; at: number }

export class RestartBackoff {
  readonly #entries = new Map<string, Entry>();
  readonly #initial: number;
  readonly #max: number;

  constructor(initialMs = BACKOFF_INITIAL_MS, maxMs = BACKOFF_MAX_MS) {
    this.#initial = initialMs;
    this.#max = maxMs;
  }

  /** The delay the next retry of `key` waits, counted from `since` (when it last failed). */
  delay(key: string): number {
    const e = this.#entries.get(key);
    if (!e || e.retries === 0) return 0;
    return Math.min(this.#max, this.#initial * 2 ** Math.min(e.retries - 1, 20));
  }

  /** How long from `now` until `key` may retry, having last failed at `failedAt`. 0: go. */
  remaining(key: string, failedAt: number, now: number): number {
    return Math.max(0, failedAt + this.delay(key) - now);
  }

  /** A retry happens now. `ranMs`: how long the last run lasted (a long run resets the count). */
  retried(key: string, now: number, ranMs = 0): void {
    const e = this.#entries.get(key);
    if (!e || ranMs >= RESET_AFTER_MS) this.#entries.set(key, { retries: 1, at: now });
    else { e.retries++; e.at = now; }
  }

  forget(prefix: string): void {
    for (const k of this.#entries.keys()) if (k.startsWith(prefix)) this.#entries.delete(k);
  }
}
