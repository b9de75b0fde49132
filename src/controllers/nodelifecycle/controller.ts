// The node lifecycle controller: notices nodes that stopped reporting, taints nodes by
// their Ready status, and evicts pods from nodes with NoExecute taints they do not
// tolerate (or tolerate only for a while).
//
//   nodes, leases (kube-node-lease), pods ─► queue of node names ─► sync(node):
//     1. no heartbeat (Lease renewTime or Ready lastHeartbeatTime) for gracePeriodMs
//        → Ready (and pressure conditions) Unknown, "Kubelet stopped posting node status."
//     2. Ready False → not-ready taints; Unknown → unreachable taints; True → neither
//     3. Ready Unknown → its pods' Ready condition False
//     4. pods not tolerating a NoExecute taint → deleted now; tolerating it for
//        tolerationSeconds → deleted that long after the taint's timeAdded
//   a timer every checkIntervalMs enqueues the nodes whose time has come.
//
// Time is ctx.now(); a heartbeat counts from when it was written (clamped to our clock)
// or, after the first look, from when we saw it change.
import type { KObject } from '../../api/object.ts';
import type { IndexFunc } from '../../client/cache.ts';
import type { Informer } from '../../client/informer.ts';
import { isConflict, isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { EventRecorder } from '../events.ts';
import { logSyncError, type Controller, type ControllerContext } from '../types.ts';
import { evictionDeadline, taintsOf, tolerationsOf, withConditionTaints, type Taint } from './taints.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const NODE_INDEX = 'skiff.nodelifecycle/node';
const FIELD_MANAGER = 'node-lifecycle-controller';
const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

type Json = Record<string, unknown>;

const podsByNode: IndexFunc = (pod) => [(pod.spec as Json | undefined)?.nodeName as string | undefined];

export interface NodeLifecycleControllerOptions {
  /** How long a node may go without a heartbeat before it is Unknown (node-monitor-grace-period). */
  gracePeriodMs?: number;
  /** How often the timer looks at every node (node-monitor-period). */
  checkIntervalMs?: number;
  workers?: number;
}

interface Health {
  uid: string;
  heartbeat: string;
  renew: string;
  /** ms: the last time the node showed signs of life. */
  probe: number;
}

const stamp = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const parseTime = (s: unknown): number => (typeof s === 'string' && s ? Date.parse(s) : NaN);

function readyCondition(node: KObject): Json | undefined {
  const conds = (node.status as Json | undefined)?.conditions;
  return Array.isArray(conds) ? (conds as Json[]).find((c) => c.type === 'Ready') : undefined;
}

export class NodeLifecycleController implements Controller {
  readonly name = 'nodelifecycle';
  readonly #grace: number;
  readonly #interval: number;
  readonly #workers: number;
  #ctx?: ControllerContext;
  #recorder?: EventRecorder;
  #queue?: WorkQueue;
  #nodes?: Informer;
  #leases?: Informer;
  #pods?: Informer;
  #nodeApi?: ResourceInterface;
  #podApi?: ResourceInterface;
  #timer?: ReturnType<typeof setInterval>;
  readonly #health = new Map<string, Health>();
  /** `node\0key\0effect` → when we first saw a NoExecute taint that has no timeAdded. */
  readonly #taintSeen = new Map<string, number>();
  readonly #unsubscribe: (() => void)[] = [];

  constructor(opts: NodeLifecycleControllerOptions = {}) {
    this.#grace = opts.gracePeriodMs ?? 40_000;
    this.#interval = opts.checkIntervalMs ?? 5_000;
    this.#workers = opts.workers ?? 4;
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#recorder = ctx.recorder('node-controller');
    this.#nodeApi = ctx.api.resource('', 'v1', 'nodes');
    this.#podApi = ctx.api.resource('', 'v1', 'pods');
    const nodes = this.#nodes = ctx.informers.informer('', 'v1', 'nodes');
    const leases = this.#leases = ctx.informers.informer('coordination.k8s.io', 'v1', 'leases', { namespace: NODE_LEASE_NAMESPACE });
    const pods = this.#pods = ctx.informers.informer('', 'v1', 'pods', { indexers: { [NODE_INDEX]: podsByNode } });
    const queue = this.#queue = new WorkQueue((name) => this.sync(name), {
      concurrency: this.#workers,
      onError: logSyncError(ctx.log, 'node lifecycle sync failed', 'node'),
    });
    // A pod matters to us only on a node that is tainted NoExecute or not Ready.
    const podNode = (pod: KObject): void => {
      const name = (pod.spec as Json | undefined)?.nodeName;
      if (typeof name !== 'string' || !name) return;
      const node = nodes.get(name);
      if (node && (taintsOf(node).some((t) => t.effect === 'NoExecute') || readyCondition(node)?.status === 'Unknown')) queue.add(name);
    };
    this.#unsubscribe.push(
      nodes.addEventHandler({
        onAdd: (n) => queue.add(n.metadata.name!),
        onUpdate: (_o, n) => queue.add(n.metadata.name!),
        onDelete: (n) => queue.add(n.metadata.name!),
      }),
      leases.addEventHandler({
        onAdd: (l) => queue.add(l.metadata.name!),
        onUpdate: (_o, l) => this.#leaseRenewed(l.metadata.name!),
      }),
      pods.addEventHandler({ onAdd: podNode, onUpdate: (_o, p) => podNode(p) }),
    );
    this.#timer = setInterval(() => this.monitor(), this.#interval);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#queue?.stop();
  }

  get idle(): boolean {
    return this.#queue?.idle ?? true;
  }

  /** One pass of the timer: enqueue every node whose heartbeat ran out or that has taints to act on. */
  monitor(): void {
    if (!this.#nodes?.hasSynced()) return;
    const now = this.#ctx!.now();
    for (const node of this.#nodes.list()) {
      const name = node.metadata.name!;
      const h = this.#observe(node, now);
      const ready = readyCondition(node)?.status as string | undefined;
      const taints = taintsOf(node);
      const expired = now - h.probe > this.#grace && ready !== 'Unknown';
      const taintsWrong = JSON.stringify(withConditionTaints(taints, ready, '')) !== JSON.stringify(taints);
      if (expired || taintsWrong || taints.some((t) => t.effect === 'NoExecute')) this.#queue!.add(name);
    }
  }

  async sync(name: string): Promise<void> {
    const ctx = this.#ctx!;
    let node = this.#nodes!.get(name);
    if (!node) {
      this.#health.delete(name);
      for (const k of this.#taintSeen.keys()) if (k.startsWith(`${name}\x00`)) this.#taintSeen.delete(k);
      return;
    }
    const now = ctx.now();
    const h = this.#observe(node, now);
    if (now - h.probe > this.#grace && readyCondition(node)?.status !== 'Unknown') {
      node = await this.#markUnknown(node, now);
      if (!node) return;
    }
    node = await this.#reconcileTaints(node, now);
    if (!node) return;
    const errors: unknown[] = [];
    if (readyCondition(node)?.status === 'Unknown') await this.#markPodsNotReady(node, now, errors);
    await this.#evict(node, now, errors);
    if (errors.length) throw errors[0];
  }

  /**
   * A renewal (500/s with 5,000 nodes) of a Ready, untainted node we already know only
   * moves its heartbeat: note it here rather than queue a full sync, which would find
   * nothing to do. Anything else gets the sync.
   */
  #leaseRenewed(name: string): void {
    const node = this.#nodes!.get(name);
    if (node && this.#health.get(name)?.uid === node.metadata.uid && readyCondition(node)?.status === 'True' && taintsOf(node).length === 0) {
      this.#observe(node, this.#ctx!.now());
      return;
    }
    this.#queue!.add(name);
  }

  /** Updates what we know of the node's heartbeats; returns its health. */
  #observe(node: KObject, now: number): Health {
    const name = node.metadata.name!;
    const heartbeat = String(readyCondition(node)?.lastHeartbeatTime ?? '');
    const lease = this.#leases!.getByName(NODE_LEASE_NAMESPACE, name);
    const renew = String((lease?.spec as Json | undefined)?.renewTime ?? '');
    let h = this.#health.get(name);
    if (!h || h.uid !== node.metadata.uid) {
      // First look: trust the timestamps, but never beyond our own clock.
      const written = Math.max(parseTime(heartbeat) || 0, parseTime(renew) || 0, parseTime(node.metadata.creationTimestamp) || 0);
      h = { uid: node.metadata.uid!, heartbeat, renew, probe: written > 0 ? Math.min(written, now) : now };
      this.#health.set(name, h);
    } else if (h.heartbeat !== heartbeat || h.renew !== renew) {
      h.heartbeat = heartbeat;
      h.renew = renew;
      h.probe = now;
    }
    return h;
  }

  async #markUnknown(node: KObject, now: number): Promise<KObject | undefined> {
    const next = structuredClone(node);
    const status = (next.status ??= {}) as Json;
    const conds = (Array.isArray(status.conditions) ? status.conditions : []) as Json[];
    const at = stamp(now);
    for (const c of conds) {
      if (!MONITORED_CONDITIONS.includes(c.type as string) || c.status === 'Unknown') continue;
      c.status = 'Unknown';
      c.reason = 'NodeStatusUnknown';
      c.message = 'Kubelet stopped posting node status.';
      c.lastTransitionTime = at;
    }
    if (!conds.some((c) => c.type === 'Ready')) {
      conds.push({
        type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: at,
      });
    }
    status.conditions = conds;
    try {
      const updated = await this.#nodeApi!.updateStatus(next, { fieldManager: FIELD_MANAGER });
      this.#recorder!.event(updated, 'Normal', 'NodeNotReady', `Node ${node.metadata.name} status is now: NodeNotReady`);
      return updated;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err; // a conflict: the kubelet may just have reported; look again
    }
  }

  async #reconcileTaints(node: KObject, now: number): Promise<KObject | undefined> {
    const taints = taintsOf(node);
    const ready = readyCondition(node)?.status as string | undefined;
    const want = withConditionTaints(taints, ready, stamp(now));
    if (JSON.stringify(want) === JSON.stringify(taints)) return node;
    const next = structuredClone(node);
    const spec = (next.spec ??= {}) as Json;
    if (want.length) spec.taints = want; else delete spec.taints;
    try {
      return await this.#nodeApi!.update(next, { fieldManager: FIELD_MANAGER });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #markPodsNotReady(node: KObject, now: number, errors: unknown[]): Promise<void> {
    for (const pod of this.#pods!.byIndex(NODE_INDEX, node.metadata.name!)) {
      const conds = (pod.status as Json | undefined)?.conditions;
      if (!Array.isArray(conds) || !(conds as Json[]).some((c) => c.type === 'Ready' && c.status !== 'False')) continue;
      const next = structuredClone(pod);
      for (const c of (next.status as Json).conditions as Json[]) {
        if (c.type !== 'Ready' || c.status === 'False') continue;
        c.status = 'False';
        c.lastTransitionTime = stamp(now);
      }
      try {
        await this.#podApi!.updateStatus(next, { fieldManager: FIELD_MANAGER });
        this.#recorder!.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!isNotFound(err)) errors.push(err);
      }
    }
  }

  async #evict(node: KObject, now: number, errors: unknown[]): Promise<void> {
    const name = node.metadata.name!;
    const noExecute = taintsOf(node).filter((t) => t.effect === 'NoExecute');
    // Forget first-seen times of taints that are gone.
    for (const k of this.#taintSeen.keys()) {
      if (k.startsWith(`${name}\x00`) && !noExecute.some((t) => k === `${name}\x00${t.key}\x00${t.effect}`)) this.#taintSeen.delete(k);
    }
    if (noExecute.length === 0) return;
    const addedAt = (t: Taint): number => {
      const at = parseTime(t.timeAdded);
      if (!Number.isNaN(at)) return at;
      const k = `${name}\x00${t.key}\x00${t.effect}`;
      if (!this.#taintSeen.has(k)) this.#taintSeen.set(k, now);
      return this.#taintSeen.get(k)!;
    };
    let next = Infinity;
    for (const pod of this.#pods!.byIndex(NODE_INDEX, name)) {
      if (pod.metadata.deletionTimestamp) continue;
      const deadline = evictionDeadline(tolerationsOf(pod), noExecute, addedAt);
      if (deadline === undefined) continue;
      if (deadline > now) { next = Math.min(next, deadline); continue; }
      try {
        await this.#podApi!.delete(pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
        this.#recorder!.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`);
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) errors.push(err);
      }
    }
    // Come back when the next toleration runs out (the timer also checks, for injected clocks).
    if (next !== Infinity) this.#queue!.addAfter(name, Math.max(10, Math.min(next - now, 2 ** 31 - 1)));
  }
}
