// Resource amounts as the scheduler counts them: cpu in millicores, memory and
// ephemeral-storage in bytes, extended resources ("nvidia.com/gpu") as plain counts.
import { parseQuantity } from '../../api/validation/quantity.ts';

export interface Resources {
  cpu: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended resources; absent when the pod or node has none (the common case). */
  scalar?: Record<string, number>;
}

export const emptyResources = (): Resources => ({ cpu: 0, memory: 0, ephemeralStorage: 0 });

export const cloneResources = (r: Resources): Resources =>
  (r.scalar ? { ...r, scalar: { ...r.scalar } } : { ...r });

// Kubernetes' defaults for scoring a container that requests nothing, so a node full of
// best-effort pods does not look empty to the spreading scores.
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

const IGNORED = new Set(['pods', 'hugepages-1Gi', 'hugepages-2Mi']);

function quantity(q: unknown): number {
  if (typeof q !== 'string' && typeof q !== 'number') return 0;
  try {
    return parseQuantity(q);
  } catch {
    return 0; // validation rejects malformed quantities before they reach us
  }
}

/** A ResourceList ({"cpu": "500m", "memory": "1Gi"}) in scheduler units. */
export function toResources(list: unknown): Resources {
  const r = emptyResources();
  if (typeof list !== 'object' || list === null) return r;
  for (const [name, q] of Object.entries(list as Record<string, unknown>)) {
    const v = quantity(q);
    if (name === 'cpu') r.cpu = Math.ceil(v * 1000 - 1e-9); // MilliValue rounds up
    else if (name === 'memory') r.memory = Math.ceil(v);
    else if (name === 'ephemeral-storage') r.ephemeralStorage = Math.ceil(v);
    else if (!IGNORED.has(name) && name.includes('/')) (r.scalar ??= {})[name] = Math.ceil(v);
  }
  return r;
}

export function addInto(into: Resources, r: Resources, sign = 1): void {
  into.cpu += sign * r.cpu;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  if (r.scalar) {
    const s = (into.scalar ??= {});
    for (const [k, v] of Object.entries(r.scalar)) s[k] = (s[k] ?? 0) + sign * v;
  }
}

function maxInto(into: Resources, r: Resources): void {
  into.cpu = Math.max(into.cpu, r.cpu);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  if (r.scalar) {
    const s = (into.scalar ??= {});
    for (const [k, v] of Object.entries(r.scalar)) s[k] = Math.max(s[k] ?? 0, v);
  }
}

interface ContainerLike {
  resources?: { requests?: unknown };
  restartPolicy?: string;
}

function containerRequests(c: ContainerLike, nonZero: boolean): Resources {
  const r = toResources(c.resources?.requests);
  if (nonZero) {
    const req = (c.resources?.requests ?? {}) as Record<string, unknown>;
    if (req.cpu === undefined) r.cpu = DEFAULT_MILLI_CPU_REQUEST;
    if (req.memory === undefined) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * What a pod needs from a node: the app containers and sidecars run together; each
 * ordinary init container runs alone beside the sidecars started before it; the larger
 * of the two wins, per resource, and pod overhead comes on top. With `nonZero`, empty
 * cpu/memory requests count as the scoring defaults.
 */
export function podRequests(spec: Record<string, unknown>, nonZero = false): Resources {
  const total = emptyResources();
  for (const c of (spec.containers ?? []) as ContainerLike[]) addInto(total, containerRequests(c, nonZero));
  const sidecars = emptyResources();
  const initPeak = emptyResources();
  for (const c of (spec.initContainers ?? []) as ContainerLike[]) {
    const r = containerRequests(c, nonZero);
    if (c.restartPolicy === 'Always') {
      addInto(sidecars, r);
      maxInto(initPeak, sidecars);
    } else {
      const alone = cloneResources(sidecars);
      addInto(alone, r);
      maxInto(initPeak, alone);
    }
  }
  addInto(total, sidecars);
  maxInto(total, initPeak);
  if (spec.overhead) addInto(total, toResources(spec.overhead));
  return total;
}
