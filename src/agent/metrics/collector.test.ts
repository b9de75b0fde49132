import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsCollector, containerUsages, type StatsRuntime } from './collector.ts';
import { parseText } from './prometheus.ts';
import type { Container, ContainerStats } from '../cri/types.ts';

const labels = (pod: string, container: string) => ({ 'io.kubernetes.pod.name': pod, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.container.name': container });
const container = (id: string, pod: string, name: string, state: Container['state'] = 'CONTAINER_RUNNING'): Container => ({
  id, podSandboxId: `s-${pod}`, metadata: { name, attempt: 0 }, image: null, imageRef: '', state, createdAt: '1700000000000000000', labels: labels(pod, name), annotations: {},
});
const stats = (id: string, cpuNs: number, ws: number): ContainerStats => ({
  attributes: { id, metadata: null, labels: {}, annotations: {} },
  cpu: { timestamp: '1700000010000000000', usageCoreNanoSeconds: { value: String(cpuNs) }, usageNanoCores: null },
  memory: { timestamp: '1700000010000000000', workingSetBytes: { value: String(ws) }, availableBytes: null, usageBytes: null, rssBytes: null, pageFaults: null, majorPageFaults: null },
  writableLayer: null,
});

test('running containers are joined with their stats; others are left out', () => {
  const out = containerUsages(
    [container('a', 'web', 'app'), container('b', 'web', 'side'), container('c', 'old', 'app', 'CONTAINER_EXITED'), { ...container('d', 'x', 'y'), labels: {} }],
    [stats('a', 2_500_000_000, 4096), stats('b', 500_000_000, 8192), stats('c', 1, 1), stats('d', 1, 1)],
    0,
  );
  assert.deepEqual(out, [
    { namespace: 'default', pod: 'web', container: 'app', cpuSeconds: 2.5, memoryWorkingSetBytes: 4096, timestampMs: 1700000010000, startTimeSeconds: 1700000000 },
    { namespace: 'default', pod: 'web', container: 'side', cpuSeconds: 0.5, memoryWorkingSetBytes: 8192, timestampMs: 1700000010000, startTimeSeconds: 1700000000 },
  ]);
});

test('the collector writes /metrics/resource with node, pod and container samples', async () => {
  const cri: StatsRuntime = {
    listContainers: async () => [container('a', 'web', 'app'), container('b', 'web', 'side')],
    listContainerStats: async () => [stats('a', 2_500_000_000, 4096), stats('b', 500_000_000, 8192)],
    listPodSandbox: async () => [],
  };
  const c = new MetricsCollector({ cri, nodeUsage: async () => ({ cpuSeconds: 99, memoryWorkingSetBytes: 1e9, timestampMs: 1700000011000 }) });
  const samples = parseText(await c.resourceMetrics());
  const find = (name: string, l: Record<string, string> = {}) => samples.find((s) => s.name === name && Object.entries(l).every(([k, v]) => s.labels[k] === v));
  assert.equal(find('node_cpu_usage_seconds_total')?.value, 99);
  assert.equal(find('node_memory_working_set_bytes')?.timestampMs, 1700000011000);
  assert.equal(find('container_cpu_usage_seconds_total', { pod: 'web', container: 'side' })?.value, 0.5);
  assert.equal(find('pod_cpu_usage_seconds_total', { pod: 'web' })?.value, 3);
  assert.equal(find('pod_memory_working_set_bytes', { pod: 'web' })?.value, 12288);
  assert.equal(find('resource_scrape_error')?.value, 0);
});

test('a failing runtime gives resource_scrape_error 1 and counts the error in /metrics', async () => {
  const fail = async () => { throw new Error('down'); };
  const c = new MetricsCollector({ cri: { listContainers: fail, listContainerStats: fail, listPodSandbox: fail }, nodeUsage: async () => ({ cpuSeconds: 1, memoryWorkingSetBytes: 1, timestampMs: 1 }) });
  assert.equal(parseText(await c.resourceMetrics()).find((s) => s.name === 'resource_scrape_error')?.value, 1);
  const own = parseText(await c.agentMetrics());
  assert.ok(own.find((s) => s.name === 'process_resident_memory_bytes')!.value > 0);
  assert.equal(own.find((s) => s.name === 'skiff_agent_metrics_cri_errors_total')?.value, 2);
  assert.equal(own.find((s) => s.name === 'skiff_agent_pods_running'), undefined);
});
