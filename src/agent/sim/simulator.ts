// The simulator: N nodes in one process. It registers each Node and its Lease, renews the
// Leases and node status from two shared tickers, and plays the lifecycle of every pod
// bound to its nodes from one shared pod informer, one due-time queue and one work queue.
//
//   pods informer (spec.nodeName!=, byNode index) ─► WorkQueue.sync(key) ─► podStatusAt ─► pods/status
//                                       ▲                                  └► DueQueue (next change)
//                                       └──────────── DueQueue fires ◄─────┘
//   BatchedTicker(10 s) ─► Lease renew (merge patch)   BatchedTicker(60 s) ─► node status (merge patch)
import os from 'node:os';
import type { KObject } from '../../api/object.ts';
import { objectKey } from '../../client/cache.ts';
import { Informer } from '../../client/informer.ts';
import { realTimers, type Timers } from '../../client/timers.ts';
import { isAlreadyExists, isConflict, isNotFound, type ApiClient, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { createLogger, type Logger } from '../../util/log.ts';
import { CidrAllocator, fallbackPodCidr, simulatedHostIP } from './cidr.ts';
import { DEFAULT_BEHAVIOUR, mergePodStatus, podStatusAt, type Behaviour } from './lifecycle.ts';
import { DEFAULT_RESOURCES, nodeConditions, nodeLabels, nodeObject, nodeStatus, renewNodeLease, type NodeResources } from './node.ts';
import { BatchedTicker, DueQueue, Limiter } from './scheduling.ts';

export interface SimulatorOptions {
  client: ApiClient;
  nodes: number;
  /** Nodes are `<prefix>-<i>`; default `sim-<hostname>`. */
  namePrefix?: string;
  resources?: Partial<NodeResources>;
  behaviour?: Behaviour;
  /**
   * API calls in flight for heartbeats and registration (pod writes have their own).
   * Default 32: real kubelets each have their own connection, and with 8 a loaded server
   * (100 ms a call) could take only 80 renewals/s, less than 5,000 nodes' 500/s.
   */
  heartbeatConcurrency?: number;
  /** Pod status writes and deletes in flight. Default 32 (8 capped a burst at ~8/s once a write took 1 s). */
  podConcurrency?: number;
  leaseIntervalMs?: number;
  statusIntervalMs?: number;
  timers?: Timers;
  random?: () => number;
  log?: Logger;
}

interface SimNode {
  name: string;
  index: number;
  hostIP: string;
  uid?: string;
  registeredAt: number;
  podCIDR?: string;
  cidrCheckedAt: number;
  allocator?: CidrAllocator;
}

interface SimPod {
  uid: string;
  node: SimNode;
  startAt: number;
  ip?: string;
  allocator?: CidrAllocator;
  /** The status last written, so a stale cache does not make us write it again. */
  written?: string;
  done: boolean;
}

const byNode = (pod: KObject): string[] => [String((pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '')];

export function defaultNamePrefix(): string {
  return `sim-${os.hostname().toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'host'}`;
}

export class Simulator {
  readonly prefix: string;
  readonly #opts: SimulatorOptions;
  readonly #timers: Timers;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #behaviour: Behaviour;
  readonly #res: NodeResources;
  readonly #nodeApi: ResourceInterface;
  readonly #leaseApi: ResourceInterface;
  readonly #podApi: ResourceInterface;
  readonly #nodes = new Map<string, SimNode>();
  readonly #pods = new Map<string, SimPod>();
  readonly #limiter: Limiter;
  readonly #leases: BatchedTicker;
  readonly #statuses: BatchedTicker;
  readonly #due: DueQueue;
  readonly #queue: WorkQueue;
  readonly #informer: Informer;
  #stopped = false;
  /** Counters for logs and benchmarks. */
  readonly stats = { leaseRenewals: 0, nodeStatusUpdates: 0, podStatusWrites: 0, podDeletes: 0, conflicts: 0, errors: 0 };

  constructor(opts: SimulatorOptions) {
    this.#opts = opts;
    this.prefix = opts.namePrefix ?? defaultNamePrefix();
    this.#timers = opts.timers ?? realTimers;
    this.#random = opts.random ?? Math.random;
    this.#log = opts.log ?? createLogger({ component: 'sim' });
    this.#behaviour = opts.behaviour ?? DEFAULT_BEHAVIOUR;
    this.#res = { ...DEFAULT_RESOURCES, ...opts.resources };
    this.#nodeApi = opts.client.resource('', 'v1', 'nodes');
    this.#leaseApi = opts.client.resource('coordination.k8s.io', 'v1', 'leases');
    this.#podApi = opts.client.resource('', 'v1', 'pods');
    this.#limiter = new Limiter(opts.heartbeatConcurrency ?? 32);
    const onError = (what: string) => (key: string, err: unknown) => {
      if (this.#stopped) return;
      this.stats.errors++;
      this.#log.warn(`${what} failed`, { node: key, error: (err as Error)?.message ?? String(err) });
    };
    this.#leases = new BatchedTicker({
      intervalMs: opts.leaseIntervalMs ?? 10_000, limiter: this.#limiter, highPriority: true, timers: this.#timers,
      work: (name) => this.#renewLease(name), onError: onError('lease renewal'),
    });
    this.#statuses = new BatchedTicker({
      // Every 5 minutes, a kubelet's nodeStatusReportFrequency when nothing changes.
      intervalMs: opts.statusIntervalMs ?? 300_000, limiter: this.#limiter, timers: this.#timers,
      work: (name) => this.#updateNodeStatus(name), onError: onError('node status update'),
    });
    this.#due = new DueQueue((key) => this.#queue.add(key), this.#timers);
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      concurrency: opts.podConcurrency ?? 32, baseDelayMs: 200, maxDelayMs: 10_000,
      onError: (key, err) => {
        if (this.#stopped) return;
        this.stats.errors++; this.#log.warn('pod sync failed', { pod: key, error: (err as Error)?.message ?? String(err) }); },
    });
    this.#informer = new Informer(this.#podApi, { fieldSelector: 'spec.nodeName!=', indexers: { byNode }, timers: this.#timers, name: 'pods', log: this.#log.child('pods') });
    this.#informer.addEventHandler({
      onAdd: (pod) => this.#observe(pod),
      onUpdate: (_old, pod) => this.#observe(pod),
      onDelete: (pod) => this.#forget(objectKey(pod)),
    });
  }

  nodeName(i: number): string {
    return `${this.prefix}-${i}`;
  }

  get nodeNames(): string[] {
    return [...this.#nodes.keys()];
  }

  /** Pods this simulator is running now (not yet finished or deleted). */
  get activePods(): number {
    let n = 0;
    for (const p of this.#pods.values()) if (!p.done) n++;
    return n;
  }

  /**
   * Registers every node (Node and Lease) and starts the pod informer. Heartbeats start
   * first: registering thousands of nodes takes longer than a Lease lasts, so each node is
   * renewed from the moment it is registered, not once all are.
   */
  async start(onProgress?: (registered: number) => void): Promise<void> {
    let registered = 0;
    this.#leases.start();
    this.#statuses.start();
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < this.#opts.nodes; i++) {
      const node: SimNode = { name: this.nodeName(i), index: i, hostIP: simulatedHostIP(i), registeredAt: this.#timers.now(), cidrCheckedAt: 0 };
      this.#nodes.set(node.name, node);
      jobs.push(this.#limiter.run(() => this.#register(node)).then(() => {
        registered++;
        onProgress?.(registered);
        this.#leases.add(node.name);
        this.#statuses.add(node.name);
      }));
    }
    await Promise.all(jobs);
    if (this.#stopped) return;
    this.#informer.start();
    await this.#informer.waitForSync();
  }

  /** Stops heartbeats and pod handling; the server marks the nodes NotReady when their Leases expire. */
  stop(): void {
    this.#stopped = true;
    this.#leases.stop();
    this.#statuses.stop();
    this.#due.stop();
    this.#queue.stop();
    this.#informer.stop();
  }

  // ---- nodes --------------------------------------------------------------------------

  async #register(node: SimNode): Promise<void> {
    const now = this.#timers.now();
    const body = nodeObject(node.name, node.hostIP, this.#res, now);
    let stored: KObject;
    try {
      stored = await this.#nodeApi.create(body);
    } catch (err) {
      if (!isAlreadyExists(err) && !isConflict(err)) throw err;
      // Re-registration: our labels over the existing ones, then a fresh status.
      await this.#nodeApi.patch(undefined, node.name, 'merge', { metadata: { labels: nodeLabels(node.name) } });
      stored = await this.#nodeApi.patch(undefined, node.name, 'merge', { status: body.status }, { subresource: 'status' });
    }
    node.uid = stored.metadata.uid;
    this.#notePodCidr(node, stored);
    await this.#renewLease(node.name);
  }

  #notePodCidr(node: SimNode, stored: KObject): void {
    const cidr = (stored.spec as { podCIDR?: string } | undefined)?.podCIDR;
    if (cidr && cidr !== node.podCIDR) {
      node.podCIDR = cidr;
      node.allocator = undefined; // a new range: new pods take addresses from it
    }
  }

  async #renewLease(name: string): Promise<void> {
    const node = this.#nodes.get(name);
    if (!node || this.#stopped) return;
    await renewNodeLease(this.#leaseApi, name, node.uid, this.#timers.now());
    this.stats.leaseRenewals++;
  }

  async #updateNodeStatus(name: string): Promise<void> {
    const node = this.#nodes.get(name);
    if (!node || this.#stopped) return;
    let stored: KObject;
    try {
      stored = await this.#nodeApi.patch(undefined, name, 'merge', { status: { conditions: nodeConditions(node.registeredAt, this.#timers.now()) } }, { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.#register(node); // deleted behind our back: register again, as a kubelet does
      return;
    }
    this.#notePodCidr(node, stored);
    this.stats.nodeStatusUpdates++;
  }

  /** The node's allocator: its spec.podCIDR (looked up at most every 5 s while it has none), else a stand-in. */
  async #allocatorFor(node: SimNode): Promise<CidrAllocator> {
    const now = this.#timers.now();
    if (!node.podCIDR && now - node.cidrCheckedAt > 5_000) {
      node.cidrCheckedAt = now;
      const stored = await this.#nodeApi.tryGet(undefined, node.name);
      if (stored) this.#notePodCidr(node, stored);
    }
    node.allocator ??= new CidrAllocator(node.podCIDR ?? fallbackPodCidr(node.index));
    return node.allocator;
  }

  // ---- pods ---------------------------------------------------------------------------

  #observe(pod: KObject): void {
    const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
    if (!nodeName || !this.#nodes.has(nodeName)) return;
    this.#queue.add(objectKey(pod));
  }

  #forget(key: string): void {
    const p = this.#pods.get(key);
    if (!p) return;
    this.#pods.delete(key);
    this.#due.cancel(key);
    this.#release(p);
  }

  #release(p: SimPod): void {
    if (p.ip && p.allocator) p.allocator.release(p.ip);
    p.allocator = undefined;
  }

  async #sync(key: string): Promise<void> {
    if (this.#stopped) return;
    let pod = this.#informer.get(key);
    if (!pod) return this.#forget(key);
    const node = this.#nodes.get(String((pod.spec as { nodeName?: string }).nodeName));
    if (!node) return;
    let p = this.#pods.get(key);
    if (p && p.uid !== pod.metadata.uid) { this.#forget(key); p = undefined; }

    if (pod.metadata.deletionTimestamp) {
      // The kubelet's part of graceful deletion: stop the containers, then remove the pod for good.
      try {
        await this.#podApi.delete(pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
        this.stats.podDeletes++;
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
      if (p) this.#release(p);
      return;
    }

    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (!p) {
      if (phase === 'Succeeded' || phase === 'Failed') return; // finished before we came: nothing to run
      p = this.#track(pod, node);
      this.#pods.set(key, p);
    }
    if (p.done) return;
    const now = this.#timers.now();
    if (now < p.startAt) { this.#due.schedule(key, p.startAt); return; }
    if (!p.ip && (pod.spec as { hostNetwork?: boolean }).hostNetwork !== true) {
      const alloc = await this.#allocatorFor(node);
      const ip = alloc.allocate();
      if (!ip) {
        this.#log.warn('no pod IP left', { node: node.name, cidr: alloc.cidr, pod: key });
        this.#due.schedule(key, now + 10_000);
        return;
      }
      p.ip = ip;
      p.allocator = alloc;
    }

    for (let attempt = 0; ; attempt++) {
      const t = this.#timers.now();
      const result = podStatusAt(pod, { startAt: p.startAt, hostIP: node.hostIP, podIP: p.ip }, t, this.#behaviour);
      const status = mergePodStatus(pod.status, result.status);
      const text = JSON.stringify(status);
      const terminal = result.phase === 'Succeeded' || result.phase === 'Failed';
      if (result.nextChangeAt !== undefined) this.#due.schedule(key, result.nextChangeAt); else this.#due.cancel(key);
      if (text === p.written || text === JSON.stringify(pod.status ?? {})) {
        if (terminal) this.#finish(p);
        return;
      }
      try {
        await this.#podApi.updateStatus({ ...pod, status });
        this.stats.podStatusWrites++;
        p.written = text;
        if (terminal) this.#finish(p);
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= 4) throw err;
        this.stats.conflicts++;
        const fresh = await this.#podApi.tryGet(pod.metadata.namespace, pod.metadata.name!);
        if (!fresh || fresh.metadata.uid !== p.uid || fresh.metadata.deletionTimestamp) {
          this.#queue.add(key); // gone or going: the informer's event decides
          return;
        }
        pod = fresh;
      }
    }
  }

  #track(pod: KObject, node: SimNode): SimPod {
    const status = (pod.status ?? {}) as { startTime?: string; podIP?: string; containerStatuses?: { containerID?: string }[] };
    const ours = status.startTime && (status.containerStatuses ?? []).some((c) => c.containerID?.startsWith('sim://'));
    if (ours) {
      // Already running (the simulator restarted): carry on from the reported start, keep the IP.
      const p: SimPod = { uid: pod.metadata.uid!, node, startAt: Date.parse(status.startTime!), done: false };
      if (status.podIP && status.podIP !== node.hostIP) {
        const alloc = node.allocator ??= new CidrAllocator(node.podCIDR ?? fallbackPodCidr(node.index));
        if (alloc.reserve(status.podIP)) { p.ip = status.podIP; p.allocator = alloc; }
      }
      return p;
    }
    const [min, max] = this.#behaviour.startDelayMs;
    return { uid: pod.metadata.uid!, node, startAt: this.#timers.now() + min + Math.round(this.#random() * (max - min)), done: false };
  }

  /** A finished pod keeps its status but gives its address back, as a kubelet tears down the sandbox. */
  #finish(p: SimPod): void {
    p.done = true;
    this.#release(p);
  }
}

