// The node's own usage from /proc: cumulative CPU time from /proc/stat and the memory
// working set from /proc/meminfo. The kubelet reads the root cgroup instead; for a whole
// machine the two agree closely, and /proc needs no cgroup layout knowledge.
import { readFile } from 'node:fs/promises';

/** USER_HZ: the unit of /proc/stat (100 on every Linux architecture we run on). */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Cumulative non-idle CPU seconds over all cores from /proc/stat's aggregate "cpu" line:
 * user + nice + system + irq + softirq + steal (idle and iowait are not usage; guest time is
 * already counted in user and nice).
 */
export function parseProcStatCpuSeconds(text: string): number {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Memory working set in bytes: MemTotal - MemAvailable. (The kubelet's is the root cgroup's
 * usage minus inactive file pages; MemAvailable is the kernel's own estimate of what could be
 * reclaimed, which is the same idea for the whole machine.)
 */
export function parseMeminfoWorkingSet(text: string): number {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  if (total === undefined) throw new Error('/proc/meminfo has no MemTotal');
  const available = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Cached') ?? 0) + (kb('Buffers') ?? 0);
  return Math.max(0, total - available);
}

export interface NodeUsage {
  cpuSeconds: number;
  memoryWorkingSetBytes: number;
  timestampMs: number;
}

export async function readNodeUsage(now: () => number = Date.now, proc = '/proc'): Promise<NodeUsage> {
  const [stat, meminfo] = await Promise.all([readFile(`${proc}/stat`, 'utf8'), readFile(`${proc}/meminfo`, 'utf8')]);
  return { cpuSeconds: parseProcStatCpuSeconds(stat), memoryWorkingSetBytes: parseMeminfoWorkingSet(meminfo), timestampMs: now() };
}
