// The size of a memory-backed emptyDir (and of the tmpfs under secret, downwardAPI and
// projected volumes): the kubelet's calculateEmptyDirMemorySize. Start from the node's
// allocatable memory, lower it to the pod's memory limit, then to the volume's sizeLimit,
// each only when it is positive and not above the current value. Nothing known: undefined
// (no size= option; the kernel's tmpfs default is half of RAM).
import type { KObject } from '../../api/object.ts';
import { quantityCeil } from '../env/resources.ts';
import type { ResourceList } from './types.ts';

type Json = Record<string, any>;

function memLimit(c: Json): bigint | undefined {
  const q = c.resources?.limits?.memory;
  if (q === undefined) return undefined;
  try {
    return quantityCeil(q, 0);
  } catch {
    return undefined;
  }
}

/**
 * The pod's memory limit as its cgroup gets it (cm.ResourceConfigForPod): only when every
 * container has one: max(sum of containers and sidecars, largest init container), plus overhead.
 */
export function podMemoryLimit(pod: KObject): bigint | undefined {
  const spec = (pod.spec ?? {}) as Json;
  let sum = 0n;
  let initMax = 0n;
  for (const c of (spec.containers ?? []) as Json[]) {
    const l = memLimit(c);
    if (l === undefined) return undefined;
    sum += l;
  }
  for (const c of (spec.initContainers ?? []) as Json[]) {
    const l = memLimit(c);
    if (l === undefined) return undefined;
    if (c.restartPolicy === 'Always') sum += l; // a sidecar runs beside the containers
    else if (l + sum > initMax) initMax = l + sum; // init containers run after the sidecars before them
  }
  let limit = sum > initMax ? sum : initMax;
  const overhead = spec.overhead?.memory;
  if (overhead !== undefined && limit > 0n) limit += quantityCeil(overhead, 0);
  return limit;
}

export function emptyDirMemorySize(pod: KObject, sizeLimit: unknown, nodeAllocatable?: ResourceList): bigint | undefined {
  let size: bigint | undefined;
  const alloc = nodeAllocatable?.memory;
  if (alloc !== undefined) size = quantityCeil(alloc, 0);
  const lower = (v: bigint | undefined): void => {
    if (v !== undefined && v > 0n && (size === undefined || v <= size)) size = v;
  };
  lower(podMemoryLimit(pod));
  if (typeof sizeLimit === 'string' || typeof sizeLimit === 'number') lower(quantityCeil(sizeLimit, 0));
  return size !== undefined && size > 0n ? size : undefined;
}
