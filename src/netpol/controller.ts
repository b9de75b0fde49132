// Keeps this node's NetworkPolicy table in step with the caches: any relevant change
// (a policy, a pod's labels/IP/ports/node/phase, a namespace's labels) schedules one
// sync after a short debounce; a sync recomputes the model (cheap, pure), diffs it
// against what was last applied, and sends the difference as one nft transaction.
// A failed apply forgets the applied state, so the retry rewrites the whole table.
import type { KObject } from '../api/object.ts';
import { arr, jsonEqual, obj, objs } from '../api/kinds/access.ts';
import type { EventHandlers } from '../client/informer.ts';
import { Backoff, realTimers, type Timers } from '../client/timers.ts';
import type { Logger } from '../util/log.ts';
import { computeModel, podNetworkIP } from './model.ts';
import type { NftRunner } from '../proxy/nft.ts';
import { desiredState, renderUpdate, type NftState } from './render.ts';

export interface Source {
  list(): KObject[];
  addEventHandler(h: EventHandlers): () => void;
  waitForSync(signal?: AbortSignal): Promise<void>;
}

export interface NetpolControllerOptions {
  policies: Source;
  pods: Source;
  namespaces: Source;
  nodeName: string;
  /** Sources always let in: the node IP and the bridge gateway (kubelet probes). */
  nodeIPs: string[];
  table: string;
  apply: NftRunner;
  log: Logger;
  debounceMs?: number;
  timers?: Timers;
  /** Told after every sync (benchmarks, tests). */
  onSync?: (r: SyncResult) => void;
}

export interface SyncResult {
  /** The whole table was written (first sync, or after a failure). */
  full: boolean;
  /** Script size; 0 when nothing changed. */
  bytes: number;
  /** Model + render, and nft's share. */
  computeMs: number;
  nftMs: number;
  error?: Error;
}

/** What about a pod can change a policy decision. */
function podFacts(p: KObject): unknown {
  return [p.metadata.labels ?? {}, obj(p.spec).nodeName, podNetworkIP(p),
    objs(obj(p.spec).containers).map((c) => arr(c.ports))];
}

export class NetpolController {
  readonly #o: NetpolControllerOptions;
  readonly #timers: Timers;
  readonly #abort = new AbortController();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  #applied: NftState | undefined;
  #synced = false;
  #timer: unknown;
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;
  /** Successful syncs so far. */
  syncs = 0;
  /** The last sync's failure, if it failed. */
  lastError: Error | undefined;

  constructor(opts: NetpolControllerOptions) {
    this.#o = opts;
    this.#timers = opts.timers ?? realTimers;
  }

  start(): void {
    const kick = () => this.#schedule();
    const on = (changed: (a: KObject, b: KObject) => boolean): EventHandlers => ({
      onAdd: kick, onDelete: kick, onUpdate: (a, b) => { if (changed(a, b)) kick(); },
    });
    this.#unsubscribe.push(
      this.#o.policies.addEventHandler(on((a, b) => !jsonEqual(a.spec, b.spec))),
      this.#o.pods.addEventHandler(on((a, b) => !jsonEqual(podFacts(a), podFacts(b)))),
      this.#o.namespaces.addEventHandler(on((a, b) => !jsonEqual(a.metadata.labels ?? {}, b.metadata.labels ?? {}))),
    );
    // Never install a table from half-filled caches: that would briefly open isolated pods.
    const signal = this.#abort.signal;
    Promise.all([this.#o.policies, this.#o.pods, this.#o.namespaces].map((s) => s.waitForSync(signal)))
      .then(() => { this.#synced = true; this.#schedule(0); })
      .catch((err) => { if (!signal.aborted) this.#o.log.warn('informers did not sync', { err: String(err) }); });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    for (const u of this.#unsubscribe) u();
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#chain;
  }

  /** Runs a sync now (after any running one) and waits for it. */
  syncNow(): Promise<void> {
    return this.#enqueue();
  }

  /** Events within the debounce window share one sync; syncs never overlap. */
  #schedule(delay = this.#o.debounceMs ?? 50): void {
    if (!this.#synced || this.#stopped || this.#timer !== undefined) return;
    this.#timer = this.#timers.setTimeout(() => { this.#timer = undefined; void this.#enqueue(); }, delay);
  }

  #enqueue(): Promise<void> {
    const run = this.#chain.then(() => (this.#stopped ? undefined : this.#sync()));
    this.#chain = run.catch(() => {});
    return run;
  }

  async #sync(): Promise<void> {
    const t0 = performance.now();
    const model = computeModel({
      policies: this.#o.policies.list(), pods: this.#o.pods.list(), namespaces: this.#o.namespaces.list(), nodeName: this.#o.nodeName,
    });
    const next = desiredState(model, { nodeIPs: this.#o.nodeIPs });
    const full = !this.#applied;
    const script = renderUpdate(this.#o.table, this.#applied, next);
    const t1 = performance.now();
    const result = (error?: Error): SyncResult => ({ full, bytes: script.length, computeMs: t1 - t0, nftMs: performance.now() - t1, error });
    try {
      if (script) await this.#o.apply(script);
      this.#applied = next;
      this.#backoff.reset();
      this.syncs++;
      this.lastError = undefined;
      if (script) this.#o.log.info('network policy synced', { policies: model.policies.length, isolated: model.isolated.length, full });
      this.#o.onSync?.(result());
    } catch (err) {
      this.#applied = undefined;
      this.lastError = err as Error;
      const delay = this.#backoff.next();
      this.#o.log.warn('network policy sync failed; rewriting the table', { err: String(err), retryMs: delay });
      this.#schedule(delay);
      this.#o.onSync?.(result(err as Error));
    }
  }
}
