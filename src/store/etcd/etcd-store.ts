// The etcd datastore: the Store contract on etcd v3 through the `etcd3` gRPC client.
// resourceVersion is etcd's revision (mod_revision). Writes are single transactions that
// compare create_revision (create) or mod_revision (update/delete) and read the current
// value when the compare fails, so conflicts carry it as the SQLite store's do.
// Watches: one etcd watch over the whole keyspace feeds every watcher that starts at or
// after the revision it has reached (events and progress come in one ordered stream, so
// progress can never overtake an event); one that starts a little behind replays the
// recent events kept in memory and joins it; one further back gets its own etcd watch,
// which etcd replays from history. The client resumes broken watch streams
// from the last revision it saw.
// Every call is bounded (requestTimeoutMs): when etcd has no quorum, a call fails with
// DatastoreUnavailableError (503/504 at the API) instead of hanging or surfacing a gRPC error.
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import type { IOptions, Watcher as EtcdWatcher } from 'etcd3';
import type { IKeyValue, IWatchResponse } from 'etcd3/lib/rpc.js';
import { CompactedError, KeyExistsError, KeyNotFoundError, RevisionConflictError } from '../types.ts';
import type { KeyValue, ListOptions, ListResult, Store, WatchEvent, WatchHandlers, Watcher } from '../types.ts';
import { Compactor } from '../sqlite/compactor.ts';
import type { CompactorOptions } from '../sqlite/compactor.ts';
import { FutureRevisionError, StoreClosedError } from '../sqlite/errors.ts';
import { prefixEnd } from '../sqlite/key-range.ts';
import { DatastoreUnavailableError, unavailableCause } from './errors.ts';

export interface EtcdStoreOptions {
  /** `http(s)://h1:2379,h2:2379` (comma-separated, as k3s's --datastore-endpoint). */
  endpoint: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /**
   * How long one store call may take, retries over members included, before it fails
   * with DatastoreUnavailableError (default 10 s: etcd gives up on a proposal without a
   * leader after 5 s + two election timeouts, 7 s with its defaults).
   */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** How many recent keyspace events a watcher that starts a little behind can replay. */
const RECENT_EVENTS = 2000;

/** The key Kubernetes' API servers use to agree on who compacts (see startCompactor). */
export const COMPACT_KEY = 'compact_rev_key';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');
const ALL_KEYS = { key: Buffer.from([0]), range_end: Buffer.from([0]) };
const num = (v: string | number | undefined | null): number => Number(v ?? 0);

function toKV(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'), value: kv.value.toString('utf8'),
    modRevision: num(kv.mod_revision), createRevision: num(kv.create_revision),
  };
}

function rangeOf(prefix: string, startKey?: string): { key: Buffer; range_end: Buffer } {
  const start = startKey && startKey > prefix ? startKey : prefix;
  const end = prefixEnd(prefix);
  if (start === '' && end === undefined) return ALL_KEYS;
  return { key: start === '' ? Buffer.from([0]) : buf(start), range_end: end === undefined ? Buffer.from([0]) : buf(end) };
}

const isCompacted = (err: unknown): boolean => /compacted/i.test(String((err as Error)?.message));
const isFuture = (err: unknown): boolean => /future revision/i.test(String((err as Error)?.message));

export function clientOptions(opts: EtcdStoreOptions): IOptions {
  const hosts = opts.endpoint.split(',').map((h) => h.trim()).filter(Boolean);
  // A full list answers in one message: lift gRPC's 4 MB receive cap, as the API server's
  // etcd client does (etcd itself caps requests at --max-request-bytes, 1.5 MB).
  const timeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const o: IOptions = {
    hosts, dialTimeout: 5000, grpcOptions: { 'grpc.max_receive_message_length': -1 },
    // Each attempt of a unary call has a deadline (etcd3 retries on another member after a
    // recoverable failure); streams (watches) have none.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    // A watch stream whose member went away reconnects to another within a second or two,
    // not etcd3's default of up to 30 s.
    faultHandling: { watchBackoff: cappedBackoff(100, 2000) },
  };
  if (opts.caFile || opts.certFile || opts.keyFile) {
    if (!opts.caFile) throw new Error('--datastore-cafile is required with a client certificate');
    o.credentials = {
      rootCertificate: readFileSync(opts.caFile),
      ...(opts.certFile ? { certChain: readFileSync(opts.certFile) } : {}),
      ...(opts.keyFile ? { privateKey: readFileSync(opts.keyFile) } : {}),
    };
  }
  return o;
}

/** Exponential backoff from `first` ms doubling up to `max` ms (cockatiel's IBackoff shape). */
function cappedBackoff(first: number, max: number): NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']> {
  interface Backoff { duration: number; next(): Backoff }
  const at = (duration: number): Backoff => ({ duration, next: () => at(Math.min(max, duration * 2)) });
  return at(first);
}

interface Sub { prefix: string; from: number; handlers: WatchHandlers; closed: boolean; close(): void }

export class EtcdStore implements Store {
  readonly client: Etcd3;
  #closed = false;
  /** The keyspace watch and the revision it has delivered through. */
  #hubWatch?: EtcdWatcher;
  #hubRevision = 0;
  readonly #hubSubs = new Set<Sub>();
  /**
   * The keyspace watch's recent events: a watcher that starts a little behind it (a list
   * answered, then writes landed before the watch call, as under steady load) replays
   * these and joins it, instead of getting its own etcd watch, whose progress would only
   * come from etcd's progress notifications (every 10 minutes): a consistent read waiting
   * on such a watcher would wait until the next write to its prefix.
   */
  readonly #recent: WatchEvent[] = [];
  /** #recent holds every event after this revision, up to #hubRevision. */
  #recentFrom = 0;
  readonly #ownWatches = new Set<Sub>();
  #compactor?: Compactor;
  /** The newest compact revision this store has seen (etcd may be further on). */
  #knownCompact = 0;
  /** The version of compact_rev_key this server last saw (see startCompactor). */
  #compactVersion = 0;

  static async open(opts: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(new Etcd3(clientOptions(opts)), opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    try {
      await store.#startHub();
    } catch (err) {
      store.client.close();
      const cause = err instanceof DatastoreUnavailableError ? err.cause : (err as Error).message;
      throw new Error(`cannot reach etcd at ${opts.endpoint}: ${cause}`);
    }
    return store;
  }

  readonly #timeoutMs: number;

  private constructor(client: Etcd3, timeoutMs: number) {
    this.client = client;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Runs one etcd call within the request timeout; failures that mean etcd cannot answer
   * become DatastoreUnavailableError. (A timed-out write may still be applied later, as
   * with etcd's own timeouts: the caller cannot know.)
   */
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatastoreUnavailableError(`no answer within ${this.#timeoutMs / 1000}s`, true)), this.#timeoutMs);
    });
    try {
      return await Promise.race([fn(), deadline]);
    } catch (err) {
      throw unavailableCause(err) ?? err;
    } finally {
      clearTimeout(timer);
    }
  }

  async currentRevision(): Promise<number> {
    this.#assertOpen();
    const res = await this.#call(() => this.client.kv.range({ key: buf(COMPACT_KEY), count_only: true }));
    return num(res.header.revision);
  }

  /** etcd keeps it internally; a HashKV answer reports it. */
  async compactRevision(): Promise<number> {
    this.#assertOpen();
    // (etcd3 1.1.2's maintenance.hashKV calls a method name its gRPC client lacks: call it by its proto name.)
    const pool = (this.client as unknown as { pool: { exec(s: string, m: string, req: object): Promise<{ compact_revision: string }> } }).pool;
    const res = await this.#call(() => pool.exec('Maintenance', 'HashKV', { revision: 0 }));
    this.#knownCompact = Math.max(this.#knownCompact, num(res.compact_revision));
    return this.#knownCompact;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.#assertOpen();
    const res = await this.#call(() => this.client.kv.range({ key: buf(key) }));
    return res.kvs[0] && toKV(res.kvs[0]);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#assertOpen();
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    try {
      // No sort options: etcd returns a range in ascending key order anyway, and asking to
      // sort makes it read the whole range before applying the limit (a 500-object page of
      // 10,000 then costs nearly a full list).
      const res = await this.#call(() => this.client.kv.range({
        ...rangeOf(prefix, opts.startKey), limit, revision: opts.revision || 0,
      }));
      const revision = opts.revision || num(res.header.revision);
      const items = res.kvs.map(toKV);
      const more = limit > 0 && res.more;
      return { items, revision, more, remaining: more ? num(res.count) - items.length : 0 };
    } catch (err) {
      throw await this.#readError(err, opts.revision ?? 0);
    }
  }

  async count(prefix: string): Promise<number> {
    this.#assertOpen();
    const res = await this.#call(() => this.client.kv.range({ ...rangeOf(prefix), count_only: true }));
    return num(res.count);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.#assertOpen();
    const k = buf(key);
    const res = await this.#call(() => this.client.kv.txn({
      compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: k, value: buf(value) } }],
      failure: [],
    }));
    if (!res.succeeded) throw new KeyExistsError(key);
    const revision = num(res.header.revision);
    return { key, value, modRevision: revision, createRevision: revision };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    this.#assertOpen();
    const k = buf(key);
    const res = await this.#call(() => this.client.kv.txn({
      compare: [{ key: k, target: 'Mod', result: 'Equal', mod_revision: expectedRevision }],
      success: [{ request_put: { key: k, value: buf(value), prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    }));
    if (!res.succeeded) throw this.#conflict(key, res.responses[0]?.response_range?.kvs[0]);
    const prev = res.responses[0]!.response_put!.prev_kv!;
    return { key, value, modRevision: num(res.header.revision), createRevision: num(prev.create_revision) };
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    this.#assertOpen();
    const k = buf(key);
    const res = await this.#call(() => this.client.kv.txn({
      compare: expectedRevision === undefined
        ? [{ key: k, target: 'Create', result: 'Greater', create_revision: 0 }]
        : [{ key: k, target: 'Mod', result: 'Equal', mod_revision: expectedRevision }],
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    }));
    if (!res.succeeded) throw this.#conflict(key, res.responses[0]?.response_range?.kvs[0]);
    const prev = res.responses[0]!.response_delete_range!.prev_kvs[0]!;
    return { ...toKV(prev), modRevision: num(res.header.revision) };
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    this.#assertOpen();
    if (fromRevision < this.#knownCompact) throw new CompactedError(fromRevision, this.#knownCompact);
    const sub: Sub = {
      prefix, from: fromRevision, handlers, closed: false,
      close: () => { sub.closed = true; this.#hubSubs.delete(sub); this.#ownWatches.delete(sub); },
    };
    if (fromRevision >= this.#hubRevision) this.#hubSubs.add(sub);
    else if (fromRevision >= this.#recentFrom) queueMicrotask(() => this.#replay(sub));
    else this.#watchOwn(sub);
    return sub;
  }

  async compact(revision: number): Promise<void> {
    this.#assertOpen();
    try {
      await this.#call(() => this.client.kv.compact({ revision, physical: true }));
      this.#knownCompact = Math.max(this.#knownCompact, revision);
    } catch (err) {
      if (isCompacted(err)) return; // already compacted at or past it
      if (isFuture(err)) throw new FutureRevisionError(revision, await this.currentRevision());
      throw err;
    }
  }

  /**
   * Compacts to `currentRevision - keepRevisions` every interval, the way the API server's
   * compactor shares etcd: each server remembers the version of `compact_rev_key` it last
   * saw and compacts only if a transaction comparing that version wins. Whoever compacts
   * bumps the version, so the others lose their next try and learn the new version: one
   * compaction per interval however many servers there are.
   */
  startCompactor(opts: CompactorOptions = {}): Compactor {
    this.#assertOpen();
    this.#compactor?.stop();
    const guarded = {
      currentRevision: () => this.currentRevision(),
      compactRevision: () => this.compactRevision(),
      compact: async (revision: number) => {
        const k = buf(COMPACT_KEY);
        const res = await this.#call(() => this.client.kv.txn({
          compare: [{ key: k, target: 'Version', result: 'Equal', version: this.#compactVersion }],
          success: [{ request_put: { key: k, value: buf(String(revision)) } }],
          failure: [{ request_range: { key: k } }],
        }));
        if (!res.succeeded) {
          this.#compactVersion = num(res.responses[0]?.response_range?.kvs[0]?.version);
          return;
        }
        this.#compactVersion++;
        await this.compact(revision);
      },
    };
    this.#compactor = new Compactor(guarded, opts).start();
    return this.#compactor;
  }

  get watcherCount(): number {
    return this.#hubSubs.size + this.#ownWatches.size;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#compactor?.stop();
    const err = new StoreClosedError();
    for (const sub of [...this.#hubSubs, ...this.#ownWatches]) this.#fail(sub, err);
    await this.#hubWatch?.cancel().catch(() => {});
    this.client.close();
  }

  // ---- watch internals ------------------------------------------------------------------

  async #startHub(): Promise<void> {
    this.#hubRevision = await this.currentRevision();
    this.#recent.length = 0;
    this.#recentFrom = this.#hubRevision;
    this.#hubWatch = await this.client.watch()
      .inRange({ start: ALL_KEYS.key, end: ALL_KEYS.range_end })
      .startRevision(String(this.#hubRevision + 1))
      .withPreviousKV()
      .create();
    this.#hubWatch.on('data', (res: IWatchResponse) => {
      const events = res.events.map(toEvent);
      for (const ev of events) {
        for (const sub of this.#hubSubs) this.#deliver(sub, ev);
        this.#hubRevision = Math.max(this.#hubRevision, ev.kv.modRevision);
        this.#recent.push(ev);
        if (this.#recent.length > RECENT_EVENTS) this.#recentFrom = this.#recent.shift()!.kv.modRevision;
      }
      // A response without events is a progress notification: etcd sends those only to
      // watchers that are caught up, so everything up to its header revision is delivered.
      if (events.length === 0) this.#hubRevision = Math.max(this.#hubRevision, num(res.header.revision));
      this.#progress(this.#hubSubs, this.#hubRevision);
    });
    this.#hubWatch.on('error', (err: Error) => {
      // The keyspace watch cannot go on (e.g. compacted while disconnected): every
      // watcher fed by it ends, and clients re-list, as after etcd's 410 Gone.
      const e = isCompacted(err) ? new CompactedError(this.#hubRevision, this.#hubRevision) : err;
      for (const sub of [...this.#hubSubs]) this.#fail(sub, e);
      if (!this.#closed) this.#startHub().catch(() => {});
    });
  }

  /** Delivers the recent events after `sub.from`, then feeds `sub` from the keyspace watch. */
  #replay(sub: Sub): void {
    if (sub.closed || this.#closed) return;
    if (sub.from < this.#recentFrom) { this.#watchOwn(sub); return; } // the window moved on meanwhile
    for (const ev of this.#recent) this.#deliver(sub, ev);
    if (sub.closed) return;
    this.#hubSubs.add(sub);
    this.#progress(new Set([sub]), this.#hubRevision);
  }

  #watchOwn(sub: Sub): void {
    this.#ownWatches.add(sub);
    let watcher: EtcdWatcher | undefined;
    const prevClose = sub.close;
    sub.close = () => { prevClose(); void watcher?.cancel().catch(() => {}); };
    const range = rangeOf(sub.prefix);
    // etcd3 1.1.2 throws from inside its stream handler when etcd cancels a new watch for
    // compaction, so the compact revision is checked first (a compaction in between is
    // the remaining, narrow, window).
    this.compactRevision().then((compacted) => {
      if (sub.from < compacted) throw new CompactedError(sub.from, compacted);
      if (sub.closed) return undefined;
      return this.client.watch().inRange({ start: range.key, end: range.range_end })
      .startRevision(String(sub.from + 1)).withPreviousKV().create()
      .then((w) => {
        watcher = w;
        if (sub.closed) { void w.cancel().catch(() => {}); return; }
        w.on('data', (res: IWatchResponse) => {
          for (const ev of res.events.map(toEvent)) this.#deliver(sub, ev);
          if (res.events.length === 0) this.#progress(new Set([sub]), num(res.header.revision));
        });
        w.on('error', (err: Error) => { void this.#watchError(sub, err); });
      });
    })
      .catch((err: Error) => { void this.#watchError(sub, err); });
  }

  async #watchError(sub: Sub, err: Error): Promise<void> {
    if (sub.closed) return;
    let e: Error = err;
    if (isCompacted(err)) e = new CompactedError(sub.from, await this.compactRevision().catch(() => sub.from + 1));
    this.#fail(sub, e);
  }

  #deliver(sub: Sub, ev: WatchEvent): void {
    if (sub.closed || ev.kv.modRevision <= sub.from || !ev.kv.key.startsWith(sub.prefix)) return;
    try {
      sub.handlers.onEvent(ev);
    } catch (err) {
      this.#fail(sub, err instanceof Error ? err : new Error(String(err)));
    }
  }

  #progress(subs: Set<Sub>, revision: number): void {
    for (const sub of subs) {
      if (sub.closed || !sub.handlers.onProgress || revision <= sub.from) continue;
      try { sub.handlers.onProgress(revision); } catch (err) { this.#fail(sub, err as Error); }
    }
  }

  #fail(sub: Sub, err: Error): void {
    if (sub.closed) return;
    sub.close();
    const onError = sub.handlers.onError;
    if (onError) queueMicrotask(() => { try { onError(err); } catch { /* nowhere to report */ } });
  }

  #conflict(key: string, current: IKeyValue | undefined): Error {
    return current ? new RevisionConflictError(key, toKV(current)) : new KeyNotFoundError(key);
  }

  async #readError(err: unknown, revision: number): Promise<unknown> {
    if (isCompacted(err)) return new CompactedError(revision, await this.compactRevision());
    if (isFuture(err)) return new FutureRevisionError(revision, await this.currentRevision());
    return err;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }
}

function toEvent(e: { type: string | number; kv: IKeyValue; prev_kv?: IKeyValue }): WatchEvent {
  const kv = Object.freeze(toKV(e.kv));
  const prev = e.prev_kv ? Object.freeze(toKV(e.prev_kv)) : undefined;
  if (e.type === 'Delete' || e.type === 1) {
    // etcd's delete event has an empty value; the contract gives the last value.
    return { type: 'delete', kv: Object.freeze({ ...(prev ?? kv), modRevision: kv.modRevision }), prev };
  }
  if (kv.createRevision === kv.modRevision) return { type: 'create', kv };
  return { type: 'update', kv, prev };
}
