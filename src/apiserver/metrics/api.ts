// metrics.k8s.io/v1beta1 served in-process: NodeMetrics (`nodes`) and PodMetrics (`pods`,
// namespaced), get and list, label and field selectors applied to the Node and Pod objects
// (as metrics-server does), objects shaped exactly as metrics-server returns them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject } from '../../api/object.ts';
import { lookupResource } from '../../api/scheme.ts';
import { formatBinaryQuantity, formatDecimalQuantity } from '../../api/quantity-format.ts';
import { ApiError, methodNotAllowed } from '../errors.ts';
import { selectorQuery } from '../handlers/query.ts';
import { send } from '../http/respond.ts';
import { decodePathSegment, notFoundPath } from '../request-info.ts';
import type { Registry } from '../registry/registry.ts';
import { METRICS_GROUP, METRICS_VERSION } from './resources.ts';
import type { NodeMetricsPoint, PodMetricsPoint, ResourceMetricsSource, ResourceUsage } from './types.ts';

const NODES = lookupResource('', 'v1', 'nodes')!;
const PODS = lookupResource('', 'v1', 'pods')!;
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;
const PREFIX = `/apis/${METRICS_GROUP}/${METRICS_VERSION}/`;

/** A resource path under /apis/metrics.k8s.io/v1beta1/ (the group version's own path is discovery). */
export function isMetricsPath(path: string): boolean {
  return path.startsWith(PREFIX);
}

/** Go's time.Duration.String() for whole milliseconds: "15s", "1.001s", "1m0s", "500ms". */
export function goDuration(ms: number): string {
  ms = Math.round(ms);
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sMs = ms % 60_000;
  const s = sMs % 1000 === 0 ? `${sMs / 1000}` : (sMs / 1000).toFixed(3).replace(/0+$/, '');
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const usageOf = (u: ResourceUsage) => ({ cpu: formatDecimalQuantity(u.cpuNanoCores, -9), memory: formatBinaryQuantity(u.memoryBytes) });

function meta(obj: KObject, now: number): Record<string, unknown> {
  const m = obj.metadata;
  return {
    name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}),
    creationTimestamp: rfc3339(now),
    ...(m.labels && Object.keys(m.labels).length ? { labels: m.labels } : {}),
  };
}

export function nodeMetricsObject(node: KObject, p: NodeMetricsPoint, now: number): Record<string, unknown> {
  return { metadata: meta(node, now), timestamp: rfc3339(p.timestampMs), window: goDuration(p.windowMs), usage: usageOf(p.usage) };
}

export function podMetricsObject(pod: KObject, p: PodMetricsPoint, now: number): Record<string, unknown> {
  return {
    metadata: meta(pod, now), timestamp: rfc3339(p.timestampMs), window: goDuration(p.windowMs),
    containers: p.containers.map((c) => ({ name: c.name, usage: usageOf(c.usage) })),
  };
}

const notFound = (kind: 'nodemetrics' | 'podmetrics', resource: string, name: string) =>
  new ApiError(404, 'NotFound', `${kind}.${METRICS_GROUP} "${name}" not found`, { name, group: METRICS_GROUP, kind: resource });

export interface MetricsRequest {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: URLSearchParams;
  registry: Registry;
  source: ResourceMetricsSource;
  now?: () => number;
}

/** Answers GET /apis/metrics.k8s.io/v1beta1/{nodes[/N], pods, namespaces/NS/pods[/N]}. */
export async function serveMetricsApi(m: MetricsRequest): Promise<void> {
  const parts = m.path.slice(PREFIX.length).split('/').filter(Boolean).map(decodePathSegment);
  let namespace: string | undefined;
  let rest = parts;
  if (parts[0] === 'namespaces' && parts.length >= 3) { namespace = parts[1]; rest = parts.slice(2); }
  const [resource, name, ...extra] = rest;
  if (extra.length || (resource !== 'nodes' && resource !== 'pods') || (resource === 'nodes' && namespace !== undefined)) throw notFoundPath(m.path);
  if (resource === 'pods' && name !== undefined && namespace === undefined) throw notFoundPath(m.path);
  if (m.req.method !== 'GET' && m.req.method !== 'HEAD') throw methodNotAllowed();
  if (m.query.get('watch') === 'true' || m.query.get('watch') === '1') throw methodNotAllowed();
  const now = (m.now ?? Date.now)();

  if (resource === 'nodes') {
    const points = new Map((await m.source.nodeMetrics()).map((p) => [p.node, p]));
    if (name !== undefined) {
      const node = await m.registry.tryGet(NODES, undefined, name);
      const p = points.get(name);
      if (!node || !p) throw notFound('nodemetrics', 'nodes', name);
      return send(m.res, 200, { kind: 'NodeMetrics', apiVersion: API_VERSION, ...nodeMetricsObject(node, p, now) });
    }
    const { items } = await m.registry.list(NODES, undefined, selectorQuery(NODES, m.query));
    const out = items.filter((n) => points.has(n.metadata.name!)).map((n) => nodeMetricsObject(n, points.get(n.metadata.name!)!, now));
    return send(m.res, 200, { kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items: out });
  }

  const points = new Map((await m.source.podMetrics(namespace)).map((p) => [`${p.namespace}/${p.pod}`, p]));
  if (name !== undefined) {
    const pod = await m.registry.tryGet(PODS, namespace, name);
    const p = points.get(`${namespace}/${name}`);
    if (!pod || !p) throw notFound('podmetrics', 'pods', `${namespace}/${name}`);
    return send(m.res, 200, { kind: 'PodMetrics', apiVersion: API_VERSION, ...podMetricsObject(pod, p, now) });
  }
  const { items } = await m.registry.list(PODS, namespace, selectorQuery(PODS, m.query));
  const out = items
    .filter((p) => points.has(`${p.metadata.namespace}/${p.metadata.name}`))
    .map((p) => podMetricsObject(p, points.get(`${p.metadata.namespace}/${p.metadata.name}`)!, now));
  return send(m.res, 200, { kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items: out });
}
