// The `kubernetes` Service's Endpoints and EndpointSlices list every live API server, as
// kube-apiserver's lease endpoint reconciler does: each server keeps a Lease in
// kube-system (`skiff-apiserver-<id>`, its advertise address and port in annotations)
// renewed every few seconds, and after each renewal rewrites the endpoints to the servers
// whose Lease has not expired. A server that dies stops renewing and drops out once its
// Lease expires; one that stops cleanly deletes its Lease and drops out at once.
//
// Servers may listen on different ports (several on one machine): Endpoints get one subset
// per port, EndpointSlices one slice per port (`kubernetes`, then `kubernetes-<port>`),
// since a subset or a slice carries one port list for all its addresses.
import type { InProcessClient } from '../client/inprocess.ts';
import type { KObject } from '../api/object.ts';
import type { Logger } from '../util/log.ts';

export const APISERVER_LEASE_LABEL = 'skiff.io/apiserver';
const ADDRESS_ANNOTATION = 'skiff.io/advertise-address';
const PORT_ANNOTATION = 'skiff.io/advertise-port';

export interface ApiServerEndpointsOptions {
  client: InProcessClient;
  /** Unique per server and stable across its restarts. */
  identity: string;
  host: string;
  port: number;
  log: Logger;
  /** How long a Lease counts after its last renewal (default 20 s). */
  leaseDurationSeconds?: number;
  /** Renewal period (default 5 s). */
  renewMs?: number;
  now?: () => Date;
}

interface Live { host: string; port: number }

const micro = (d: Date): string => d.toISOString().replace('Z', '000Z');
const isConflict = (err: unknown): boolean => [404, 409].includes((err as { code?: number }).code ?? 0);

/** Lease names are DNS labels: the identity, lower-cased, other characters turned into '-'. */
export function leaseName(identity: string): string {
  return `skiff-apiserver-${identity.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

export class ApiServerEndpoints {
  readonly #o: Required<Omit<ApiServerEndpointsOptions, 'now'>> & { now: () => Date };
  readonly #name: string;
  #timer?: NodeJS.Timeout;
  #stopped = false;
  #running?: Promise<void>;

  constructor(opts: ApiServerEndpointsOptions) {
    this.#o = { leaseDurationSeconds: 20, renewMs: 5000, now: () => new Date(), ...opts };
    this.#name = leaseName(opts.identity);
  }

  /** Renews once (so the endpoints list this server when start resolves), then periodically. */
  async start(): Promise<void> {
    await this.#tick();
    const loop = () => {
      if (this.#stopped) return;
      this.#timer = setTimeout(() => {
        this.#running = this.#tick().finally(loop);
      }, this.#o.renewMs).unref();
    };
    loop();
  }

  /** Deletes this server's Lease and rewrites the endpoints without it (best effort, at most 3 s). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const cleanup = async () => {
      await this.#running?.catch(() => {});
      await this.#o.client.resource('coordination.k8s.io', 'v1', 'leases').delete('kube-system', this.#name);
      await this.reconcile();
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((_, reject) => { timer = setTimeout(() => reject(new Error('timed out')), 3000).unref(); });
    try {
      await Promise.race([cleanup(), timeout]);
    } catch (err) {
      // The Lease expires by itself; a datastore that does not answer must not hold up the stop.
      this.#o.log.debug('apiserver lease cleanup failed', { error: String(err) });
    } finally {
      clearTimeout(timer);
    }
  }

  async #tick(): Promise<void> {
    try {
      await this.renew();
      await this.reconcile();
    } catch (err) {
      this.#o.log.warn('apiserver endpoint lease renewal failed', { error: String(err) });
    }
  }

  /** Creates or renews this server's Lease. */
  async renew(): Promise<void> {
    const leases = this.#o.client.resource('coordination.k8s.io', 'v1', 'leases');
    const now = micro(this.#o.now());
    const metadata = {
      name: this.#name, namespace: 'kube-system', labels: { [APISERVER_LEASE_LABEL]: 'true' },
      annotations: { [ADDRESS_ANNOTATION]: this.#o.host, [PORT_ANNOTATION]: String(this.#o.port) },
    };
    const spec = { holderIdentity: this.#o.identity, leaseDurationSeconds: this.#o.leaseDurationSeconds, renewTime: now };
    const current = await leases.tryGet('kube-system', this.#name);
    if (!current) {
      await leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec: { ...spec, acquireTime: now } } as KObject)
        .catch((err) => { if (!isConflict(err)) throw err; });
      return;
    }
    await leases.update({ ...current, metadata: { ...current.metadata, ...metadata }, spec: { ...(current.spec as object), ...spec } } as KObject)
      .catch((err) => { if (!isConflict(err)) throw err; }); // renewed by a restart of ours: next tick
  }

  /** The servers whose Lease is current, sorted. */
  async live(): Promise<Live[]> {
    const leases = this.#o.client.resource('coordination.k8s.io', 'v1', 'leases');
    const { items } = await leases.list('kube-system', { labelSelector: `${APISERVER_LEASE_LABEL}=true` });
    const now = this.#o.now().getTime();
    const out: Live[] = [];
    for (const l of items) {
      const spec = (l.spec ?? {}) as { renewTime?: string; leaseDurationSeconds?: number };
      const host = l.metadata?.annotations?.[ADDRESS_ANNOTATION];
      const port = Number(l.metadata?.annotations?.[PORT_ANNOTATION]);
      if (!host || !Number.isInteger(port) || !spec.renewTime) continue;
      if (new Date(spec.renewTime).getTime() + (spec.leaseDurationSeconds ?? 0) * 1000 < now) continue;
      if (!out.some((e) => e.host === host && e.port === port)) out.push({ host, port });
    }
    return out.sort((a, b) => a.port - b.port || a.host.localeCompare(b.host));
  }

  /** Rewrites Endpoints and EndpointSlices of `default/kubernetes` to the live servers. */
  async reconcile(): Promise<void> {
    const live = await this.live();
    if (!live.length) return; // keep the last known list rather than an empty one
    const byPort = new Map<number, string[]>();
    for (const e of live) byPort.set(e.port, [...(byPort.get(e.port) ?? []), e.host]);
    const groups = [...byPort].sort(([a], [b]) => a - b);
    await this.#writeEndpoints(groups);
    await this.#writeSlices(groups);
  }

  async #writeEndpoints(groups: Array<[number, string[]]>): Promise<void> {
    const endpoints = this.#o.client.resource('', 'v1', 'endpoints');
    const subsets = groups.map(([port, hosts]) => ({ addresses: hosts.map((ip) => ({ ip })), ports: [{ name: 'https', port, protocol: 'TCP' }] }));
    const ep = await endpoints.tryGet('default', 'kubernetes');
    if (!ep) {
      await endpoints.create({
        apiVersion: 'v1', kind: 'Endpoints',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets,
      } as KObject).catch((err) => { if (!isConflict(err)) throw err; });
    } else if (JSON.stringify(ep.subsets) !== JSON.stringify(subsets)) {
      // With resourceVersion: two servers rewriting at once, the loser retries next tick.
      await endpoints.update({ ...ep, subsets } as KObject).catch((err) => { if (!isConflict(err)) throw err; });
    }
  }

  async #writeSlices(groups: Array<[number, string[]]>): Promise<void> {
    const slices = this.#o.client.resource('discovery.k8s.io', 'v1', 'endpointslices');
    const wanted = new Map(groups.map(([port, hosts], i) => [i === 0 ? 'kubernetes' : `kubernetes-${port}`, {
      addressType: hosts[0]!.includes(':') ? 'IPv6' : 'IPv4',
      endpoints: hosts.map((h) => ({ addresses: [h], conditions: { ready: true } })),
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    }]));
    const { items } = await slices.list('default', { labelSelector: 'kubernetes.io/service-name=kubernetes' });
    for (const [name, body] of wanted) {
      const slice = items.find((s) => s.metadata?.name === name);
      if (!slice) {
        await slices.create({
          apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
          metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } }, ...body,
        } as KObject).catch((err) => { if (!isConflict(err)) throw err; });
      } else if (JSON.stringify([slice.addressType, slice.endpoints, slice.ports]) !== JSON.stringify([body.addressType, body.endpoints, body.ports])) {
        await slices.update({ ...slice, ...body } as KObject).catch((err) => { if (!isConflict(err)) throw err; });
      }
    }
    for (const s of items) {
      const name = s.metadata?.name ?? '';
      if (!wanted.has(name) && (name === 'kubernetes' || /^kubernetes-\d+$/.test(name))) {
        await slices.delete('default', name).catch((err) => { if (!isConflict(err)) throw err; });
      }
    }
  }
}
