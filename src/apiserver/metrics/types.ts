// What the metrics API and the HorizontalPodAutoscaler read: usage computed from two scrapes
// of each node's /metrics/resource. CPU is a rate over the window between the two samples,
// memory the working set at the later one.

export interface ResourceUsage {
  /** CPU in cores × 10^9 (nanocores). */
  cpuNanoCores: number;
  memoryBytes: number;
}

export interface NodeMetricsPoint {
  node: string;
  /** The later sample's time (ms since the epoch). */
  timestampMs: number;
  /** Time between the two samples the CPU rate is computed from. */
  windowMs: number;
  usage: ResourceUsage;
}

export interface ContainerMetricsPoint {
  name: string;
  usage: ResourceUsage;
}

export interface PodMetricsPoint {
  namespace: string;
  pod: string;
  timestampMs: number;
  windowMs: number;
  containers: ContainerMetricsPoint[];
}

/** The in-process metrics source (the API server's scraper; tests pass a fake). */
export interface ResourceMetricsSource {
  nodeMetrics(): Promise<NodeMetricsPoint[]>;
  /** Every pod's metrics, or one namespace's. */
  podMetrics(namespace?: string): Promise<PodMetricsPoint[]>;
}
