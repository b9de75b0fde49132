// Registers this machine's Node and keeps it current: a Lease renewal every 10 s and a
// status patch when the conditions change (or every 5 minutes, as the kubelet's
// nodeStatusReportFrequency). The pod CIDR the server assigns is handed to onPodCidr.
import type { KObject } from '../../api/object.ts';
import { isAlreadyExists, isConflict, isNotFound, type ApiClient, type ResourceInterface } from '../../client/types.ts';
import type { Logger } from '../../util/log.ts';
import { renewNodeLease } from '../sim/node.ts';
import { readPressure, pressureOf } from './machine.ts';
import { conditionsDiffer, nodeConditions, nodeLabels, nodeObject, stampConditions, type NodeIdentity, type RuntimeHealth } from './node-status.ts';

export interface HeartbeatOptions {
  client: ApiClient;
  identity: NodeIdentity;
  dataDir: string;
  runtimeHealth: () => Promise<RuntimeHealth>;
  onPodCidr: (cidr: string) => void;
  log: Logger;
  leaseIntervalMs?: number;
  statusCheckIntervalMs?: number;
  statusReportIntervalMs?: number;
}

type Condition = ReturnType<typeof nodeConditions>[number];

/** The kubelet's heartbeat client timeout: its node status update frequency, 10 s. */
export const HEARTBEAT_TIMEOUT_MS = 10_000;

export class NodeHeartbeat {
  readonly #o: HeartbeatOptions;
  readonly #nodes: ResourceInterface;
  /** Nodes and Leases for the heartbeats themselves (status patches, renewals). */
  readonly #statusNodes: ResourceInterface;
  readonly #leases: ResourceInterface;
  #uid?: string;
  #podCidr?: string;
  #reported?: Condition[];
  #reportedAt = 0;
  #timers: ReturnType<typeof setInterval>[] = [];
  #busy = { lease: false, status: false };

  constructor(o: HeartbeatOptions) {
    this.#o = o;
    // As the kubelet's heartbeat client: a server silent for 10 s (partitioned, not dead)
    // is given up and the renewal goes to another, well inside the 40 s Lease.
    this.#nodes = o.client.resource('', 'v1', 'nodes');
    this.#statusNodes = o.client.resource('', 'v1', 'nodes', { requestTimeoutMs: HEARTBEAT_TIMEOUT_MS });
    this.#leases = o.client.resource('coordination.k8s.io', 'v1', 'leases', { requestTimeoutMs: HEARTBEAT_TIMEOUT_MS });
  }

  get podCidr(): string | undefined { return this.#podCidr; }

  async start(): Promise<void> {
    await this.register();
    await this.#renewLease();
    const every = (ms: number, what: 'lease' | 'status', fn: () => Promise<void>) => {
      const t = setInterval(() => {
        if (this.#busy[what]) return; // the last one is still out: skip, don't pile up
        this.#busy[what] = true;
        fn().catch((err) => this.#o.log.warn(`${what} update failed`, { error: (err as Error).message }))
          .finally(() => { this.#busy[what] = false; });
      }, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#o.leaseIntervalMs ?? 10_000, 'lease', () => this.#renewLease());
    every(this.#o.statusCheckIntervalMs ?? 10_000, 'status', () => this.updateStatus());
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  async #conditions(now: number): Promise<Condition[]> {
    const health = await this.#o.runtimeHealth();
    return stampConditions(nodeConditions(pressureOf(readPressure(this.#o.dataDir)), health), this.#reported, now);
  }

  /** Creates the Node, or takes over an existing one of that name (labels merged, status replaced). */
  async register(): Promise<void> {
    const now = Date.now();
    const body = nodeObject(this.#o.identity, await this.#conditions(now));
    let stored: KObject;
    try {
      stored = await this.#nodes.create(body);
    } catch (err) {
      if (!isAlreadyExists(err) && !isConflict(err)) throw err;
      await this.#nodes.patch(undefined, this.#o.identity.name, 'merge', { metadata: { labels: nodeLabels(this.#o.identity) } });
      stored = await this.#nodes.patch(undefined, this.#o.identity.name, 'merge', { status: body.status }, { subresource: 'status' });
    }
    this.#uid = stored.metadata.uid;
    this.#reported = (body.status as { conditions: Condition[] }).conditions;
    this.#reportedAt = now;
    this.#notePodCidr(stored);
  }

  #notePodCidr(node: KObject): void {
    const cidr = (node.spec as { podCIDR?: string } | undefined)?.podCIDR;
    if (cidr && cidr !== this.#podCidr) {
      this.#podCidr = cidr;
      this.#o.onPodCidr(cidr);
    }
  }

  /** Waits (polling every 500 ms) until the server has given this node a pod CIDR. */
  async waitForPodCidr(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#podCidr) {
      const node = await this.#nodes.tryGet(undefined, this.#o.identity.name);
      if (node) this.#notePodCidr(node);
      if (this.#podCidr) break;
      if (Date.now() > deadline) throw new Error(`node ${this.#o.identity.name} got no spec.podCIDR from the server in ${timeoutMs / 1000} s (is the node IPAM controller running, --cluster-cidr big enough?)`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return this.#podCidr;
  }

  async #renewLease(): Promise<void> {
    await renewNodeLease(this.#leases, this.#o.identity.name, this.#uid, Date.now());
  }

  /** Patches the status when a condition changed or the report is due; re-registers a deleted Node. */
  async updateStatus(force = false): Promise<void> {
    const now = Date.now();
    const conditions = await this.#conditions(now);
    const due = now - this.#reportedAt >= (this.#o.statusReportIntervalMs ?? 300_000);
    if (!force && !due && !conditionsDiffer(conditions, this.#reported)) return;
    let stored: KObject;
    try {
      stored = await this.#statusNodes.patch(undefined, this.#o.identity.name, 'merge', { status: { conditions } }, { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.#o.log.warn('node was deleted; registering again', { node: this.#o.identity.name });
      await this.register();
      return;
    }
    this.#reported = conditions;
    this.#reportedAt = now;
    this.#notePodCidr(stored);
  }
}
