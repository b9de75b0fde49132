// From the metrics' proposal to the replica count to set: stabilization (recent
// recommendations hold a scale-down back for the window, 300 s by default) and rate limits
// (without spec.behavior: at most max(2×current, 4); with it: the scaleUp/scaleDown policies
// over their periods), then minReplicas/maxReplicas. Kubernetes' horizontal.go
// normalizeDesiredReplicas and normalizeDesiredReplicasWithBehaviors. Pure; the controller
// keeps the recommendation and scale-event histories per HPA.

export const DEFAULT_DOWNSCALE_STABILIZATION_MS = 300_000;

export interface Recommendation { timestampMs: number; replicas: number }
export interface ScaleEvent { timestampMs: number; change: number }

export interface Policy { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }
export interface ScalingRules { stabilizationWindowSeconds: number; selectPolicy: 'Max' | 'Min' | 'Disabled'; policies: Policy[] }
export interface Behavior { scaleUp: ScalingRules; scaleDown: ScalingRules }

export interface NormalizeInput {
  currentReplicas: number;
  /** What the metrics ask for. */
  proposed: number;
  minReplicas: number;
  maxReplicas: number;
  now: number;
  /** Earlier recommendations of this HPA (updated in place: the new one is added, old ones trimmed). */
  recommendations: Recommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
  /** spec.behavior (defaulted), or undefined for the classic rules. */
  behavior?: Behavior;
  /** The window used without behavior (default 300 s). */
  downscaleStabilizationMs?: number;
}

export interface Reason { reason: string; message: string }

export interface NormalizeResult {
  replicas: number;
  /** The AbleToScale reason: ReadyForNewScale, ScaleDownStabilized or ScaleUpStabilized. */
  ableToScale: Reason;
  /** The ScalingLimited condition: limited (True) or DesiredWithinRange (False). */
  limited: Reason & { status: 'True' | 'False' };
}

const READY: Reason = { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
const DOWN_STABILIZED: Reason = { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
const UP_STABILIZED: Reason = { reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' };
const WITHIN: Reason = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
const TOO_FEW: Reason = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
const TOO_MANY: Reason = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
const UP_LIMIT: Reason = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
const DOWN_LIMIT: Reason = { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' };

/** Replicas added (or removed) within the last `periodSeconds`. */
export function changeInPeriod(events: ScaleEvent[], periodSeconds: number, now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.timestampMs > cutoff).reduce((s, e) => s + e.change, 0);
}

export function scaleUpLimit(current: number, events: ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(events, p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

export function scaleDownLimit(current: number, events: ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // Min selects the policy allowing the smallest change: the highest floor.
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const start = current + changeInPeriod(events, p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

function trim(list: { timestampMs: number }[], keepAfter: number): void {
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.timestampMs <= keepAfter) list.splice(i, 1);
}

export function normalize(input: NormalizeInput): NormalizeResult {
  return input.behavior ? withBehavior(input, input.behavior) : classic(input);
}

function classic(i: NormalizeInput): NormalizeResult {
  const windowMs = i.downscaleStabilizationMs ?? DEFAULT_DOWNSCALE_STABILIZATION_MS;
  trim(i.recommendations, i.now - windowMs);
  const stabilized = Math.max(i.proposed, ...i.recommendations.map((r) => r.replicas));
  i.recommendations.push({ timestampMs: i.now, replicas: i.proposed });
  const ableToScale = stabilized !== i.proposed ? DOWN_STABILIZED : READY;
  const upLimit = Math.max(2 * i.currentReplicas, 4);
  const [maxAllowed, maxReason] = i.maxReplicas > upLimit ? [upLimit, UP_LIMIT] : [i.maxReplicas, TOO_MANY];
  if (stabilized < i.minReplicas) return { replicas: i.minReplicas, ableToScale, limited: { ...TOO_FEW, status: 'True' } };
  if (stabilized > maxAllowed) return { replicas: maxAllowed, ableToScale, limited: { ...maxReason, status: 'True' } };
  return { replicas: stabilized, ableToScale, limited: { ...WITHIN, status: 'False' } };
}

function withBehavior(i: NormalizeInput, b: Behavior): NormalizeResult {
  const upWindow = b.scaleUp.stabilizationWindowSeconds * 1000;
  const downWindow = b.scaleDown.stabilizationWindowSeconds * 1000;
  let up = i.proposed;
  let down = i.proposed;
  for (const r of i.recommendations) {
    if (r.timestampMs > i.now - upWindow) up = Math.min(up, r.replicas);
    if (r.timestampMs > i.now - downWindow) down = Math.max(down, r.replicas);
  }
  let stabilized = i.currentReplicas;
  if (stabilized < up) stabilized = up;
  if (stabilized > down) stabilized = down;
  trim(i.recommendations, i.now - Math.max(upWindow, downWindow));
  i.recommendations.push({ timestampMs: i.now, replicas: i.proposed });
  const ableToScale = stabilized === i.proposed ? READY : i.proposed >= i.currentReplicas ? UP_STABILIZED : DOWN_STABILIZED;

  const limited = (replicas: number, r: Reason): NormalizeResult => ({ replicas, ableToScale, limited: { ...r, status: replicas === stabilized ? 'False' : 'True' } });
  if (stabilized > i.currentReplicas) {
    const limit = Math.max(scaleUpLimit(i.currentReplicas, i.scaleUpEvents, b.scaleUp, i.now), i.currentReplicas);
    const [maxAllowed, r] = i.maxReplicas > limit ? [limit, UP_LIMIT] : [i.maxReplicas, TOO_MANY];
    if (stabilized > maxAllowed) return limited(maxAllowed, r);
  } else if (stabilized < i.currentReplicas) {
    const limit = Math.min(scaleDownLimit(i.currentReplicas, i.scaleDownEvents, b.scaleDown, i.now), i.currentReplicas);
    const [minAllowed, r] = i.minReplicas < limit ? [limit, DOWN_LIMIT] : [i.minReplicas, TOO_FEW];
    if (stabilized < minAllowed) return limited(minAllowed, r);
  }
  return { replicas: stabilized, ableToScale, limited: { ...WITHIN, status: 'False' } };
}

/** Remembers a rescale for the behavior rate limits (events older than the longest period are dropped). */
export function recordScaleEvent(up: ScaleEvent[], down: ScaleEvent[], from: number, to: number, now: number, behavior?: Behavior): void {
  if (to > from) up.push({ timestampMs: now, change: to - from });
  if (to < from) down.push({ timestampMs: now, change: from - to });
  const longest = (r?: ScalingRules) => Math.max(0, ...(r?.policies ?? []).map((p) => p.periodSeconds)) * 1000;
  trim(up, now - longest(behavior?.scaleUp));
  trim(down, now - longest(behavior?.scaleDown));
}
