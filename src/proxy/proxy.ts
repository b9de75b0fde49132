// Informers → debounce → one sync at a time. Events only note which Services changed (a
// Service, or an EndpointSlice naming it); a sync rebuilds the model and fragment of just
// those and sends nft the difference. A failed nft run forgets what the kernel has, so
// the retry (with backoff) replaces the whole table. Nothing happens before both
// informers have synced, so a restarting agent never programs an empty table over a
// working one.
import type { KObject } from '../api/object.ts';
import type { EventHandlers } from '../client/informer.ts';
import type { Logger } from '../util/log.ts';
import { buildModel } from './model.ts';
import { nftSession, type NftRunner } from './nft.ts';
import { renderService, Slots, type Fragment } from './render.ts';
import { TableState } from './state.ts';

export interface CacheSource {
  list(): KObject[];
  /** By `namespace/name`. */
  get(key: string): KObject | undefined;
  addEventHandler(h: EventHandlers): () => void;
  waitForSync(signal?: AbortSignal): Promise<void>;
}

export interface ServiceProxyOptions {
  services: CacheSource;
  endpointSlices: CacheSource;
  nodeName: string;
  clusterCidr: string;
  clusterDns?: string;
  /** Table name, family ip: `skiff-svc-<hash>`. */
  table: string;
  /** Default: a persistent `nft -i` (nftSession), closed by stop(); a runner passed in is the caller's to close. */
  nft?: NftRunner;
  /** How long events are gathered before a sync (default 10 ms). */
  debounceMs?: number;
  retryMs?: { initial: number; max: number };
  log: Logger;
  /** Told after every nft run (benchmarks and tests). */
  onSync?: (s: SyncResult) => void;
}

export interface SyncResult {
  full: boolean;
  /** Services rendered. */
  services: number;
  /** nft's own time. */
  ms: number;
  bytes: number;
  error?: Error;
}

const SERVICE_LABEL = 'kubernetes.io/service-name';
const keyOf = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const serviceOfSlice = (o: KObject) => {
  const svc = o.metadata.labels?.[SERVICE_LABEL];
  return svc ? `${o.metadata.namespace ?? ''}/${svc}` : undefined;
};

export class ServiceProxy {
  readonly #o: ServiceProxyOptions;
  readonly #nft: NftRunner;
  readonly #state: TableState;
  readonly #slots = new Slots();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #abort = new AbortController();
  /** Service key → its EndpointSlices (key → object), from the slice events. */
  readonly #slices = new Map<string, Map<string, KObject>>();
  /** Services changed since the last sync; #full: all of them. */
  readonly #changed = new Set<string>();
  #full = true;
  #ready = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #failures = 0;

  constructor(opts: ServiceProxyOptions) {
    this.#o = opts;
    this.#nft = opts.nft ?? nftSession();
    this.#state = new TableState({ table: opts.table });
  }

  start(): void {
    const svcChanged = (o: KObject) => this.#kick(keyOf(o));
    this.#unsubscribe.push(this.#o.services.addEventHandler({
      onAdd: svcChanged, onUpdate: (_, o) => svcChanged(o), onDelete: svcChanged,
    }));
    const sliceHandlers: EventHandlers = {
      onAdd: (o) => this.#sliceChanged(undefined, o),
      onUpdate: (old, o) => this.#sliceChanged(old, o),
      onDelete: (o) => this.#sliceChanged(o, undefined),
    };
    this.#unsubscribe.push(this.#o.endpointSlices.addEventHandler(sliceHandlers));
    Promise.all([this.#o.services.waitForSync(this.#abort.signal), this.#o.endpointSlices.waitForSync(this.#abort.signal)])
      .then(() => { this.#ready = true; this.#kick(); }, () => {});
  }

  stop(): void {
    this.#abort.abort();
    for (const u of this.#unsubscribe.splice(0)) u();
    clearTimeout(this.#timer);
    clearTimeout(this.#retryTimer);
    this.#timer = this.#retryTimer = undefined;
    if (!this.#o.nft) this.#nft.close?.();
  }

  /** Resolves once no sync is due or running (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.#running || this.#timer) {
      await (this.#running ?? new Promise((r) => setTimeout(r, 1)));
    }
  }

  #sliceChanged(old: KObject | undefined, obj: KObject | undefined): void {
    const oldSvc = old && serviceOfSlice(old);
    if (oldSvc) {
      this.#slices.get(oldSvc)?.delete(keyOf(old!));
      if (this.#slices.get(oldSvc)?.size === 0) this.#slices.delete(oldSvc);
      this.#kick(oldSvc);
    }
    const svc = obj && serviceOfSlice(obj);
    if (svc) {
      let m = this.#slices.get(svc);
      if (!m) this.#slices.set(svc, (m = new Map()));
      m.set(keyOf(obj!), obj!);
      this.#kick(svc);
    }
  }

  #kick(service?: string, delay = this.#o.debounceMs ?? 10): void {
    if (service !== undefined) this.#changed.add(service);
    if (this.#abort.signal.aborted || !this.#ready || this.#timer || this.#running || this.#retryTimer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#loop().finally(() => {
        this.#running = undefined;
        if (this.#changed.size || this.#full) this.#kick();
      });
    }, delay);
  }

  async #loop(): Promise<void> {
    while ((this.#changed.size || this.#full) && !this.#abort.signal.aborted) {
      if (!(await this.#syncOnce())) return;
    }
  }

  #fragment(key: string): Fragment | undefined {
    const svc = this.#o.services.get(key);
    const slots = this.#slots.forService(key);
    try {
      if (!svc) return undefined;
      const slices = [...(this.#slices.get(key)?.values() ?? [])];
      const ports = buildModel([svc], slices, { nodeName: this.#o.nodeName, clusterDns: this.#o.clusterDns });
      return renderService(ports, { table: this.#o.table, clusterCidr: this.#o.clusterCidr }, slots.base);
    } finally {
      slots.done();
    }
  }

  /** One sync; false when nft failed (a retry is scheduled). */
  async #syncOnce(): Promise<boolean> {
    const o = this.#o;
    // Changed keys too in a full sync: a Service deleted meanwhile must give its slots back.
    const keys = [...new Set([...(this.#full ? o.services.list().map(keyOf) : []), ...this.#changed])];
    this.#changed.clear();
    const fragments = new Map<string, Fragment | undefined>();
    for (const k of keys.sort()) fragments.set(k, this.#fragment(k));
    let isFull = this.#full;
    let script = isFull ? undefined : this.#state.update(fragments);
    if (script === undefined) {
      // A full sync (first, after a failure, or a redeclared set): every Service, afresh.
      isFull = true;
      if (!this.#full) for (const k of o.services.list().map(keyOf)) if (!fragments.has(k)) fragments.set(k, this.#fragment(k));
      for (const [k, f] of fragments) if (!f) fragments.delete(k);
      script = this.#state.full(fragments as Map<string, Fragment>);
    }
    this.#full = false;
    if (script === '') return true;
    const t0 = performance.now();
    try {
      await this.#nft(script);
      this.#failures = 0;
      const ms = performance.now() - t0;
      o.log.debug('synced', { full: isFull, services: keys.length, ms: Math.round(ms), bytes: script.length });
      o.onSync?.({ full: isFull, services: fragments.size, ms, bytes: script.length });
      return true;
    } catch (err) {
      this.#state.reset(); // whatever the kernel has now, the retry replaces it
      this.#full = true;
      if (this.#abort.signal.aborted) return false; // stopped meanwhile (its nft closed): no retry
      this.#failures++;
      const retry = o.retryMs ?? { initial: 1000, max: 30_000 };
      const delay = Math.min(retry.max, retry.initial * 2 ** (this.#failures - 1));
      o.log.error('nft sync failed; retrying with a full sync', { error: (err as Error).message, retryInMs: delay, full: isFull });
      o.onSync?.({ full: isFull, services: fragments.size, ms: performance.now() - t0, bytes: script.length, error: err as Error });
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.#kick(undefined, 0);
      }, delay);
      return false;
    }
  }
}
