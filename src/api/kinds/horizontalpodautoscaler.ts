// HorizontalPodAutoscaler (autoscaling/v2): defaults (minReplicas 1, a cpu 80% metric, the
// behavior rules when behavior is given), validation worded as Kubernetes words it
// (pkg/apis/autoscaling/validation), the status reset on create, and kubectl's table.
import { invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { isQuantity, parseQuantity, validateLabelSelector } from '../validation/index.ts';
import { child, obj, objs, setDefault, str, type Json } from './access.ts';
import { AGE, col } from './columns.ts';
import { listWithMore, since } from './format.ts';
import type { KindDefinition } from './strategy.ts';
import { prepareGenerationOnCreate, prepareGenerationOnUpdate } from './workload.ts';

const METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const TARGET_TYPES = ['AverageValue', 'Utilization', 'Value'];
const POLICY_TYPES = ['Percent', 'Pods'];
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const MAX_STABILIZATION_SECONDS = 3600;
const MAX_PERIOD_SECONDS = 1800;

/** The scale-up rules Kubernetes fills in (GenerateHPAScaleUpRules). */
export function defaultScaleUpRules(rules: Json): void {
  setDefault(rules, 'stabilizationWindowSeconds', 0);
  setDefault(rules, 'selectPolicy', 'Max');
  if (!Array.isArray(rules.policies) || rules.policies.length === 0) {
    rules.policies = [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }];
  }
}

/** The scale-down rules (GenerateHPAScaleDownRules): 300 s stabilization, 100% per 15 s. */
export function defaultScaleDownRules(rules: Json): void {
  setDefault(rules, 'stabilizationWindowSeconds', 300);
  setDefault(rules, 'selectPolicy', 'Max');
  if (!Array.isArray(rules.policies) || rules.policies.length === 0) {
    rules.policies = [{ type: 'Percent', value: 100, periodSeconds: 15 }];
  }
}

function defaultsHPA(hpa: KObject): void {
  const spec = child(hpa, 'spec');
  setDefault(spec, 'minReplicas', 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  // Only a behavior that is there gets its missing rules (SetDefaults_HorizontalPodAutoscalerBehavior).
  if (spec.behavior !== undefined && spec.behavior !== null) {
    const behavior = child(spec, 'behavior');
    defaultScaleUpRules(child(behavior, 'scaleUp'));
    defaultScaleDownRules(child(behavior, 'scaleDown'));
  }
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function validateTarget(path: string, target: unknown, allowUtilization: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (target === undefined || target === null) return [required(path, 'must specify a metric target')];
  const t = obj(target);
  if (!t.type) errs.push(required(`${path}.type`, 'must specify a metric target type'));
  else if (!TARGET_TYPES.includes(str(t.type))) errs.push(notSupported(`${path}.type`, t.type, TARGET_TYPES));
  for (const key of ['value', 'averageValue']) {
    if (t[key] === undefined) continue;
    if (!isQuantity(t[key])) errs.push(invalid(`${path}.${key}`, t[key], 'must be a quantity'));
    else if (parseQuantity(t[key] as string) <= 0) errs.push(invalid(`${path}.${key}`, t[key], 'must be positive'));
  }
  if (t.averageUtilization !== undefined && (!isInt(t.averageUtilization) || t.averageUtilization < 1)) {
    errs.push(invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  }
  if (t.type === 'Value' && t.value === undefined) errs.push(required(`${path}.value`, 'must set value for Value metric target type'));
  if (t.type === 'AverageValue' && t.averageValue === undefined) errs.push(required(`${path}.averageValue`, 'must set averageValue for AverageValue metric target type'));
  if (t.type === 'Utilization') {
    if (!allowUtilization) errs.push(invalid(`${path}.type`, t.type, 'must be Value or AverageValue for this metric source type'));
    else if (t.averageUtilization === undefined) errs.push(required(`${path}.averageUtilization`, 'must set averageUtilization for Utilization metric target type'));
  }
  if (t.value !== undefined && t.averageValue !== undefined) errs.push(invalid(`${path}`, 'value', 'may not set both value and averageValue'));
  return errs;
}

function validateMetricIdentifier(path: string, metric: unknown): FieldError[] {
  const m = obj(metric);
  const errs: FieldError[] = [];
  if (!m.name) errs.push(required(`${path}.name`, 'must specify a metric name'));
  if (m.selector !== undefined) errs.push(...validateLabelSelector(`${path}.selector`, m.selector));
  return errs;
}

function validateMetric(path: string, metric: Json): FieldError[] {
  const errs: FieldError[] = [];
  const type = str(metric.type);
  const sourceKey: Record<string, string> = { Resource: 'resource', ContainerResource: 'containerResource', Pods: 'pods', Object: 'object', External: 'external' };
  if (!type) return [required(`${path}.type`, 'must specify a metric source type')];
  if (!METRIC_TYPES.includes(type)) return [notSupported(`${path}.type`, type, METRIC_TYPES)];
  for (const [t, key] of Object.entries(sourceKey)) {
    if (t !== type && metric[key] !== undefined && metric[key] !== null) errs.push(invalid(`${path}.${key}`, '', 'must populate information for the given metric source (only allowed when type is ' + t + ')'));
  }
  const key = sourceKey[type]!;
  const source = metric[key];
  if (source === undefined || source === null) return [...errs, required(`${path}.${key}`, 'must populate information for the given metric source')];
  const s = obj(source);
  const sp = `${path}.${key}`;
  switch (type) {
    case 'Resource':
    case 'ContainerResource':
      if (!s.name) errs.push(required(`${sp}.name`, 'must specify a resource name'));
      if (type === 'ContainerResource' && !s.container) errs.push(required(`${sp}.container`, 'must specify a container'));
      errs.push(...validateTarget(`${sp}.target`, s.target, true));
      break;
    case 'Pods':
    case 'External':
      errs.push(...validateMetricIdentifier(`${sp}.metric`, s.metric), ...validateTarget(`${sp}.target`, s.target, false));
      break;
    case 'Object': {
      const ref = obj(s.describedObject);
      if (!ref.kind) errs.push(required(`${sp}.describedObject.kind`));
      if (!ref.name) errs.push(required(`${sp}.describedObject.name`));
      errs.push(...validateMetricIdentifier(`${sp}.metric`, s.metric), ...validateTarget(`${sp}.target`, s.target, false));
      break;
    }
  }
  return errs;
}

function validateRules(path: string, rules: unknown): FieldError[] {
  if (rules === undefined || rules === null) return [];
  const r = obj(rules);
  const errs: FieldError[] = [];
  const w = r.stabilizationWindowSeconds;
  if (w !== undefined && (!isInt(w) || w < 0)) errs.push(invalid(`${path}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
  else if (isInt(w) && w > MAX_STABILIZATION_SECONDS) errs.push(invalid(`${path}.stabilizationWindowSeconds`, w, `must be less than or equal to ${MAX_STABILIZATION_SECONDS}`));
  if (r.selectPolicy !== undefined && !SELECT_POLICIES.includes(str(r.selectPolicy))) errs.push(notSupported(`${path}.selectPolicy`, r.selectPolicy, SELECT_POLICIES));
  const policies = objs(r.policies);
  if (r.policies !== undefined && policies.length === 0) errs.push(required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = `${path}.policies[${i}]`;
    if (!POLICY_TYPES.includes(str(p.type))) errs.push(notSupported(`${pp}.type`, p.type, POLICY_TYPES));
    if (!isInt(p.value) || p.value <= 0) errs.push(invalid(`${pp}.value`, p.value, 'must be greater than zero'));
    if (!isInt(p.periodSeconds) || p.periodSeconds <= 0) errs.push(invalid(`${pp}.periodSeconds`, p.periodSeconds, 'must be greater than zero'));
    else if (p.periodSeconds > MAX_PERIOD_SECONDS) errs.push(invalid(`${pp}.periodSeconds`, p.periodSeconds, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return errs;
}

export function validateHPA(hpa: KObject): FieldError[] {
  const spec = obj(hpa.spec);
  const errs: FieldError[] = [];
  const ref = spec.scaleTargetRef;
  if (ref === undefined || ref === null) {
    errs.push(required('spec.scaleTargetRef', 'must specify the target to scale'));
  } else {
    const r = obj(ref);
    if (!r.kind) errs.push(required('spec.scaleTargetRef.kind'));
    if (!r.name) errs.push(required('spec.scaleTargetRef.name'));
    else if (/[/%]/.test(str(r.name)) || r.name === '.' || r.name === '..') errs.push(invalid('spec.scaleTargetRef.name', r.name, 'may not contain \'/\' or \'%\''));
  }
  const min = spec.minReplicas;
  const max = spec.maxReplicas;
  if (min !== undefined && (!isInt(min) || min < 1)) errs.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (max === undefined) errs.push(required('spec.maxReplicas'));
  else if (!isInt(max) || max < 1) errs.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  else if (isInt(min) && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  objs(spec.metrics).forEach((m, i) => errs.push(...validateMetric(`spec.metrics[${i}]`, m)));
  if (spec.behavior !== undefined && spec.behavior !== null) {
    const b = obj(spec.behavior);
    errs.push(...validateRules('spec.behavior.scaleUp', b.scaleUp), ...validateRules('spec.behavior.scaleDown', b.scaleDown));
  }
  return errs;
}

/** One metric as kubectl's TARGETS column shows it: "cpu: 12%/50%", "memory: 10Mi/64Mi". */
function targetCell(spec: Json, status: Json | undefined): string {
  const current = (key: string, v: (c: Json) => string | undefined): string => v(obj(obj(status?.[key]).current)) ?? '<unknown>';
  const target = obj(obj(spec[str(spec.type) === 'Resource' ? 'resource' : str(spec.type) === 'ContainerResource' ? 'containerResource' : '']).target);
  switch (spec.type) {
    case 'Resource':
    case 'ContainerResource': {
      const key = spec.type === 'Resource' ? 'resource' : 'containerResource';
      const name = str(obj(spec[key]).name);
      if (target.averageValue !== undefined) {
        return `${name}: ${current(key, (c) => (c.averageValue !== undefined ? String(c.averageValue) : undefined))}/${String(target.averageValue)}`;
      }
      const cur = current(key, (c) => (typeof c.averageUtilization === 'number' ? `${c.averageUtilization}%` : undefined));
      const tgt = typeof target.averageUtilization === 'number' ? `${target.averageUtilization}%` : '<auto>';
      return `${name}: ${cur}/${tgt}`;
    }
    case 'Pods': {
      const s = obj(spec.pods);
      return `${current('pods', (c) => (c.averageValue !== undefined ? String(c.averageValue) : undefined))}/${String(obj(s.target).averageValue ?? '')}`;
    }
    case 'Object':
    case 'External': {
      const key = spec.type === 'Object' ? 'object' : 'external';
      const t = obj(obj(spec[key]).target);
      if (t.averageValue !== undefined) return `${current(key, (c) => (c.averageValue !== undefined ? String(c.averageValue) : undefined))}/${String(t.averageValue)} (avg)`;
      return `${current(key, (c) => (c.value !== undefined ? String(c.value) : undefined))}/${String(t.value ?? '')}`;
    }
    default:
      return '<unknown type>';
  }
}

export function targetsCell(hpa: KObject): string {
  const specs = objs(obj(hpa.spec).metrics);
  const statuses = objs(obj(hpa.status).currentMetrics);
  return listWithMore(specs.map((m, i) => targetCell(m, statuses[i])), 2);
}

export const horizontalPodAutoscalerKind: KindDefinition = {
  defaults: defaultsHPA,
  prepareForCreate(hpa) {
    hpa.status = {};
    prepareGenerationOnCreate(hpa);
  },
  prepareForUpdate: prepareGenerationOnUpdate,
  validate: validateHPA,
  table: {
    columns: [
      col('Reference', 'string', 0, 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
      col('Targets', 'string', 0, 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).'),
      col('MinPods', 'string', 0, 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
      col('MaxPods', 'integer', 0, 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
      col('Replicas', 'integer', 0, 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
      AGE,
    ],
    cells(hpa, now) {
      const spec = obj(hpa.spec);
      const ref = obj(spec.scaleTargetRef);
      const min = spec.minReplicas;
      return [
        `${str(ref.kind)}/${str(ref.name)}`,
        targetsCell(hpa),
        typeof min === 'number' ? String(min) : '<unset>',
        typeof spec.maxReplicas === 'number' ? spec.maxReplicas : 0,
        typeof obj(hpa.status).currentReplicas === 'number' ? obj(hpa.status).currentReplicas : 0,
        since(hpa.metadata.creationTimestamp, now),
      ];
    },
  },
};
