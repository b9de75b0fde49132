// The HorizontalPodAutoscaler controller (autoscaling/v2, Resource metrics: cpu and memory,
// Utilization and AverageValue): every HPA is synced when it changes and every 15 s; a sync
// reads the target's /scale, its pods (shared informer) and their usage (the API server's
// metrics source, in-process), computes the replicas (replicas.ts), stabilizes and limits them
// (normalize.ts), rescales through /scale and writes status: currentReplicas,
// desiredReplicas, currentMetrics, lastScaleTime and the AbleToScale, ScalingActive and
// ScalingLimited conditions.
import type { KObject } from '../../api/object.ts';
import { obj, objs, str, type Json } from '../../api/kinds/access.ts';
import { formatDecimalQuantity } from '../../api/quantity-format.ts';
import { parseQuantity } from '../../api/validation/quantity.ts';
import type { ResourceMetricsSource } from '../../apiserver/metrics/types.ts';
import { parseLabelSelector } from '../../apiserver/selectors.ts';
import { byNamespace } from '../../client/cache.ts';
import type { Informer } from '../../client/informer.ts';
import { isConflict, isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { EventRecorder } from '../events.ts';
import { NAMESPACE_INDEX } from '../replicaset/ownership.ts';
import type { Controller, ControllerContext } from '../types.ts';
import { normalize, recordScaleEvent, type Behavior, type Recommendation, type ScaleEvent, type ScalingRules } from './normalize.ts';
import { DEFAULT_TOLERANCE, MetricsError, resourceReplicas, type PodUsage, type ReplicaResult } from './replicas.ts';
import type { ScaleClient, TargetRef } from './scale.ts';

export const DEFAULT_SYNC_PERIOD_MS = 15_000;

export interface HPAOptions {
  /** Where pod usage comes from; without one every HPA reports ScalingActive=False. */
  metrics?: ResourceMetricsSource;
  scale: ScaleClient;
  syncPeriodMs?: number;
  tolerance?: number;
  /** The scale-down stabilization window for HPAs without spec.behavior (default 300 s). */
  downscaleStabilizationMs?: number;
  workers?: number;
}

interface Memory { recommendations: Recommendation[]; up: ScaleEvent[]; down: ScaleEvent[] }
interface Condition { type: string; status: 'True' | 'False'; reason: string; message: string }

const key = (o: KObject) => `${o.metadata.namespace}/${o.metadata.name}`;
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function behaviorOf(spec: Json): Behavior | undefined {
  if (!spec.behavior) return undefined;
  const rules = (r: unknown): ScalingRules => {
    const o = obj(r);
    return {
      stabilizationWindowSeconds: typeof o.stabilizationWindowSeconds === 'number' ? o.stabilizationWindowSeconds : 0,
      selectPolicy: (str(o.selectPolicy) || 'Max') as ScalingRules['selectPolicy'],
      policies: objs(o.policies).map((p) => ({ type: str(p.type) as 'Pods' | 'Percent', value: Number(p.value), periodSeconds: Number(p.periodSeconds) })),
    };
  };
  const b = obj(spec.behavior);
  return { scaleUp: rules(b.scaleUp), scaleDown: rules(b.scaleDown) };
}

/** "cpu resource utilization (percentage of request)" / "memory resource": how Kubernetes names a metric in messages. */
function metricName(resource: string, utilization: boolean): string {
  return utilization ? `${resource} resource utilization (percentage of request)` : `${resource} resource`;
}

export class HorizontalPodAutoscalerController implements Controller {
  readonly name = 'horizontal-pod-autoscaler';
  readonly #o: HPAOptions;
  readonly #queue: WorkQueue;
  readonly #memory = new Map<string, Memory>();
  #ctx!: ControllerContext;
  #hpas!: Informer;
  #pods!: Informer;
  #hpaApi!: ResourceInterface;
  #recorder!: EventRecorder;
  #stopped = false;

  constructor(opts: HPAOptions) {
    this.#o = opts;
    this.#queue = new WorkQueue((k) => this.#syncAndRequeue(k), {
      concurrency: opts.workers ?? 3,
      onError: (k, err) => this.#ctx?.log.warn('horizontal-pod-autoscaler sync failed', { hpa: k, error: String(err) }),
    });
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#recorder = ctx.recorder('horizontal-pod-autoscaler');
    this.#hpaApi = ctx.api.resource('autoscaling', 'v2', 'horizontalpodautoscalers');
    this.#hpas = ctx.informers.informer('autoscaling', 'v2', 'horizontalpodautoscalers');
    this.#pods = ctx.informers.informer('', 'v1', 'pods', { indexers: { [NAMESPACE_INDEX]: byNamespace } });
    this.#hpas.addEventHandler({
      onAdd: (h) => this.#queue.add(key(h)),
      // Our own status writes come back as updates; only spec changes need a sync before the period.
      onUpdate: (old, h) => { if (old.metadata.generation !== h.metadata.generation) this.#queue.add(key(h)); },
      onDelete: (h) => this.#memory.delete(key(h)),
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#queue.stop();
  }

  async #syncAndRequeue(k: string): Promise<void> {
    try {
      await this.sync(k);
    } finally {
      if (!this.#stopped && this.#hpas.get(k)) this.#queue.addAfter(k, this.#o.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS);
    }
  }

  async sync(k: string): Promise<void> {
    const hpa = this.#hpas.get(k);
    if (!hpa) { this.#memory.delete(k); return; }
    const now = this.#ctx.now();
    const ns = hpa.metadata.namespace!;
    const spec = obj(hpa.spec);
    const status = obj(hpa.status);
    const ref = obj(spec.scaleTargetRef) as unknown as TargetRef;
    const reference = `${ref.kind}/${ref.name}`;
    const minReplicas = typeof spec.minReplicas === 'number' ? spec.minReplicas : 1;
    const maxReplicas = Number(spec.maxReplicas);
    const conditions: Condition[] = [];
    const next: Json = { ...status, observedGeneration: hpa.metadata.generation };

    let scale;
    try {
      scale = await this.#o.scale.get(ns, ref);
    } catch (err) {
      const message = `the HPA controller was unable to get the target's current scale: ${(err as Error).message}`;
      this.#recorder.event(hpa, 'Warning', 'FailedGetScale', (err as Error).message);
      conditions.push({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message });
      return this.#writeStatus(hpa, { ...next, desiredReplicas: status.desiredReplicas ?? 0, currentReplicas: status.currentReplicas ?? 0 }, conditions, now);
    }
    conditions.push({ type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: 'the HPA controller was able to get the target\'s current scale' });
    const current = scale.replicas;
    next.currentReplicas = scale.statusReplicas;

    let desired: number;
    let rescaleReason = '';
    const memory = this.#memory.get(k) ?? { recommendations: [], up: [], down: [] };
    this.#memory.set(k, memory);
    if (current === 0 && minReplicas !== 0) {
      desired = 0;
      conditions.push({ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
    } else if (current > maxReplicas) {
      desired = maxReplicas; rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
    } else if (current < minReplicas) {
      desired = minReplicas; rescaleReason = 'Current number of replicas below Spec.MinReplicas';
    } else {
      const computed = await this.#computeReplicas(hpa, ns, scale.selector, current, now);
      next.currentMetrics = computed.currentMetrics;
      if (computed.error) {
        conditions.push({ type: 'ScalingActive', status: 'False', reason: computed.error.reason, message: computed.error.message });
        this.#recorder.event(hpa, 'Warning', computed.error.reason, computed.error.message);
        // Without a trustworthy proposal, keep the current size.
        return this.#writeStatus(hpa, { ...next, desiredReplicas: current }, conditions, now);
      }
      conditions.push({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${computed.metricName}` });
      const n = normalize({
        currentReplicas: current, proposed: computed.replicas, minReplicas, maxReplicas, now,
        recommendations: memory.recommendations, scaleUpEvents: memory.up, scaleDownEvents: memory.down,
        behavior: behaviorOf(spec), downscaleStabilizationMs: this.#o.downscaleStabilizationMs,
      });
      desired = n.replicas;
      conditions[0] = { type: 'AbleToScale', status: 'True', reason: n.ableToScale.reason, message: n.ableToScale.message };
      conditions.push({ type: 'ScalingLimited', status: n.limited.status, reason: n.limited.reason, message: n.limited.message });
      rescaleReason = desired > current ? `${computed.metricName} above target` : 'All metrics below target';
    }

    if (desired !== current) {
      try {
        await this.#o.scale.update(ns, ref, desired);
      } catch (err) {
        this.#recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${rescaleReason}; error: ${(err as Error).message}`);
        conditions[0] = { type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${(err as Error).message}` };
        return this.#writeStatus(hpa, { ...next, desiredReplicas: current }, conditions, now);
      }
      recordScaleEvent(memory.up, memory.down, current, desired, now, behaviorOf(spec));
      this.#recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${rescaleReason}`);
      this.#ctx.log.info('rescaled', { hpa: k, target: reference, from: current, to: desired, reason: rescaleReason });
      conditions[0] = { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desired}` };
      next.lastScaleTime = rfc3339(now);
    }
    return this.#writeStatus(hpa, { ...next, desiredReplicas: desired }, conditions, now);
  }

  /** The largest proposal over the HPA's metrics, the currentMetrics status, or the first error. */
  async #computeReplicas(hpa: KObject, ns: string, selector: string, current: number, now: number): Promise<{
    replicas: number; metricName: string; currentMetrics: Json[]; error?: { reason: string; message: string };
  }> {
    const match = parseLabelSelector(selector);
    const pods = this.#pods.byIndex(NAMESPACE_INDEX, ns).filter((p) => match(p.metadata.labels));
    let podMetrics: Awaited<ReturnType<ResourceMetricsSource['podMetrics']>> = [];
    let fetchError: string | undefined;
    if (!this.#o.metrics) fetchError = 'the resource metrics API is not available';
    else {
      try { podMetrics = await this.#o.metrics.podMetrics(ns); } catch (err) { fetchError = (err as Error).message; }
    }
    const names = new Set(pods.map((p) => p.metadata.name!));
    let best: { replicas: number; name: string } | undefined;
    let firstError: { reason: string; message: string } | undefined;
    const currentMetrics: Json[] = [];
    let invalid = 0;
    for (const m of objs(obj(hpa.spec).metrics)) {
      const type = str(m.type);
      if (type !== 'Resource' && type !== 'ContainerResource') {
        invalid++;
        firstError ??= { reason: `FailedGet${type}Metric`, message: `the HPA was unable to compute the replica count: ${type} metrics are not supported by this cluster (no custom or external metrics API)` };
        continue;
      }
      const src = obj(type === 'Resource' ? m.resource : m.containerResource);
      const resource = str(src.name);
      const container = type === 'ContainerResource' ? str(src.container) : undefined;
      const target = obj(src.target);
      const utilization = str(target.type) === 'Utilization';
      const failReason = type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
      const fail = (msg: string) => {
        invalid++;
        firstError ??= { reason: failReason, message: `the HPA was unable to compute the replica count: failed to get ${resource} ${utilization ? 'utilization' : 'usage'}: ${msg}` };
      };
      if (fetchError) { fail(`unable to get metrics for resource ${resource}: ${fetchError}`); continue; }
      if (resource !== 'cpu' && resource !== 'memory') { fail(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`); continue; }
      const usage = new Map<string, PodUsage>();
      for (const p of podMetrics) {
        if (!names.has(p.pod)) continue;
        const cs = container ? p.containers.filter((c) => c.name === container) : p.containers;
        if (!cs.length) continue;
        const value = cs.reduce((s, c) => s + (resource === 'cpu' ? c.usage.cpuNanoCores / 1e9 : c.usage.memoryBytes), 0);
        usage.set(p.pod, { value, timestampMs: p.timestampMs, windowMs: p.windowMs });
      }
      let r: ReplicaResult;
      try {
        const scoped = container ? pods.map((p) => ({ ...p, spec: { ...obj(p.spec), containers: objs(obj(p.spec).containers).filter((c) => c.name === container) } })) : pods;
        r = resourceReplicas({
          currentReplicas: current, pods: scoped, usage, resource, now, tolerance: this.#o.tolerance ?? DEFAULT_TOLERANCE,
          target: utilization ? { utilization: Number(target.averageUtilization) } : { averageValue: parseQuantity(String(target.averageValue ?? '0')) },
        });
      } catch (err) {
        if (!(err instanceof MetricsError) && !(err instanceof Error)) throw err;
        fail((err as Error).message);
        continue;
      }
      const avg = resource === 'cpu' ? formatDecimalQuantity(r.averageValue * 1000, -3) : formatDecimalQuantity(Math.round(r.averageValue * 1000), -3);
      const cur: Json = { averageValue: avg, ...(r.utilization !== undefined ? { averageUtilization: r.utilization } : {}) };
      currentMetrics.push(type === 'Resource'
        ? { type, resource: { name: resource, current: cur } }
        : { type, containerResource: { name: resource, container, current: cur } });
      const name = metricName(resource, utilization);
      if (!best || r.replicas > best.replicas) best = { replicas: r.replicas, name };
    }
    if (!best) return { replicas: current, metricName: '', currentMetrics, error: firstError };
    // Some metrics failed: never scale down on partial information (Kubernetes does the same).
    if (invalid > 0 && best.replicas < current) return { replicas: current, metricName: best.name, currentMetrics, error: firstError };
    return { replicas: best.replicas, metricName: best.name, currentMetrics };
  }

  async #writeStatus(hpa: KObject, status: Json, conditions: Condition[], now: number): Promise<void> {
    const old = objs(obj(hpa.status).conditions);
    status.conditions = conditions.map((c) => {
      const prev = old.find((o) => o.type === c.type);
      const lastTransitionTime = prev && prev.status === c.status && typeof prev.lastTransitionTime === 'string' ? prev.lastTransitionTime : rfc3339(now);
      return { type: c.type, status: c.status, lastTransitionTime, reason: c.reason, message: c.message };
    });
    if (status.currentMetrics === undefined || (Array.isArray(status.currentMetrics) && status.currentMetrics.length === 0)) delete status.currentMetrics;
    if (JSON.stringify(status) === JSON.stringify(hpa.status)) return;
    try {
      await this.#hpaApi.updateStatus({ ...hpa, status });
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) { this.#queue.addAfter(key(hpa), 100); return; }
      throw err;
    }
  }
}
