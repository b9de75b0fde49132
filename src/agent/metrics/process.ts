// The agent's own metrics for /metrics: the standard process_* and nodejs_* families that
// Prometheus client libraries export, plus the agent's gauges and counters. Pure builder;
// the numbers come from process.* and the collector.
import { readdirSync, readFileSync } from 'node:fs';
import { formatFamilies, type MetricFamily } from './prometheus.ts';

export interface ProcessSnapshot {
  residentMemoryBytes: number;
  virtualMemoryBytes?: number;
  cpuSecondsTotal: number;
  startTimeSeconds: number;
  openFds?: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

export interface AgentCounters {
  /** Pod sandboxes ready on this node. */
  podsRunning?: number;
  /** Containers running on this node. */
  containersRunning?: number;
  /** CRI calls made by the metrics collector that failed. */
  criErrors: number;
  /** Scrapes of /metrics/resource served. */
  resourceScrapes: number;
}

/** Now minus the process uptime: as good as /proc/self/stat's start ticks for a gauge in seconds. */
const PROCESS_START_SECONDS = Math.round((Date.now() - process.uptime() * 1000) / 1000);

function procStatus(key: string): number | undefined {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

/** The live numbers of this process. */
export function processSnapshot(): ProcessSnapshot {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    residentMemoryBytes: mem.rss,
    virtualMemoryBytes: procStatus('VmSize'),
    cpuSecondsTotal: (cpu.user + cpu.system) / 1e6,
    startTimeSeconds: PROCESS_START_SECONDS,
    openFds: openFds(),
    heapUsedBytes: mem.heapUsed,
    heapTotalBytes: mem.heapTotal,
    externalBytes: mem.external,
  };
}

export function agentMetricsFamilies(p: ProcessSnapshot, a: AgentCounters): MetricFamily[] {
  const one = (value: number | undefined) => (value === undefined ? [] : [{ value }]);
  return [
    { name: 'process_cpu_seconds_total', type: 'counter', help: 'Total user and system CPU time spent in seconds.', samples: one(p.cpuSecondsTotal) },
    { name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident memory size in bytes.', samples: one(p.residentMemoryBytes) },
    { name: 'process_virtual_memory_bytes', type: 'gauge', help: 'Virtual memory size in bytes.', samples: one(p.virtualMemoryBytes) },
    { name: 'process_start_time_seconds', type: 'gauge', help: 'Start time of the process since unix epoch in seconds.', samples: one(p.startTimeSeconds) },
    { name: 'process_open_fds', type: 'gauge', help: 'Number of open file descriptors.', samples: one(p.openFds) },
    { name: 'nodejs_heap_size_used_bytes', type: 'gauge', help: 'Process heap size used from Node.js in bytes.', samples: one(p.heapUsedBytes) },
    { name: 'nodejs_heap_size_total_bytes', type: 'gauge', help: 'Process heap size from Node.js in bytes.', samples: one(p.heapTotalBytes) },
    { name: 'nodejs_external_memory_bytes', type: 'gauge', help: 'Node.js external memory size in bytes.', samples: one(p.externalBytes) },
    { name: 'skiff_agent_pods_running', type: 'gauge', help: 'Pod sandboxes ready on this node.', samples: one(a.podsRunning) },
    { name: 'skiff_agent_containers_running', type: 'gauge', help: 'Containers running on this node.', samples: one(a.containersRunning) },
    { name: 'skiff_agent_metrics_cri_errors_total', type: 'counter', help: 'CRI calls made to collect metrics that failed.', samples: one(a.criErrors) },
    { name: 'skiff_agent_resource_scrapes_total', type: 'counter', help: 'Requests for /metrics/resource served.', samples: one(a.resourceScrapes) },
  ];
}

export function agentMetricsText(p: ProcessSnapshot, a: AgentCounters): string {
  return formatFamilies(agentMetricsFamilies(p, a));
}
