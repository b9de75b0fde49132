// Timed wake-ups for keyed controllers: "look at this key again in N ms". One pending
// timer per key (the earliest wins), through injected Timers so tests drive time.
import { realTimers, type Timers } from '../../client/timers.ts';

export class Wakeups {
  readonly #timers: Timers;
  readonly #fire: (key: string) => void;
  readonly #pending = new Map<string, { at: number; handle: unknown }>();
  #stopped = false;

  constructor(fire: (key: string) => void, timers: Timers = realTimers) {
    this.#fire = fire;
    this.#timers = timers;
  }

  /** Fires `key` after `ms` unless an earlier wake-up for it is already pending. */
  after(key: string, ms: number): void {
    if (this.#stopped) return;
    const delay = Math.max(0, Math.ceil(ms));
    const at = this.#timers.now() + delay;
    const existing = this.#pending.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.#timers.clearTimeout(existing.handle);
    const handle = this.#timers.setTimeout(() => {
      if (this.#pending.get(key)?.handle !== handle) return;
      this.#pending.delete(key);
      this.#fire(key);
    }, delay);
    (handle as { unref?: () => void } | undefined)?.unref?.();
    this.#pending.set(key, { at, handle });
  }

  cancel(key: string): void {
    const existing = this.#pending.get(key);
    if (!existing) return;
    this.#timers.clearTimeout(existing.handle);
    this.#pending.delete(key);
  }

  stop(): void {
    this.#stopped = true;
    for (const { handle } of this.#pending.values()) this.#timers.clearTimeout(handle);
    this.#pending.clear();
  }
}
