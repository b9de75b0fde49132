// The reflector keeps a sink in step with the server: list, then watch from the list's
// resourceVersion (with bookmarks, so the version stays fresh on a quiet resource). When
// a watch ends it watches again from the last version seen; when that version has
// expired (410 Gone) it lists again and lets the sink reconcile. Failures back off
// 1 s → 30 s, through injected timers.
import type { KObject } from '../api/object.ts';
import type { Logger } from '../util/log.ts';
import { createLogger } from '../util/log.ts';
import type { ResourceInterface, WatchHandle } from './types.ts';
import { errorCode } from './types.ts';
import { Backoff, realTimers, type BackoffOptions, type Timers } from './timers.ts';

export interface ReflectorSink {
  /** A complete list: the sink makes its contents equal to `items`. */
  replace(items: KObject[], resourceVersion: string): void;
  /** One change from the watch, in order. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject): void;
}

export interface ReflectorOptions {
  resource: ResourceInterface;
  sink: ReflectorSink;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  timers?: Timers;
  backoff?: BackoffOptions;
  /** List page size (0: one request). Default 500. */
  pageSize?: number;
  /** How long the server keeps one watch open; spread so many clients do not re-watch together. */
  watchTimeoutSeconds?: () => number;
  log?: Logger;
  /** For logs, e.g. "pods". */
  name?: string;
}

type Outcome = 'gone' | 'ended' | 'stopped' | { error: unknown };

export class Reflector {
  readonly #o: ReflectorOptions;
  readonly #timers: Timers;
  readonly #backoff: Backoff;
  readonly #log: Logger;
  #rv = '';
  #needList = true;
  /** The next watch is the first after a list. */
  #justListed = false;
  #running = false;
  #stopped = false;
  #closeWatch: (() => void) | undefined;
  #wake: (() => void) | undefined;

  constructor(opts: ReflectorOptions) {
    this.#o = opts;
    this.#timers = opts.timers ?? realTimers;
    this.#backoff = new Backoff(opts.backoff);
    this.#log = opts.log ?? createLogger({ component: `reflector/${opts.name ?? 'resource'}` });
  }

  /** The last resourceVersion seen from a list, an event or a bookmark. */
  get lastResourceVersion(): string {
    return this.#rv;
  }

  start(): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    this.#run().catch((err) => this.#log.error('reflector stopped on an unexpected error', { error: String(err) }));
  }

  stop(): void {
    this.#stopped = true;
    this.#closeWatch?.();
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#needList) {
        try {
          await this.#list();
          this.#backoff.reset();
        } catch (err) {
          if (this.#stopped) break;
          this.#log.warn('list failed', { error: String(err), code: errorCode(err) });
          await this.#sleep(this.#backoff.next());
          continue;
        }
      }
      if (this.#stopped) break;
      const justListed = this.#justListed;
      this.#justListed = false;
      const started = this.#timers.now();
      const { outcome, progressed } = await this.#watchOnce();
      if (outcome === 'stopped' || this.#stopped) break;
      if (progressed) this.#backoff.reset();
      if (outcome === 'gone') {
        // The version expired: only a new list can tell what changed meanwhile. Straight
        // away, unless the list we just made expired before the watch saw anything.
        this.#needList = true;
        this.#log.info('resourceVersion expired, listing again', { resourceVersion: this.#rv });
        if (justListed && !progressed) await this.#sleep(this.#backoff.next());
        continue;
      }
      if (outcome === 'ended') {
        // The server ended a healthy watch (its timeout): carry on at once. One that ends
        // as soon as it starts counts as a failure, so a sick server is not hammered.
        if (progressed || this.#timers.now() - started >= 1_000) continue;
        await this.#sleep(this.#backoff.next());
        continue;
      }
      this.#log.warn('watch failed', { error: String(outcome.error), code: errorCode(outcome.error), resourceVersion: this.#rv });
      if (!progressed) await this.#sleep(this.#backoff.next());
    }
    this.#running = false;
  }

  async #list(): Promise<void> {
    const { resource, namespace, labelSelector, fieldSelector } = this.#o;
    const limit = this.#o.pageSize ?? 500;
    let items: KObject[] = [];
    let rv = '';
    let cont: string | undefined;
    try {
      do {
        const page = await resource.list(namespace, { labelSelector, fieldSelector, limit: limit || undefined, continue: cont });
        if (this.#stopped) return;
        items.push(...page.items);
        rv = page.resourceVersion;
        cont = page.continue;
      } while (cont);
    } catch (err) {
      // A continue token outlived its snapshot (compaction): fall back to one whole list.
      if (!(cont && errorCode(err) === 410)) throw err;
      const page = await resource.list(namespace, { labelSelector, fieldSelector });
      if (this.#stopped) return;
      items = page.items;
      rv = page.resourceVersion;
    }
    this.#o.sink.replace(items, rv);
    this.#rv = rv;
    this.#needList = false;
    this.#justListed = true;
  }

  /** One watch, from the last version, until it ends; `progressed` if it delivered anything. */
  #watchOnce(): Promise<{ outcome: Outcome; progressed: boolean }> {
    const { resource, namespace, labelSelector, fieldSelector, sink } = this.#o;
    return new Promise((resolve) => {
      let settled = false;
      let progressed = false;
      let handle: WatchHandle | undefined;
      const done = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        this.#closeWatch = undefined;
        handle?.close();
        resolve({ outcome, progressed });
      };
      this.#closeWatch = () => done('stopped');
      const timeoutSeconds = this.#o.watchTimeoutSeconds?.() ?? Math.round(300 + Math.random() * 300);
      // Wrapped so that a client throwing synchronously fails this watch, not the loop.
      const open = (...args: Parameters<ResourceInterface['watch']>) => {
        try { return resource.watch(...args); } catch (err) { return Promise.reject(err); }
      };
      open(namespace, { resourceVersion: this.#rv, labelSelector, fieldSelector, allowWatchBookmarks: true, timeoutSeconds }, (ev) => {
        if (settled) return;
        if (ev.type === 'ERROR') {
          done(ev.object.code === 410 ? 'gone' : { error: new Error(`watch error ${ev.object.code}: ${ev.object.message ?? ev.object.reason ?? ''}`) });
          return;
        }
        const rv = ev.object.metadata?.resourceVersion;
        if (rv) this.#rv = rv;
        progressed = true;
        if (ev.type === 'BOOKMARK') return;
        try {
          sink.apply(ev.type, ev.object);
        } catch (err) {
          this.#log.error('sink failed on a watch event', { error: String(err) });
        }
      }, (err) => done(err ? { error: err } : 'ended')).then(
        (h) => { handle = h; if (settled) h.close(); },
        (err) => done(errorCode(err) === 410 ? 'gone' : { error: err }),
      );
    });
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const handle = this.#timers.setTimeout(() => { this.#wake = undefined; resolve(); }, ms);
      this.#wake = () => { this.#timers.clearTimeout(handle); this.#wake = undefined; resolve(); };
    });
  }
}
