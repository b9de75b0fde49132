// Small helpers shared by benchmarks: percentiles, a results writer, a table printer.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { count: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] };
}

export interface Row { metric: string; value: number; unit: string; goal?: string }

export function report(name: string, rows: Row[], extra: Record<string, unknown> = {}): void {
  const width = Math.max(...rows.map((r) => r.metric.length));
  console.log(`\n${name}`);
  for (const r of rows) {
    console.log(`  ${r.metric.padEnd(width)}  ${formatNumber(r.value).padStart(10)} ${r.unit.padEnd(8)}${r.goal ? `  goal ${r.goal}` : ''}`);
  }
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, date: new Date().toISOString(), node: process.version, rows, ...extra }, null, 2));
  console.log(`  → ${path.relative(process.cwd(), file)}`);
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

const TICK = 100; // clock ticks per second (USER_HZ)

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK; // utime + stime
}

/** A process's resident set size in MB, from /proc. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Runs `measure` inside a network namespace of its own (root only): the bench re-runs
 * itself under `ip netns exec`, marked by the env variable `flag`, and the namespace is
 * deleted afterwards, also when the run fails.
 */
export async function inOwnNetns(prefix: string, flag: string, measure: () => Promise<void>): Promise<void> {
  if (process.env[flag]) return measure();
  const ns = `${prefix}-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit', env: { ...process.env, [flag]: ns },
    });
    if (r.status !== 0) process.exitCode = r.status ?? 1;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}
