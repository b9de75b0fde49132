// The kubelet's resource metrics endpoint (/metrics/resource), the text metrics-server
// scrapes: node, pod and container CPU (cumulative core-seconds) and memory working set,
// each sample stamped with the time it was measured. Pure: built from a snapshot.
import { formatFamilies, type MetricFamily, type Sample } from './prometheus.ts';
import type { NodeUsage } from './node-stats.ts';

export interface ContainerUsage {
  namespace: string;
  pod: string;
  container: string;
  /** Cumulative CPU time in seconds. */
  cpuSeconds: number;
  memoryWorkingSetBytes: number;
  /** When the runtime measured it (ms since the epoch). */
  timestampMs: number;
  /** When the container started (seconds since the epoch), if known. */
  startTimeSeconds?: number;
}

export interface ResourceSnapshot {
  node?: NodeUsage;
  containers: ContainerUsage[];
  /** True when the container stats could not be read (resource_scrape_error 1). */
  scrapeError?: boolean;
}

const podKey = (c: ContainerUsage) => `${c.namespace}\u0000${c.pod}`;

/** Pod usage as the sum of its containers (the kubelet reads the pod cgroup; the sum leaves out only the pause process). */
export function podUsage(containers: ContainerUsage[]): { namespace: string; pod: string; cpuSeconds: number; memoryWorkingSetBytes: number; timestampMs: number }[] {
  const pods = new Map<string, { namespace: string; pod: string; cpuSeconds: number; memoryWorkingSetBytes: number; timestampMs: number }>();
  for (const c of containers) {
    const p = pods.get(podKey(c)) ?? { namespace: c.namespace, pod: c.pod, cpuSeconds: 0, memoryWorkingSetBytes: 0, timestampMs: 0 };
    p.cpuSeconds += c.cpuSeconds;
    p.memoryWorkingSetBytes += c.memoryWorkingSetBytes;
    p.timestampMs = Math.max(p.timestampMs, c.timestampMs);
    pods.set(podKey(c), p);
  }
  return [...pods.values()];
}

export function resourceMetricsFamilies(s: ResourceSnapshot): MetricFamily[] {
  const sorted = [...s.containers].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod) || a.container.localeCompare(b.container));
  const cLabels = (c: ContainerUsage) => ({ container: c.container, namespace: c.namespace, pod: c.pod });
  const pods = podUsage(sorted);
  const node = (v: number | undefined): Sample[] => (s.node && v !== undefined ? [{ value: v, timestampMs: s.node.timestampMs }] : []);
  return [
    { name: 'container_cpu_usage_seconds_total', type: 'counter', help: '[STABLE] Cumulative cpu time consumed by the container in core-seconds', samples: sorted.map((c) => ({ labels: cLabels(c), value: c.cpuSeconds, timestampMs: c.timestampMs })) },
    { name: 'container_memory_working_set_bytes', type: 'gauge', help: '[STABLE] Current working set of the container in bytes', samples: sorted.map((c) => ({ labels: cLabels(c), value: c.memoryWorkingSetBytes, timestampMs: c.timestampMs })) },
    { name: 'container_start_time_seconds', type: 'gauge', help: '[STABLE] Start time of the container since unix epoch in seconds', samples: sorted.filter((c) => c.startTimeSeconds !== undefined).map((c) => ({ labels: cLabels(c), value: c.startTimeSeconds!, timestampMs: c.timestampMs })) },
    { name: 'node_cpu_usage_seconds_total', type: 'counter', help: '[STABLE] Cumulative cpu time consumed by the node in core-seconds', samples: node(s.node?.cpuSeconds) },
    { name: 'node_memory_working_set_bytes', type: 'gauge', help: '[STABLE] Current working set of the node in bytes', samples: node(s.node?.memoryWorkingSetBytes) },
    { name: 'pod_cpu_usage_seconds_total', type: 'counter', help: '[STABLE] Cumulative cpu time consumed by the pod in core-seconds', samples: pods.map((p) => ({ labels: { namespace: p.namespace, pod: p.pod }, value: p.cpuSeconds, timestampMs: p.timestampMs })) },
    { name: 'pod_memory_working_set_bytes', type: 'gauge', help: '[STABLE] Current working set of the pod in bytes', samples: pods.map((p) => ({ labels: { namespace: p.namespace, pod: p.pod }, value: p.memoryWorkingSetBytes, timestampMs: p.timestampMs })) },
    { name: 'resource_scrape_error', type: 'gauge', help: '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', samples: [{ value: s.scrapeError ? 1 : 0 }] },
  ];
}

export function resourceMetricsText(s: ResourceSnapshot): string {
  return formatFamilies(resourceMetricsFamilies(s));
}
