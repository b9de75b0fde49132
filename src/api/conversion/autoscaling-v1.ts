// HorizontalPodAutoscaler autoscaling/v1 ⇄ autoscaling/v2 (the storage version), as
// Kubernetes converts them (pkg/apis/autoscaling/v1/conversion.go):
//   - v1 spec.targetCPUUtilizationPercentage is the first Resource "cpu" metric with a
//     Utilization target; every other v2 metric travels in the
//     autoscaling.alpha.kubernetes.io/metrics annotation, written in v1's metric shape
//     (targetAverageValue, metricName...), and comes back ahead of the cpu metric.
//   - v1 status.currentCPUUtilizationPercentage comes from the cpu current metric; the
//     full status.currentMetrics and status.conditions travel in the current-metrics and
//     conditions annotations, spec.behavior in the behavior annotation (written, as
//     upstream writes it, with Go field names: {"ScaleUp":{"StabilizationWindowSeconds":…}}).
//   - A v1 object with neither a cpu target nor other metrics gets the cpu 80% metric.
//   - Those four annotations are dropped before writing them anew (v2 → v1) and after
//     reading them (v1 → v2), so they never reach storage. Unreadable ones are ignored.
// One deliberate difference: where v1's Go types hold a quantity by value
// (ObjectMetricSource.targetValue, ResourceMetricStatus.currentAverageValue...) upstream
// writes "0" for a value v2 does not have, and reads it back as a "0" value. Here an
// absent value stays absent both ways, so v2 → v1 → v2 gives back what was stored.
// Both functions are pure: they copy, never change, their argument.
import type { KObject } from '../object.ts';
import { isPlainObject } from '../object.ts';

type Json = Record<string, unknown>;

export const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
const ROUND_TRIP = [METRICS_ANNOTATION, BEHAVIOR_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION];

/** autoscaling.DefaultCPUUtilization: the target of a v1 HPA that sets none. */
const DEFAULT_CPU_UTILIZATION = 80;

const o = (v: unknown): Json => (isPlainObject(v) ? v : {});
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);
const present = (v: unknown): boolean => v !== undefined && v !== null;

/** An object of the given keys in order, leaving out absent values (Go's omitempty on pointers). */
function pick(entries: [string, unknown][]): Json {
  const out: Json = {};
  for (const [k, v] of entries) if (present(v)) out[k] = v;
  return out;
}

function parseAnnotation(v: string | undefined): unknown {
  if (v === undefined) return undefined;
  try { return JSON.parse(v); } catch { return undefined; }
}

const isCpuResource = (m: Json): boolean => m.type === 'Resource' && isPlainObject(m.resource) && m.resource.name === 'cpu';

// ---- v2 → v1 --------------------------------------------------------------------------

const refV1 = (ref: unknown): Json | undefined => (present(ref) ? pick([['kind', o(ref).kind], ['name', o(ref).name], ['apiVersion', o(ref).apiVersion]]) : undefined);

function metricSpecToV1(m: Json): Json {
  const out = pick([['type', m.type]]);
  const t = (s: Json): Json => o(s.target);
  const id = (s: Json): Json => o(s.metric);
  if (present(m.object)) {
    const s = o(m.object);
    out.object = pick([['target', refV1(s.describedObject)], ['metricName', id(s).name], ['targetValue', t(s).value], ['selector', id(s).selector], ['averageValue', t(s).averageValue]]);
  }
  if (present(m.pods)) {
    const s = o(m.pods);
    out.pods = pick([['metricName', id(s).name], ['targetAverageValue', t(s).averageValue], ['selector', id(s).selector]]);
  }
  if (present(m.resource)) {
    const s = o(m.resource);
    out.resource = pick([['name', s.name], ['targetAverageUtilization', t(s).averageUtilization], ['targetAverageValue', t(s).averageValue]]);
  }
  if (present(m.containerResource)) {
    const s = o(m.containerResource);
    out.containerResource = pick([['name', s.name], ['targetAverageUtilization', t(s).averageUtilization], ['targetAverageValue', t(s).averageValue], ['container', s.container]]);
  }
  if (present(m.external)) {
    const s = o(m.external);
    out.external = pick([['metricName', id(s).name], ['metricSelector', id(s).selector], ['targetValue', t(s).value], ['targetAverageValue', t(s).averageValue]]);
  }
  return out;
}

function metricStatusToV1(m: Json): Json {
  const out = pick([['type', m.type]]);
  const c = (s: Json): Json => o(s.current);
  const id = (s: Json): Json => o(s.metric);
  if (present(m.object)) {
    const s = o(m.object);
    out.object = pick([['target', refV1(s.describedObject)], ['metricName', id(s).name], ['currentValue', c(s).value], ['selector', id(s).selector], ['averageValue', c(s).averageValue]]);
  }
  if (present(m.pods)) {
    const s = o(m.pods);
    out.pods = pick([['metricName', id(s).name], ['currentAverageValue', c(s).averageValue], ['selector', id(s).selector]]);
  }
  if (present(m.resource)) {
    const s = o(m.resource);
    out.resource = pick([['name', s.name], ['currentAverageUtilization', c(s).averageUtilization], ['currentAverageValue', c(s).averageValue]]);
  }
  if (present(m.containerResource)) {
    const s = o(m.containerResource);
    out.containerResource = pick([['name', s.name], ['currentAverageUtilization', c(s).averageUtilization], ['currentAverageValue', c(s).averageValue], ['container', s.container]]);
  }
  if (present(m.external)) {
    const s = o(m.external);
    out.external = pick([['metricName', id(s).name], ['metricSelector', id(s).selector], ['currentValue', c(s).value], ['currentAverageValue', c(s).averageValue]]);
  }
  return out;
}

/** spec.behavior as the internal Go type marshals it (no json tags: Go field names). */
function behaviorToInternal(b: Json): Json {
  const rules = (r: unknown): Json | null => (present(r)
    ? {
      StabilizationWindowSeconds: o(r).stabilizationWindowSeconds ?? null,
      SelectPolicy: o(r).selectPolicy ?? null,
      Policies: Array.isArray(o(r).policies) ? list(o(r).policies).map((p) => ({ Type: p.type ?? '', Value: p.value ?? 0, PeriodSeconds: p.periodSeconds ?? 0 })) : null,
    }
    : null);
  return { ScaleUp: rules(b.scaleUp), ScaleDown: rules(b.scaleDown) };
}

const conditionV1 = (c: Json): Json => pick([['type', c.type], ['status', c.status], ['lastTransitionTime', c.lastTransitionTime], ['reason', c.reason], ['message', c.message]]);

/** An autoscaling/v2 HorizontalPodAutoscaler as autoscaling/v1. */
export function hpaV2ToV1(v2: KObject): KObject {
  const metadata = structuredClone(v2.metadata ?? {});
  const annotations: Record<string, string> = { ...(metadata.annotations ?? {}) };
  for (const k of ROUND_TRIP) delete annotations[k];
  const spec = o(v2.spec);
  const status = o(v2.status);
  const metrics = list(spec.metrics);

  const v1spec = pick([['scaleTargetRef', structuredClone(spec.scaleTargetRef)], ['minReplicas', spec.minReplicas], ['maxReplicas', spec.maxReplicas]]);
  const cpu = metrics.find(isCpuResource);
  const cpuTarget = cpu && o(o(cpu.resource).target).averageUtilization;
  if (present(cpuTarget)) v1spec.targetCPUUtilizationPercentage = cpuTarget;

  const current = list(status.currentMetrics);
  let currentCpu: unknown;
  for (const m of current) {
    const u = isCpuResource(m) ? o(o(m.resource).current).averageUtilization : undefined;
    if (present(u)) currentCpu = u;
  }
  const v1status = pick([
    ['observedGeneration', status.observedGeneration], ['lastScaleTime', status.lastScaleTime],
    ['currentReplicas', status.currentReplicas ?? 0], ['desiredReplicas', status.desiredReplicas ?? 0],
    ['currentCPUUtilizationPercentage', currentCpu],
  ]);

  const others = metrics.filter((m) => !(isCpuResource(m) && present(o(o(m.resource).target).averageUtilization)));
  if (others.length) annotations[METRICS_ANNOTATION] = JSON.stringify(others.map(metricSpecToV1));
  if (current.length) annotations[CURRENT_METRICS_ANNOTATION] = JSON.stringify(current.map(metricStatusToV1));
  if (present(spec.behavior)) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(behaviorToInternal(o(spec.behavior)));
  const conditions = list(status.conditions);
  if (conditions.length) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(conditions.map(conditionV1));
  if (Object.keys(annotations).length) metadata.annotations = annotations; else delete metadata.annotations;

  return { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata, spec: v1spec, status: v1status };
}

// ---- v1 → v2 --------------------------------------------------------------------------

const target = (type: string, value: unknown, averageValue: unknown, averageUtilization?: unknown): Json =>
  pick([['type', type], ['value', value], ['averageValue', averageValue], ['averageUtilization', averageUtilization]]);
const identifier = (name: unknown, selector: unknown): Json => pick([['name', name], ['selector', selector]]);

function metricSpecToV2(m: Json): Json {
  const out = pick([['type', m.type]]);
  if (present(m.object)) {
    const s = o(m.object);
    out.object = pick([
      ['describedObject', refV1(s.target)],
      ['target', target(present(s.averageValue) ? 'AverageValue' : 'Value', s.targetValue, s.averageValue)],
      ['metric', identifier(s.metricName, s.selector)],
    ]);
  }
  if (present(m.pods)) {
    const s = o(m.pods);
    out.pods = { metric: identifier(s.metricName, s.selector), target: target('AverageValue', undefined, s.targetAverageValue) };
  }
  if (present(m.resource)) {
    const s = o(m.resource);
    const type = present(s.targetAverageUtilization) ? 'Utilization' : 'AverageValue';
    out.resource = pick([['name', s.name], ['target', target(type, undefined, s.targetAverageValue, s.targetAverageUtilization)]]);
  }
  if (present(m.containerResource)) {
    const s = o(m.containerResource);
    const type = present(s.targetAverageUtilization) ? 'Utilization' : 'AverageValue';
    out.containerResource = pick([['name', s.name], ['target', target(type, undefined, s.targetAverageValue, s.targetAverageUtilization)], ['container', s.container]]);
  }
  if (present(m.external)) {
    const s = o(m.external);
    out.external = { metric: identifier(s.metricName, s.metricSelector), target: target(present(s.targetValue) ? 'Value' : 'AverageValue', s.targetValue, s.targetAverageValue) };
  }
  return out;
}

const valueStatus = (value: unknown, averageValue: unknown, averageUtilization?: unknown): Json =>
  pick([['value', value], ['averageValue', averageValue], ['averageUtilization', averageUtilization]]);

function metricStatusToV2(m: Json): Json {
  const out = pick([['type', m.type]]);
  if (present(m.object)) {
    const s = o(m.object);
    out.object = pick([['metric', identifier(s.metricName, s.selector)], ['current', valueStatus(s.currentValue, s.averageValue)], ['describedObject', refV1(s.target)]]);
  }
  if (present(m.pods)) {
    const s = o(m.pods);
    out.pods = { metric: identifier(s.metricName, s.selector), current: valueStatus(undefined, s.currentAverageValue) };
  }
  if (present(m.resource)) {
    const s = o(m.resource);
    out.resource = pick([['name', s.name], ['current', valueStatus(undefined, s.currentAverageValue, s.currentAverageUtilization)]]);
  }
  if (present(m.containerResource)) {
    const s = o(m.containerResource);
    out.containerResource = pick([['name', s.name], ['current', valueStatus(undefined, s.currentAverageValue, s.currentAverageUtilization)], ['container', s.container]]);
  }
  if (present(m.external)) {
    const s = o(m.external);
    out.external = { metric: identifier(s.metricName, s.metricSelector), current: valueStatus(s.currentValue, s.currentAverageValue) };
  }
  return out;
}

/** Reads a Go-style JSON object case-insensitively, as encoding/json matches field names. */
function field(v: Json, name: string): unknown {
  if (name in v) return v[name];
  const lower = name.toLowerCase();
  const key = Object.keys(v).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : v[key];
}

/** The behavior annotation back to spec.behavior; undefined when it holds nothing. */
function behaviorFromInternal(v: unknown): Json | undefined {
  if (!isPlainObject(v)) return undefined;
  const rules = (r: unknown): Json | undefined => {
    if (!isPlainObject(r)) return undefined;
    const policies = field(r, 'Policies');
    return pick([
      ['stabilizationWindowSeconds', field(r, 'StabilizationWindowSeconds')],
      ['selectPolicy', field(r, 'SelectPolicy')],
      ['policies', Array.isArray(policies) ? list(policies).map((p) => pick([['type', field(p, 'Type')], ['value', field(p, 'Value')], ['periodSeconds', field(p, 'PeriodSeconds')]])) : undefined],
    ]);
  };
  const out = pick([['scaleUp', rules(field(v, 'ScaleUp'))], ['scaleDown', rules(field(v, 'ScaleDown'))]]);
  return Object.keys(out).length ? out : undefined;
}

/** An autoscaling/v1 HorizontalPodAutoscaler as autoscaling/v2. */
export function hpaV1ToV2(v1: KObject): KObject {
  const metadata = structuredClone(v1.metadata ?? {});
  const annotations: Record<string, string> = { ...(metadata.annotations ?? {}) };
  const spec = o(v1.spec);
  const status = o(v1.status);

  let metrics: Json[] = present(spec.targetCPUUtilizationPercentage)
    ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }]
    : [];
  const others = parseAnnotation(annotations[METRICS_ANNOTATION]);
  if (Array.isArray(others)) metrics = [...list(others).map(metricSpecToV2), ...metrics.slice(0, 1)];
  if (!metrics.length) metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  const behavior = behaviorFromInternal(parseAnnotation(annotations[BEHAVIOR_ANNOTATION]));
  const v2spec = pick([
    ['scaleTargetRef', structuredClone(spec.scaleTargetRef)], ['minReplicas', spec.minReplicas], ['maxReplicas', spec.maxReplicas],
    ['metrics', metrics], ['behavior', behavior],
  ]);

  let currentMetrics: Json[] | undefined = present(status.currentCPUUtilizationPercentage)
    ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }]
    : undefined;
  const current = parseAnnotation(annotations[CURRENT_METRICS_ANNOTATION]);
  if (Array.isArray(current)) currentMetrics = list(current).map(metricStatusToV2);
  const conditions = parseAnnotation(annotations[CONDITIONS_ANNOTATION]);
  const v2status = pick([
    ['observedGeneration', status.observedGeneration], ['lastScaleTime', status.lastScaleTime],
    // currentReplicas is omitempty in v2; a v1 zero desiredReplicas is the unset one.
    ['currentReplicas', status.currentReplicas || undefined], ['desiredReplicas', status.desiredReplicas || undefined],
    ['currentMetrics', currentMetrics?.length ? currentMetrics : undefined],
    ['conditions', Array.isArray(conditions) && conditions.length ? list(conditions).map(conditionV1) : undefined],
  ]);

  for (const k of ROUND_TRIP) delete annotations[k];
  if (Object.keys(annotations).length) metadata.annotations = annotations; else delete metadata.annotations;
  return { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata, spec: v2spec, status: v2status };
}
