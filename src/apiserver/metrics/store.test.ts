import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../agent/metrics/prometheus.ts';
import { resourceMetricsText } from '../../agent/metrics/resource.ts';
import { goDuration } from './api.ts';
import { MetricsStore, readScrape } from './store.ts';

const scrape = (t: number, nodeCpu: number, cCpu: number, start = 1000) => readScrape(parseText(resourceMetricsText({
  node: { cpuSeconds: nodeCpu, memoryWorkingSetBytes: 2 ** 30, timestampMs: t },
  containers: [{ namespace: 'default', pod: 'p', container: 'c', cpuSeconds: cCpu, memoryWorkingSetBytes: 8192, timestampMs: t, startTimeSeconds: start }],
})), t);

test('usage is the rate between the last two samples', () => {
  const s = new MetricsStore();
  s.add('n1', scrape(1_000_000, 100, 10));
  assert.deepEqual(s.nodeMetrics(), []);
  s.add('n1', scrape(1_015_000, 115, 13));
  assert.deepEqual(s.nodeMetrics(), [{ node: 'n1', timestampMs: 1_015_000, windowMs: 15_000, usage: { cpuNanoCores: 1e9, memoryBytes: 2 ** 30 } }]);
  assert.deepEqual(s.podMetrics('default'), [{ namespace: 'default', pod: 'p', timestampMs: 1_015_000, windowMs: 15_000, containers: [{ name: 'c', usage: { cpuNanoCores: 200_000_000, memoryBytes: 8192 } }] }]);
  assert.deepEqual(s.podMetrics('other'), []);
});

test('a restarted container has no rate; gone nodes are forgotten', () => {
  const s = new MetricsStore();
  s.add('n1', scrape(1_000_000, 100, 10));
  s.add('n1', scrape(1_015_000, 115, 1, 2000));
  assert.deepEqual(s.podMetrics(), []);
  s.retain(new Set());
  assert.deepEqual(s.nodeMetrics(), []);
});

test('windows are written as Go durations', () => {
  assert.equal(goDuration(15_000), '15s');
  assert.equal(goDuration(1_058), '1.058s');
  assert.equal(goDuration(90_000), '1m30s');
});
