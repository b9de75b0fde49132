// resourceFieldRef: a container's requests/limits as the downward API exposes them
// (k8s.io/kubernetes pkg/api/v1/resource ExtractContainerResourceValue). Limits a
// container does not set default to the node's allocatable first
// (MergeContainerResourceLimits), and the value is divided by `divisor`, rounding up:
// cpu in millicores (divisor 1 → whole cores, ceil), everything else in bytes.
import type { KObject } from '../../api/object.ts';
import { parseQuantity } from '../../api/validation/quantity.ts';
import type { ResourceList } from './types.ts';

type Json = Record<string, any>;

export interface ResourceFieldSelector {
  containerName?: string;
  resource: string;
  divisor?: string | number;
}

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/**
 * ceil(q × 10^scale) exactly (BigInt arithmetic, no float error): scale 3 is Go's
 * Quantity.MilliValue(), scale 0 its Value(). Throws on a malformed quantity.
 */
export function quantityCeil(q: string | number, scale: number): bigint {
  parseQuantity(q); // validates, with Kubernetes' message
  const s = typeof q === 'number' ? String(q) : q;
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/.exec(s)!;
  const neg = m[1] === '-';
  const frac = m[3] ?? '';
  let num = BigInt((m[2] || '0') + frac);
  let den = 10n ** BigInt(frac.length);
  const suffix = m[4]!;
  let exp10 = scale;
  if (suffix in BINARY) num *= 2n ** BigInt(BINARY[suffix]!);
  else if (suffix in DECIMAL) exp10 += DECIMAL[suffix]!;
  else exp10 += Number(suffix.slice(1)); // e/E exponent
  if (exp10 >= 0) num *= 10n ** BigInt(exp10);
  else den *= 10n ** BigInt(-exp10);
  const c = num / den + (num % den === 0n ? 0n : 1n);
  return neg ? -(num / den) : c;
}

const ceilDiv = (a: bigint, b: bigint): bigint => {
  if (b === 0n) return 0n;
  const q = a / b;
  return a % b !== 0n && (a > 0n) === (b > 0n) ? q + 1n : q;
};

const isHugePages = (name: string): boolean => name.startsWith('hugepages-');

/** The container with its unset cpu/memory/ephemeral-storage/hugepages limits taken from the node. */
export function withDefaultLimits(container: Json, allocatable: ResourceList): Json {
  const limits: Json = { ...(container.resources?.limits ?? {}) };
  for (const [k, v] of Object.entries(allocatable)) {
    if ((k === 'cpu' || k === 'memory' || k === 'ephemeral-storage' || isHugePages(k)) && limits[k] === undefined) limits[k] = v;
  }
  return { ...container, resources: { ...(container.resources ?? {}), limits } };
}

function findContainer(pod: KObject, name: string): Json | undefined {
  const spec = (pod.spec ?? {}) as Json;
  for (const list of [spec.containers, spec.initContainers] as (Json[] | undefined)[]) {
    const c = list?.find((x) => x.name === name);
    if (c) return c;
  }
  return undefined;
}

/** The kubelet's ExtractContainerResourceValue on a container whose limits are already defaulted. */
export function extractContainerResourceValue(fs: ResourceFieldSelector, container: Json): string {
  const divisor = fs.divisor === undefined || fs.divisor === '' || quantityCeil(fs.divisor, 9) === 0n ? '1' : fs.divisor;
  const dot = fs.resource.indexOf('.');
  const kind = fs.resource.slice(0, dot);
  const name = fs.resource.slice(dot + 1);
  if (dot > 0 && (kind === 'limits' || kind === 'requests')) {
    const list = (container.resources?.[kind] ?? {}) as Json;
    const q = list[name] as string | number | undefined;
    if (name === 'cpu') return String(ceilDiv(q === undefined ? 0n : quantityCeil(q, 3), quantityCeil(divisor, 3)));
    if (name === 'memory' || name === 'ephemeral-storage' || isHugePages(name)) {
      return String(ceilDiv(q === undefined ? 0n : quantityCeil(q, 0), quantityCeil(divisor, 0)));
    }
  }
  throw new Error(`unsupported container resource : ${fs.resource}`);
}

/**
 * A resourceFieldRef's value for `container` (env: the container itself unless the
 * selector names another) or for the container the selector names (downward API volumes).
 */
export function resourceFieldValue(fs: ResourceFieldSelector, pod: KObject, container: Json | undefined, allocatable: ResourceList): string {
  let c = container;
  if (fs.containerName) {
    c = findContainer(pod, fs.containerName);
    if (!c) throw new Error(`container ${fs.containerName} not found`);
  }
  if (!c) throw new Error(`resourceFieldRef ${fs.resource} names no container`);
  return extractContainerResourceValue(fs, withDefaultLimits(c, allocatable));
}
