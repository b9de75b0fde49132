import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMeminfoWorkingSet, parseProcStatCpuSeconds, readNodeUsage } from './node-stats.ts';

test('node CPU seconds are the non-idle ticks of the aggregate line', () => {
  const stat = 'cpu  100 20 30 5000 40 6 7 8 0 0\ncpu0 50 10 15 2500 20 3 3 4 0 0\n';
  assert.equal(parseProcStatCpuSeconds(stat), (100 + 20 + 30 + 6 + 7 + 8) / 100);
});

test('node working set is MemTotal - MemAvailable', () => {
  const meminfo = 'MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:   12000000 kB\n';
  assert.equal(parseMeminfoWorkingSet(meminfo), 4000000 * 1024);
});

test('this machine has a node usage', async () => {
  const u = await readNodeUsage();
  assert.ok(u.cpuSeconds > 0 && u.memoryWorkingSetBytes > 0);
});
