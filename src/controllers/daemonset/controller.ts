// The DaemonSet controller: one daemon pod on every eligible node.
//
// sync(namespace/name):
//   1. find or create the ControllerRevision for the current template (its hash labels new pods);
//   2. claim pods (adopt matching orphans, release mismatched), group them by target node;
//   3. unless earlier creations/deletions are still unseen (expectations): create a pod on
//      each eligible node that has none, delete pods on nodes that stopped being eligible or
//      are gone, delete failed pods and duplicates;
//   4. RollingUpdate: delete old-revision pods, at most maxUnavailable nodes down at a time
//      (step 3 of a later sync puts new pods in their place); OnDelete: nothing;
//   5. drop revisions beyond revisionHistoryLimit, write status.
// Pods are pinned with required node affinity `metadata.name In [node]` and left for the
// scheduler to bind, as Kubernetes does.
import type { KObject } from '../../api/object.ts';
import { jsonEqual } from '../../api/kinds/access.ts';
import { isEmptySelector, percentValue, selectorMatches, type LabelSelector } from '../../api/validation/index.ts';
import { objectKey } from '../../client/cache.ts';
import type { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { isNotFound, type ResourceInterface } from '../../client/types.ts';
import type { EventRecorder } from '../events.ts';
import { logSyncError, type Controller, type ControllerContext } from '../types.ts';
import { POD_INDEXERS, claimPods } from '../history/claim.ts';
import { writeStatus } from '../history/status.ts';
import { byAge, isFinished, isPodAvailable, isPodReady, isTerminating, msUntilAvailable, podPhase } from '../history/pods.ts';
import {
  CONTROLLER_UID_INDEX, REVISION_HASH_LABEL, byControllerUid, controllerRefOf, controllerRefTo, ensureRevision, truncateHistory,
} from '../history/revision.ts';
import { newDaemonPod, placement, targetNodeName, type Placement } from './eligibility.ts';
import { Expectations } from './expectations.ts';

const COMPONENT = 'daemonset-controller';
const FIELD_MANAGER = 'skiff-daemonset-controller';
/** Kubernetes' deprecated label with the template generation, still set on daemon pods. */
const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
/** Creations go out in doubling batches, so a failing create costs one call, not hundreds. */
const SLOW_START_INITIAL_BATCH = 1;

type Json = Record<string, unknown>;

interface DaemonSetSpec {
  selector?: LabelSelector;
  template?: Json;
  updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
}

interface DaemonSetStatus {
  currentNumberScheduled: number;
  numberMisscheduled: number;
  desiredNumberScheduled: number;
  numberReady: number;
  observedGeneration?: number;
  updatedNumberScheduled: number;
  numberAvailable: number;
  numberUnavailable: number;
  collisionCount?: number;
  conditions?: unknown[];
}

export interface DaemonSetControllerOptions {
  /** Workers syncing different DaemonSets at once (default 2). */
  concurrency?: number;
}

/** maxUnavailable as a count of nodes: an int, or a percentage of desired rounded up; at least 1. */
export function resolveMaxUnavailable(value: number | string | undefined, desired: number): number {
  if (value === undefined) return 1;
  const pct = percentValue(value);
  const n = pct !== undefined ? Math.ceil((pct * desired) / 100) : typeof value === 'number' ? value : Number.parseInt(String(value), 10) || 0;
  // Surge is not implemented: a zero budget would never make progress, so one node at a time.
  return Math.max(1, n);
}

export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  readonly #opts: DaemonSetControllerOptions;
  #ctx?: ControllerContext;
  #queue?: WorkQueue;
  #recorder?: EventRecorder;
  #expectations = new Expectations();
  #daemonSets?: Informer;
  #pods?: Informer;
  #nodes?: Informer;
  #revisions?: Informer;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(opts: DaemonSetControllerOptions = {}) {
    this.#opts = opts;
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#recorder = ctx.recorder(COMPONENT);
    this.#expectations = new Expectations(ctx.now);
    this.#queue = new WorkQueue((key) => this.sync(key), {
      concurrency: this.#opts.concurrency ?? 2,
      onError: logSyncError(ctx.log, 'daemonset sync failed', 'daemonset'),
    });
    this.#daemonSets = ctx.informers.informer('apps', 'v1', 'daemonsets');
    this.#pods = ctx.informers.informer('', 'v1', 'pods', { indexers: POD_INDEXERS });
    this.#nodes = ctx.informers.informer('', 'v1', 'nodes');
    this.#revisions = ctx.informers.informer('apps', 'v1', 'controllerrevisions', { indexers: { [CONTROLLER_UID_INDEX]: byControllerUid } });

    this.#unsubscribe.push(this.#daemonSets.addEventHandler({
      onAdd: (ds) => this.#enqueue(ds),
      onUpdate: (_old, ds) => this.#enqueue(ds),
      onDelete: (ds) => { this.#expectations.forget(objectKey(ds)); this.#enqueue(ds); },
    }));
    this.#unsubscribe.push(this.#pods.addEventHandler({
      onAdd: (pod) => {
        const key = this.#ownerKey(pod);
        if (!key) { this.#enqueueSelecting(pod); return; }
        if (isTerminating(pod)) this.#expectations.deletionObserved(key, pod.metadata.uid!);
        else this.#expectations.creationObserved(key);
        this.#queue!.add(key);
      },
      onUpdate: (old, pod) => {
        const key = this.#ownerKey(pod);
        const oldKey = this.#ownerKey(old);
        if (oldKey && oldKey !== key) this.#queue!.add(oldKey);
        if (!key) { if (!jsonEqual(old.metadata.labels, pod.metadata.labels)) this.#enqueueSelecting(pod); return; }
        if (isTerminating(pod) && !isTerminating(old)) this.#expectations.deletionObserved(key, pod.metadata.uid!);
        this.#queue!.add(key);
      },
      onDelete: (pod) => {
        const key = this.#ownerKey(pod);
        if (!key) return;
        this.#expectations.deletionObserved(key, pod.metadata.uid!);
        this.#queue!.add(key);
      },
    }));
    this.#unsubscribe.push(this.#nodes.addEventHandler({
      onAdd: () => this.#enqueueAll(),
      onUpdate: (old, node) => { if (nodeChangeMatters(old, node)) this.#enqueueAll(); },
      onDelete: () => this.#enqueueAll(),
    }));
    this.#unsubscribe.push(this.#revisions.addEventHandler({
      onDelete: (rev) => { const key = this.#ownerKey(rev); if (key) this.#queue!.add(key); },
    }));
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#queue?.stop();
  }

  /** True when no sync is queued or running (for tests). */
  get idle(): boolean {
    return this.#queue?.idle ?? true;
  }

  #enqueue(ds: KObject): void {
    this.#queue!.add(objectKey(ds));
  }

  #enqueueAll(): void {
    for (const key of this.#daemonSets!.keys()) this.#queue!.add(key);
  }

  /** An orphan pod: every DaemonSet in its namespace whose selector matches may adopt it. */
  #enqueueSelecting(pod: KObject): void {
    if (isTerminating(pod)) return;
    for (const ds of this.#daemonSets!.list()) {
      if (ds.metadata.namespace !== pod.metadata.namespace) continue;
      const selector = ((ds.spec ?? {}) as DaemonSetSpec).selector;
      if (selector && !isEmptySelector(selector) && selectorMatches(selector, pod.metadata.labels)) this.#queue!.add(objectKey(ds));
    }
  }

  /** The key of the DaemonSet controlling an object, if the cache still has that DaemonSet. */
  #ownerKey(obj: KObject): string | undefined {
    const ref = controllerRefOf(obj);
    if (!ref || ref.kind !== 'DaemonSet') return undefined;
    const key = `${obj.metadata.namespace}/${ref.name}`;
    const ds = this.#daemonSets!.get(key);
    return ds && ds.metadata.uid === ref.uid ? key : undefined;
  }

  // ---- sync -----------------------------------------------------------------------------

  async sync(key: string): Promise<void> {
    const ctx = this.#ctx!;
    const cached = this.#daemonSets!.get(key);
    if (!cached) { this.#expectations.forget(key); return; }
    if (cached.metadata.deletionTimestamp) return; // the garbage collector takes the pods
    const ds = cached;
    const spec = (ds.spec ?? {}) as DaemonSetSpec;
    if (!spec.selector || isEmptySelector(spec.selector)) {
      this.#recorder!.event(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }

    const revApi = ctx.api.resource('apps', 'v1', 'controllerrevisions');
    const podApi = ctx.api.resource('', 'v1', 'pods');
    const revisions = this.#revisions!.byIndex(CONTROLLER_UID_INDEX, ds.metadata.uid!);
    const oldStatus = (ds.status ?? {}) as Partial<DaemonSetStatus>;
    const { revision, collisionCount } = await ensureRevision(revApi, ds, revisions, oldStatus.collisionCount ?? 0);
    const hash = revision.metadata.labels?.[REVISION_HASH_LABEL] ?? '';

    const pods = await claimPods(podApi, this.#pods!, ds, spec.selector);
    const nodes = [...this.#nodes!.list()].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
    const byNode = podsByNode(pods);
    const placements = new Map(nodes.map((n) => [n.metadata.name!, placement(spec.template, n)]));

    if (this.#expectations.satisfied(key)) {
      await this.#manage(ds, key, nodes, placements, byNode, hash, podApi);
      if (this.#expectations.satisfied(key) && (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
        await this.#rollingUpdate(ds, key, nodes, placements, byNode, hash, podApi);
      }
    }

    const live = new Set<string>([revision.metadata.name!]);
    const hashes = new Set(pods.map((p) => p.metadata.labels?.[REVISION_HASH_LABEL]).filter(Boolean));
    for (const r of revisions) if (hashes.has(r.metadata.labels?.[REVISION_HASH_LABEL])) live.add(r.metadata.name!);
    await truncateHistory(revApi, revisions, live, spec.revisionHistoryLimit ?? 10);

    await this.#updateStatus(key, ds, nodes, placements, byNode, hash, collisionCount);
  }

  /** Step 3: the right number of pods on the right nodes. */
  async #manage(
    ds: KObject, key: string, nodes: KObject[], placements: Map<string, Placement>,
    byNode: Map<string, KObject[]>, hash: string, podApi: ResourceInterface,
  ): Promise<void> {
    const toCreate: string[] = [];
    const toDelete: { pod: KObject; force: boolean }[] = [];
    for (const node of nodes) {
      const name = node.metadata.name!;
      const { shouldRun, shouldContinueRunning } = placements.get(name)!;
      const pods = byNode.get(name) ?? [];
      if (shouldRun && pods.length === 0) {
        toCreate.push(name);
      } else if (shouldContinueRunning) {
        const running: KObject[] = [];
        for (const pod of pods) {
          if (isTerminating(pod)) continue;
          if (isFinished(pod)) {
            if (podPhase(pod) === 'Failed') {
              this.#recorder!.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${name}, will try to kill it`);
            }
            toDelete.push({ pod, force: false });
          } else {
            running.push(pod);
          }
        }
        // More than one: keep the oldest (a new one takes its place on a later sync if it is stale).
        running.sort(byAge);
        for (const pod of running.slice(1)) toDelete.push({ pod, force: false });
      } else {
        for (const pod of pods) if (!isTerminating(pod)) toDelete.push({ pod, force: false });
      }
    }
    // Pods for nodes that no longer exist (or were never pinned): no agent will finish a
    // graceful deletion there, so they go at once, as the pod garbage collector would.
    const known = new Set(nodes.map((n) => n.metadata.name!));
    for (const [nodeName, pods] of byNode) {
      if (known.has(nodeName)) continue;
      for (const pod of pods) if (!isTerminating(pod)) toDelete.push({ pod, force: true });
    }
    await this.#syncNodes(ds, key, toCreate, toDelete, hash, podApi);
  }

  /** Step 4: replace old-revision pods, keeping at most maxUnavailable nodes without an available pod. */
  async #rollingUpdate(
    ds: KObject, key: string, nodes: KObject[], placements: Map<string, Placement>,
    byNode: Map<string, KObject[]>, hash: string, podApi: ResourceInterface,
  ): Promise<void> {
    const spec = (ds.spec ?? {}) as DaemonSetSpec;
    const now = this.#ctx!.now();
    const minReady = spec.minReadySeconds ?? 0;
    const eligible = nodes.filter((n) => placements.get(n.metadata.name!)!.shouldRun);
    const maxUnavailable = resolveMaxUnavailable(spec.updateStrategy?.rollingUpdate?.maxUnavailable, eligible.length);
    let unavailable = 0;
    const replaceNow: KObject[] = [];
    const candidates: KObject[] = [];
    for (const node of eligible) {
      const pods = (byNode.get(node.metadata.name!) ?? []).filter((p) => !isTerminating(p));
      const fresh = pods.filter((p) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash);
      const old = pods.filter((p) => p.metadata.labels?.[REVISION_HASH_LABEL] !== hash);
      if (pods.length !== 1) { unavailable++; continue; } // none yet, or duplicates step 3 resolves
      if (fresh.length === 1) {
        if (!isPodAvailable(fresh[0]!, minReady, now)) unavailable++;
        continue;
      }
      const pod = old[0]!;
      if (!isPodAvailable(pod, minReady, now)) replaceNow.push(pod); // already down: replacing costs nothing
      else candidates.push(pod);
    }
    const budget = Math.max(0, maxUnavailable - unavailable - replaceNow.length);
    const doomed = [...replaceNow, ...candidates.slice(0, budget)];
    if (doomed.length === 0) return;
    await this.#syncNodes(ds, key, [], doomed.map((pod) => ({ pod, force: false })), hash, podApi);
  }

  async #syncNodes(
    ds: KObject, key: string, toCreate: string[], toDelete: { pod: KObject; force: boolean }[], hash: string, podApi: ResourceInterface,
  ): Promise<void> {
    if (toCreate.length === 0 && toDelete.length === 0) return;
    this.#expectations.expect(key, toCreate.length, toDelete.map((d) => d.pod.metadata.uid!));
    const errors: unknown[] = [];
    const template = ((ds.spec ?? {}) as DaemonSetSpec).template ?? {};
    const labels: Record<string, string> = { [REVISION_HASH_LABEL]: hash };
    if (ds.metadata.generation !== undefined) labels[TEMPLATE_GENERATION_LABEL] = String(ds.metadata.generation);
    const ownerRefs = [controllerRefTo(ds)];

    let next = 0;
    for (let batch = SLOW_START_INITIAL_BATCH; next < toCreate.length; batch *= 2) {
      const nodes = toCreate.slice(next, next + batch);
      next += nodes.length;
      const results = await Promise.allSettled(nodes.map(async (nodeName) => {
        const pod = newDaemonPod(ds, template, nodeName, labels, ownerRefs);
        try {
          const created = await podApi.create(pod, { fieldManager: FIELD_MANAGER });
          this.#recorder!.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
        } catch (err) {
          this.#expectations.creationObserved(key);
          this.#recorder!.event(ds, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
          throw err;
        }
      }));
      const failed = results.filter((r) => r.status === 'rejected');
      if (failed.length) {
        errors.push(...failed.map((r) => (r as PromiseRejectedResult).reason));
        // Skip the rest: they would most likely fail the same way.
        for (let i = next; i < toCreate.length; i++) this.#expectations.creationObserved(key);
        break;
      }
    }

    await Promise.all(toDelete.map(async ({ pod, force }) => {
      try {
        await podApi.delete(pod.metadata.namespace, pod.metadata.name!, {
          preconditions: { uid: pod.metadata.uid }, ...(force ? { gracePeriodSeconds: 0 } : {}),
        });
        this.#recorder!.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (err) {
        this.#expectations.deletionObserved(key, pod.metadata.uid!);
        if (isNotFound(err)) return;
        this.#recorder!.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
        errors.push(err);
      }
    }));
    if (errors.length) throw errors[0];
  }

  async #updateStatus(
    key: string, ds: KObject, nodes: KObject[], placements: Map<string, Placement>,
    byNode: Map<string, KObject[]>, hash: string, collisionCount: number,
  ): Promise<void> {
    const spec = (ds.spec ?? {}) as DaemonSetSpec;
    const now = this.#ctx!.now();
    const minReady = spec.minReadySeconds ?? 0;
    let desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
    let recheckMs: number | undefined;
    for (const node of nodes) {
      const name = node.metadata.name!;
      const pods = (byNode.get(name) ?? []).filter((p) => !(isTerminating(p) && isFinished(p))).sort(byAge);
      if (!placements.get(name)!.shouldRun) {
        if (pods.length) misscheduled++;
        continue;
      }
      desired++;
      const pod = pods[0];
      if (!pod) continue;
      current++;
      if (isPodReady(pod)) {
        ready++;
        const wait = msUntilAvailable(pod, minReady, now);
        if (wait === 0) available++;
        else if (wait !== undefined) recheckMs = Math.min(recheckMs ?? wait, wait);
      }
      if (pod.metadata.labels?.[REVISION_HASH_LABEL] === hash) updated++;
    }
    if (recheckMs !== undefined) this.#queue!.addAfter(key, recheckMs + 10);

    const old = (ds.status ?? {}) as Partial<DaemonSetStatus>;
    const status: DaemonSetStatus = {
      ...old,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
    };
    if (collisionCount) status.collisionCount = collisionCount;
    await writeStatus(this.#ctx!.api.resource('apps', 'v1', 'daemonsets'), ds, status as unknown as Json, FIELD_MANAGER);
  }
}

/** Pods by the node they run on or are pinned to ('' for neither). */
function podsByNode(pods: KObject[]): Map<string, KObject[]> {
  const out = new Map<string, KObject[]>();
  for (const pod of pods) {
    const node = targetNodeName(pod) ?? '';
    const list = out.get(node);
    if (list) list.push(pod); else out.set(node, [pod]);
  }
  return out;
}

/** Labels, taints and deletion decide eligibility; heartbeats and conditions do not. */
function nodeChangeMatters(old: KObject, node: KObject): boolean {
  return !jsonEqual(old.metadata.labels, node.metadata.labels)
    || !jsonEqual((old.spec as Json | undefined)?.taints, (node.spec as Json | undefined)?.taints)
    || Boolean(old.metadata.deletionTimestamp) !== Boolean(node.metadata.deletionTimestamp);
}
