// LimitRanger admission: a namespace's LimitRanges (type Container and Pod) fill in
// missing container requests and limits from `defaultRequest` and `default`, then check
// min, max and maxLimitRequestRatio, refusing a pod with kube-apiserver's messages
// ("maximum cpu usage per Container is 1, but limit is 2"). PersistentVolumeClaim limits
// are not checked yet.
import type { KObject } from '../../api/object.ts';
import { parseQuantity } from '../../api/validation/quantity.ts';
import { forbidden } from '../errors.ts';

type Json = Record<string, any>;
type ResourceMap = Record<string, string | number>;

const q = (v: string | number | undefined): number | undefined => {
  if (v === undefined) return undefined;
  try {
    return parseQuantity(v);
  } catch {
    return undefined;
  }
};

function limitItems(ranges: KObject[], type: string): Json[] {
  return ranges.flatMap((r) => ((r.spec as Json)?.limits ?? []) as Json[]).filter((l) => l?.type === type);
}

/** Defaults, in the pod, with the limit-ranger annotation naming what was set. */
function applyDefaults(pod: KObject, items: Json[]): void {
  const notes: string[] = [];
  const spec = pod.spec as Json;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as Json[]) {
    const res = (c.resources ??= {}) as Json;
    const setReq: string[] = [];
    const setLim: string[] = [];
    for (const item of items) {
      for (const [name, value] of Object.entries((item.default ?? {}) as ResourceMap)) {
        res.limits ??= {};
        if (res.limits[name] === undefined) { res.limits[name] = value; setLim.push(name); }
      }
      for (const [name, value] of Object.entries((item.defaultRequest ?? {}) as ResourceMap)) {
        res.requests ??= {};
        if (res.requests[name] === undefined) { res.requests[name] = value; setReq.push(name); }
      }
    }
    const what = (spec.initContainers ?? []).includes(c) ? 'init container' : 'container';
    if (setReq.length) notes.push(`${setReq.sort().join(', ')} request for ${what} ${c.name}`);
    if (setLim.length) notes.push(`${setLim.sort().join(', ')} limit for ${what} ${c.name}`);
  }
  if (notes.length) pod.metadata.annotations = { ...pod.metadata.annotations, 'kubernetes.io/limit-ranger': `LimitRanger plugin set: ${notes.join('; ')}` };
}

function check(kind: 'Container' | 'Pod', item: Json, requests: ResourceMap, limits: ResourceMap, errs: string[]): void {
  for (const [name, min] of Object.entries((item.min ?? {}) as ResourceMap)) {
    const r = q(requests[name]);
    const l = q(limits[name]);
    if (r === undefined) errs.push(`minimum ${name} usage per ${kind} is ${min}.  No request is specified`);
    else if (r < q(min)!) errs.push(`minimum ${name} usage per ${kind} is ${min}, but request is ${requests[name]}`);
    if (l !== undefined && l < q(min)!) errs.push(`minimum ${name} usage per ${kind} is ${min}, but limit is ${limits[name]}`);
  }
  for (const [name, max] of Object.entries((item.max ?? {}) as ResourceMap)) {
    const r = q(requests[name]);
    const l = q(limits[name]);
    if (l === undefined) errs.push(`maximum ${name} usage per ${kind} is ${max}.  No limit is specified`);
    else if (l > q(max)!) errs.push(`maximum ${name} usage per ${kind} is ${max}, but limit is ${limits[name]}`);
    if (r !== undefined && r > q(max)!) errs.push(`maximum ${name} usage per ${kind} is ${max}, but request is ${requests[name]}`);
  }
  for (const [name, ratio] of Object.entries((item.maxLimitRequestRatio ?? {}) as ResourceMap)) {
    const r = q(requests[name]);
    const l = q(limits[name]);
    if (l === undefined) errs.push(`${name} max limit to request ratio per ${kind} is ${ratio}, but no limit is specified`);
    else if (!r) errs.push(`${name} max limit to request ratio per ${kind} is ${ratio}, but no request is specified or request is 0`);
    else if (l / r > q(ratio)!) errs.push(`${name} max limit to request ratio per ${kind} is ${ratio}, but provided ratio is ${(l / r).toFixed(6)}`);
  }
}

/** Sums of the app containers' requests and limits (what a Pod-type limit applies to). */
function podTotals(spec: Json, field: 'requests' | 'limits'): ResourceMap {
  const sums: Record<string, number> = {};
  for (const c of (spec.containers ?? []) as Json[]) {
    for (const [name, v] of Object.entries((c.resources?.[field] ?? {}) as ResourceMap)) sums[name] = (sums[name] ?? 0) + (q(v) ?? 0);
  }
  return sums;
}

export function admitLimitRanges(pod: KObject, ranges: KObject[]): void {
  const containerItems = limitItems(ranges, 'Container');
  const podItems = limitItems(ranges, 'Pod');
  if (!containerItems.length && !podItems.length) return;
  applyDefaults(pod, containerItems);
  const spec = pod.spec as Json;
  const errs: string[] = [];
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as Json[]) {
    for (const item of containerItems) check('Container', item, c.resources?.requests ?? {}, c.resources?.limits ?? {}, errs);
  }
  for (const item of podItems) check('Pod', item, podTotals(spec, 'requests'), podTotals(spec, 'limits'), errs);
  if (errs.length) throw forbidden(`pods "${pod.metadata.name}" is forbidden: [${errs.join(', ')}]`, { name: pod.metadata.name, kind: 'pods' });
}
