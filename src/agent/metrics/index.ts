export { MetricsCollector, containerUsages, type CollectorOptions, type StatsRuntime } from './collector.ts';
export { resourceMetricsText, resourceMetricsFamilies, podUsage, type ContainerUsage, type ResourceSnapshot } from './resource.ts';
export { agentMetricsText, processSnapshot, type AgentCounters, type ProcessSnapshot } from './process.ts';
export { readNodeUsage, parseMeminfoWorkingSet, parseProcStatCpuSeconds, type NodeUsage } from './node-stats.ts';
export { CONTENT_TYPE, formatFamilies, parseText, type MetricFamily, type ParsedSample } from './prometheus.ts';
export { serveMetrics, METRICS_PATHS, type MetricsEndpoints } from './http.ts';
