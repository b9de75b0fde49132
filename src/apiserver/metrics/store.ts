// The scraped samples: for every node and every container, the last two points of the
// cumulative CPU counter and the memory working set, and the usage computed from them
// (metrics-server's storage, in memory). Pure: fed parsed scrapes, no I/O, no clock.
import type { ParsedSample } from '../../agent/metrics/prometheus.ts';
import type { ContainerMetricsPoint, NodeMetricsPoint, PodMetricsPoint, ResourceUsage } from './types.ts';

interface Point {
  cpuSeconds: number;
  memoryBytes: number;
  timestampMs: number;
  startTimeSeconds?: number;
}

interface Series { prev?: Point; last: Point }

interface ContainerSeries extends Series { namespace: string; pod: string; container: string }

interface NodeSeries {
  node?: Series;
  containers: Map<string, ContainerSeries>;
}

/** One scrape, read from the resource metrics text. */
export interface Scrape {
  node?: Point;
  containers: Map<string, { namespace: string; pod: string; container: string } & Point>;
}

const containerKey = (ns: string, pod: string, container: string) => `${ns}/${pod}/${container}`;

/** Reads node_* and container_* samples; the pod_* ones are sums the API does not need. */
export function readScrape(samples: ParsedSample[], fallbackTimeMs: number): Scrape {
  const node: Partial<Point> = {};
  const containers: Scrape['containers'] = new Map();
  const entry = (s: ParsedSample) => {
    const { namespace, pod, container } = s.labels;
    if (!namespace || !pod || !container) return undefined;
    const key = containerKey(namespace, pod, container);
    let c = containers.get(key);
    if (!c) { c = { namespace, pod, container, cpuSeconds: NaN, memoryBytes: NaN, timestampMs: fallbackTimeMs }; containers.set(key, c); }
    return c;
  };
  for (const s of samples) {
    switch (s.name) {
      case 'node_cpu_usage_seconds_total': node.cpuSeconds = s.value; node.timestampMs = s.timestampMs ?? fallbackTimeMs; break;
      case 'node_memory_working_set_bytes': node.memoryBytes = s.value; break;
      case 'container_cpu_usage_seconds_total': { const c = entry(s); if (c) { c.cpuSeconds = s.value; c.timestampMs = s.timestampMs ?? fallbackTimeMs; } break; }
      case 'container_memory_working_set_bytes': { const c = entry(s); if (c) c.memoryBytes = s.value; break; }
      case 'container_start_time_seconds': { const c = entry(s); if (c) c.startTimeSeconds = s.value; break; }
    }
  }
  for (const [k, c] of containers) if (!Number.isFinite(c.cpuSeconds) || !Number.isFinite(c.memoryBytes)) containers.delete(k);
  const nodePoint = node.cpuSeconds !== undefined && node.memoryBytes !== undefined ? node as Point : undefined;
  return { node: nodePoint, containers };
}

function advance<S extends Series>(old: S | undefined, p: Point, extra: Omit<S, 'prev' | 'last'>): S {
  if (!old) return { ...extra, last: p } as S;
  if (p.timestampMs <= old.last.timestampMs) return old; // the same sample again
  return { ...extra, prev: old.last, last: p } as S;
}

/** Usage from two points: undefined when there is no earlier point or the counter went back (a restart). */
export function usageOf(s: Series | undefined): { usage: ResourceUsage; timestampMs: number; windowMs: number } | undefined {
  if (!s?.prev) return undefined;
  const { prev, last } = s;
  const windowMs = last.timestampMs - prev.timestampMs;
  if (windowMs <= 0 || last.cpuSeconds < prev.cpuSeconds) return undefined;
  if (prev.startTimeSeconds !== undefined && last.startTimeSeconds !== undefined && prev.startTimeSeconds !== last.startTimeSeconds) return undefined;
  const cpuNanoCores = Math.round(((last.cpuSeconds - prev.cpuSeconds) / (windowMs / 1000)) * 1e9);
  return { usage: { cpuNanoCores, memoryBytes: Math.round(last.memoryBytes) }, timestampMs: last.timestampMs, windowMs };
}

export class MetricsStore {
  readonly #nodes = new Map<string, NodeSeries>();

  /** Adds one node's scrape: each series keeps its last two points; containers gone from the node are dropped. */
  add(node: string, scrape: Scrape): void {
    const old = this.#nodes.get(node);
    const next: NodeSeries = { containers: new Map() };
    if (scrape.node) next.node = advance(old?.node, scrape.node, {});
    for (const [key, c] of scrape.containers) {
      const { namespace, pod, container, ...point } = c;
      next.containers.set(key, advance(old?.containers.get(key), point, { namespace, pod, container }));
    }
    this.#nodes.set(node, next);
  }

  /** Forgets nodes that are gone or no longer Ready. */
  retain(nodes: Set<string>): void {
    for (const n of [...this.#nodes.keys()]) if (!nodes.has(n)) this.#nodes.delete(n);
  }

  /** Whether at least one node has two samples (a rate can be computed). */
  hasRates(): boolean {
    for (const n of this.#nodes.values()) if (n.node?.prev) return true;
    return false;
  }

  nodeMetrics(): NodeMetricsPoint[] {
    const out: NodeMetricsPoint[] = [];
    for (const [node, s] of this.#nodes) {
      const u = usageOf(s.node);
      if (u) out.push({ node, ...u });
    }
    return out.sort((a, b) => a.node.localeCompare(b.node));
  }

  podMetrics(namespace?: string): PodMetricsPoint[] {
    const pods = new Map<string, PodMetricsPoint>();
    for (const s of this.#nodes.values()) {
      for (const c of s.containers.values()) {
        if (namespace !== undefined && c.namespace !== namespace) continue;
        const u = usageOf(c);
        if (!u) continue;
        const key = `${c.namespace}/${c.pod}`;
        const p = pods.get(key) ?? { namespace: c.namespace, pod: c.pod, timestampMs: 0, windowMs: 0, containers: [] as ContainerMetricsPoint[] };
        p.containers.push({ name: c.container, usage: u.usage });
        if (u.timestampMs > p.timestampMs) { p.timestampMs = u.timestampMs; p.windowMs = u.windowMs; }
        pods.set(key, p);
      }
    }
    for (const p of pods.values()) p.containers.sort((a, b) => a.name.localeCompare(b.name));
    return [...pods.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod));
  }
}
