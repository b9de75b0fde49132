// The replica calculation for Resource metrics, as Kubernetes' replica_calculator.go does it:
// pods grouped into ready / unready / missing-metrics / ignored, the usage ratio against the
// target, a 10% tolerance, and the conservative fill-in for missing and unready pods (missing
// ones count as at target when scaling down and as idle when scaling up; unready ones as idle
// when scaling up), never scaling in the direction the fill-in reverses.
import type { KObject } from '../../api/object.ts';
import { obj, objs, str } from '../../api/kinds/access.ts';
import { parseQuantity } from '../../api/validation/quantity.ts';

/** CPU of a pod that started less than this long ago is only trusted once it has been Ready for a whole metric window. */
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** After initialization, a pod is unready if it never became Ready within this long of starting. */
export const INITIAL_READINESS_DELAY_MS = 30_000;
export const DEFAULT_TOLERANCE = 0.1;

/** One pod's usage: the sum over its containers (cores or bytes). */
export interface PodUsage {
  value: number;
  timestampMs: number;
  windowMs: number;
}

export interface ResourceReplicaInput {
  currentReplicas: number;
  /** The target's pods (selected by its scale selector). */
  pods: KObject[];
  /** Usage by pod name. */
  usage: Map<string, PodUsage>;
  resource: string;
  /** Utilization target in percent of the request, or an average value per pod (cores or bytes). */
  target: { utilization: number } | { averageValue: number };
  tolerance?: number;
  now: number;
}

export interface ReplicaResult {
  replicas: number;
  /** Percent of requests (Utilization targets). */
  utilization?: number;
  /** Average usage per pod with metrics, in cores or bytes. */
  averageValue: number;
  /** Oldest sample used. */
  timestampMs: number;
}

export class MetricsError extends Error {}

const ts = (v: unknown): number => (typeof v === 'string' ? Date.parse(v) : NaN);

function readyCondition(pod: KObject): { status: string; lastTransitionMs: number } | undefined {
  const c = objs(obj(pod.status).conditions).find((x) => x.type === 'Ready');
  return c && { status: str(c.status), lastTransitionMs: ts(c.lastTransitionTime) };
}

interface Groups { ready: number; unready: Set<string>; missing: Set<string>; ignored: Set<string> }

export function groupPods(pods: KObject[], usage: Map<string, PodUsage>, resource: string, now: number): Groups {
  const g: Groups = { ready: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata.name!;
    const phase = str(obj(pod.status).phase);
    if (pod.metadata.deletionTimestamp || phase === 'Failed') { g.ignored.add(name); continue; }
    if (phase === 'Pending') { g.unready.add(name); continue; }
    const metric = usage.get(name);
    if (!metric) { g.missing.add(name); continue; }
    if (resource === 'cpu') {
      const cond = readyCondition(pod);
      const start = ts(obj(pod.status).startTime);
      let unready: boolean;
      if (!cond || Number.isNaN(start)) {
        unready = true;
      } else if (start + CPU_INITIALIZATION_PERIOD_MS > now) {
        // Still initializing: trust only samples taken a whole window after it became Ready.
        unready = cond.status === 'False' || metric.timestampMs < cond.lastTransitionMs + metric.windowMs;
      } else {
        unready = cond.status === 'False' && start + INITIAL_READINESS_DELAY_MS > cond.lastTransitionMs;
      }
      if (unready) { g.unready.add(name); continue; }
    }
    g.ready++;
  }
  return g;
}

/** Sum of the containers' requests for `resource` per pod; throws when a container has none (Utilization needs them). */
export function podRequests(pods: KObject[], resource: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of objs(obj(pod.spec).containers)) {
      const q = obj(obj(c.resources).requests)[resource];
      if (q === undefined) throw new MetricsError(`missing request for ${resource} in container ${str(c.name)} of Pod ${pod.metadata.name}`);
      sum += parseQuantity(q as string);
    }
    out.set(pod.metadata.name!, sum);
  }
  return out;
}

/** (usage ratio, utilization %) over the pods that have both a metric and a request. */
function utilizationRatio(metrics: Map<string, number>, requests: Map<string, number>, target: number): { ratio: number; utilization: number; raw: number } {
  let used = 0;
  let requested = 0;
  let n = 0;
  for (const [pod, v] of metrics) {
    const r = requests.get(pod);
    if (r === undefined) continue;
    used += v; requested += r; n++;
  }
  if (requested === 0) throw new MetricsError('no metrics returned matched known pods');
  // Kubernetes computes in milli-units with integer division.
  const utilization = Math.trunc((Math.round(used * 1000) * 100) / Math.round(requested * 1000));
  return { ratio: utilization / target, utilization, raw: used / n };
}

function averageRatio(metrics: Map<string, number>, target: number): { ratio: number; raw: number } {
  let used = 0;
  for (const v of metrics.values()) used += v;
  const raw = used / metrics.size;
  return { ratio: raw / target, raw };
}

export function resourceReplicas(input: ResourceReplicaInput): ReplicaResult {
  const { currentReplicas, pods, resource, target, now } = input;
  const tolerance = input.tolerance ?? DEFAULT_TOLERANCE;
  if (input.usage.size === 0) throw new MetricsError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
  if (pods.length === 0) throw new MetricsError('no pods returned by selector while calculating replica count');
  const g = groupPods(pods, input.usage, resource, now);
  const metrics = new Map<string, number>();
  let timestampMs = Infinity;
  for (const pod of pods) {
    const name = pod.metadata.name!;
    const u = input.usage.get(name);
    if (!u || g.ignored.has(name) || g.unready.has(name)) continue;
    metrics.set(name, u.value);
    timestampMs = Math.min(timestampMs, u.timestampMs);
  }
  if (metrics.size === 0) throw new MetricsError('did not receive metrics for targeted pods (pods might be unready)');

  const utilizationTarget = 'utilization' in target ? target.utilization : undefined;
  const requests = utilizationTarget !== undefined ? podRequests(pods, resource) : undefined;
  const measure = (m: Map<string, number>) => (utilizationTarget !== undefined
    ? utilizationRatio(m, requests!, utilizationTarget)
    : { ...averageRatio(m, (target as { averageValue: number }).averageValue), utilization: undefined });
  const first = measure(metrics);
  const result = (replicas: number): ReplicaResult => ({ replicas, utilization: first.utilization, averageValue: first.raw, timestampMs });

  const scaleUpWithUnready = g.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= tolerance) return result(currentReplicas);
    return result(Math.ceil(first.ratio * g.ready));
  }
  // Fill in the pods we know nothing trustworthy about, in the direction that damps the change.
  for (const name of g.missing) {
    if (first.ratio < 1) {
      metrics.set(name, utilizationTarget !== undefined
        ? (requests!.get(name) ?? 0) * Math.max(100, utilizationTarget) / 100
        : (target as { averageValue: number }).averageValue);
    } else {
      metrics.set(name, 0);
    }
  }
  if (scaleUpWithUnready) for (const name of g.unready) metrics.set(name, 0);
  const second = measure(metrics);
  if (Math.abs(1 - second.ratio) <= tolerance || (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1)) {
    return result(currentReplicas);
  }
  const replicas = Math.ceil(second.ratio * metrics.size);
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas)) return result(currentReplicas);
  return result(replicas);
}
