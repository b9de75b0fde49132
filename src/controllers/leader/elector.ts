// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does:
// whoever holds an unexpired Lease leads; the leader renews it every retry period; anyone
// may take it once renewTime + leaseDurationSeconds has passed.
import type { KObject } from '../../api/object.ts';
import { lookupResource } from '../../api/scheme.ts';
import type { Registry } from '../../apiserver/registry/registry.ts';
import { ApiError } from '../../apiserver/errors.ts';
import type { Logger } from '../../util/log.ts';

const LEASES = lookupResource('coordination.k8s.io', 'v1', 'leases')!;

export interface ElectorOptions {
  name: string;
  namespace?: string;
  identity: string;
  leaseDurationSeconds?: number;
  retryPeriodMs?: number;
  /** A leader that could not renew for this long steps down before its Lease can expire (default 2/3 of the Lease). */
  renewDeadlineMs?: number;
  now?: () => Date;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

interface LeaseSpec { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; acquireTime?: string; leaseTransitions?: number }

const micro = (d: Date): string => d.toISOString().replace('Z', '000Z');

export class LeaderElector {
  readonly #registry: Registry;
  readonly #log: Logger;
  readonly #o: Required<Omit<ElectorOptions, 'onStartedLeading' | 'onStoppedLeading'>> & Pick<ElectorOptions, 'onStartedLeading' | 'onStoppedLeading'>;
  #leading = false;
  #timer?: NodeJS.Timeout;
  #stopped = false;
  #lastRenew = 0;
  #watchdog?: NodeJS.Timeout;

  constructor(registry: Registry, log: Logger, opts: ElectorOptions) {
    this.#registry = registry;
    this.#log = log;
    // 10 s Lease, 2 s retries: another server takes over 8-12 s after a leader dies.
    const leaseDurationSeconds = opts.leaseDurationSeconds ?? 10;
    this.#o = { namespace: 'kube-system', leaseDurationSeconds, retryPeriodMs: 2000, renewDeadlineMs: leaseDurationSeconds * 667, now: () => new Date(), ...opts };
  }

  get leading(): boolean { return this.#leading; }

  start(): void {
    const tick = async () => {
      if (this.#stopped) return;
      await this.tryOnce().catch((err) => {
        this.#log.warn('leader election attempt failed', { lease: this.#o.name, error: String(err) });
        this.#checkRenewDeadline();
      });
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.retryPeriodMs).unref();
    };
    void tick();
    // An attempt that hangs (datastore unreachable) must not keep a stale leader either.
    this.#watchdog = setInterval(() => this.#checkRenewDeadline(), this.#o.retryPeriodMs).unref();
  }

  /** Cut off from the datastore: stop before the Lease expires and another server leads. */
  #checkRenewDeadline(): void {
    if (!this.#leading || this.#o.now().getTime() - this.#lastRenew <= this.#o.renewDeadlineMs) return;
    this.#leading = false;
    this.#log.warn('lost leadership: could not renew in time', { lease: this.#o.name, identity: this.#o.identity });
    this.#o.onStoppedLeading();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#watchdog);
    if (this.#leading) { this.#leading = false; this.#o.onStoppedLeading(); }
  }

  /** One acquire-or-renew attempt; returns whether this identity leads afterwards. */
  async tryOnce(): Promise<boolean> {
    const now = this.#o.now();
    const { name, namespace, identity, leaseDurationSeconds } = this.#o;
    const existing = await this.#registry.tryGet(LEASES, namespace, name);
    let ok: boolean;
    try {
      if (!existing) {
        await this.#registry.create(LEASES, namespace, {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: micro(now), renewTime: micro(now), leaseTransitions: 0 },
        }, { fieldManager: identity });
        ok = true;
      } else {
        const spec = (existing.spec ?? {}) as LeaseSpec;
        const expires = Date.parse(spec.renewTime ?? '') + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
        const mine = spec.holderIdentity === identity;
        if (!mine && spec.holderIdentity && expires > now.getTime()) {
          ok = false;
        } else {
          const next: KObject = structuredClone(existing);
          next.spec = {
            ...spec, holderIdentity: identity, leaseDurationSeconds, renewTime: micro(now),
            ...(mine ? {} : { acquireTime: micro(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
          };
          // Guarded by the resourceVersion we read: two candidates cannot both win.
          await this.#registry.update(LEASES, namespace, name, next, { fieldManager: identity });
          ok = true;
        }
      }
    } catch (err) {
      if (err instanceof ApiError && (err.code === 409)) ok = false;
      else throw err;
    }
    if (this.#stopped) return false; // stop() came while this attempt was in flight
    if (ok) this.#lastRenew = now.getTime();
    if (ok && !this.#leading) { this.#leading = true; this.#log.info('became leader', { lease: name, identity }); this.#o.onStartedLeading(); }
    if (!ok && this.#leading) { this.#leading = false; this.#log.warn('lost leadership', { lease: name, identity }); this.#o.onStoppedLeading(); }
    return ok;
  }
}
