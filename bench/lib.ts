// Small helpers shared by benchmarks: percentiles, a results writer, a table printer.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import YAML from 'yaml';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import os from 'node:os';
import { once } from 'node:events';
import { LineSplitter } from '../src/client/ndjson.ts';

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

/** Where results go: bench/results, or $SKIFF_BENCH_RESULTS_DIR (the harness test uses a temp dir). */
export function resultsDir(): string {
  return process.env.SKIFF_BENCH_RESULTS_DIR || path.join(import.meta.dirname, 'results');
}

export function report(name: string, rows: Row[], extra: Record<string, unknown> = {}): void {
  const width = Math.max(...rows.map((r) => r.metric.length));
  console.log(`\n${name}`);
  for (const r of rows) {
    console.log(`  ${r.metric.padEnd(width)}  ${formatNumber(r.value).padStart(10)} ${r.unit.padEnd(8)}${r.goal ? `  goal ${r.goal}` : ''}`);
  }
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, date: new Date().toISOString(), node: process.version, machine: machine(), rows, ...extra }, null, 2));
  console.log(`  → ${path.relative(process.cwd(), file)}`);
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

const TICK = 100; // clock ticks per second (USER_HZ)

/** A /proc file of a process; undefined once the process is gone (a sampler must not crash the bench and orphan the rest). */
function procFile(pid: number, name: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw err;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  const stat = procFile(pid, 'stat');
  if (stat === undefined) return NaN;
  const fields = stat.split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK; // utime + stime
}

/** A process's resident set size in MB, from /proc; NaN once it is gone. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(procFile(pid, 'status') ?? '');
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

/** A value sampled over a run, for the report's line charts: [seconds since start, value]. */
export interface Series { metric: string; unit: string; points: [number, number][] }

/** Latency percentiles of one measured operation, for the report's bar charts. */
export interface Percentiles { metric: string; unit: string; count: number; p50: number; p90: number; p99: number; max: number; goal?: number }

export function percentiles(metric: string, samples: number[], goal?: number, unit = 'ms'): Percentiles {
  return { metric, unit, ...summarize(samples), ...(goal === undefined ? {} : { goal }) };
}

/** The machine a result was measured on, for the report. */
export function machine(): Record<string, unknown> {
  return {
    cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryMb: Math.round(os.totalmem() / 2 ** 20),
    kernel: os.release(), node: process.version, load: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** A free TCP port on 127.0.0.1 (closed again; a race with other processes is possible but rare). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/**
 * Rebuilds the bundle in dist/ so servers the bench starts run as shipped; with
 * SKIFF_FROM_SOURCE=1 (bin/skiff.js then runs the sources through tsx) nothing is built,
 * which is what the harness test uses: it must not rewrite dist/ under other tests.
 */
export async function prepareBundle(): Promise<void> {
  if (process.env.SKIFF_FROM_SOURCE === '1') return;
  const { buildDist } = await import('../scripts/build.ts');
  await buildDist();
}

const BIN = path.resolve(import.meta.dirname, '../bin/skiff.js');

/** TLS options for the admin user of the server whose data dir this is. */
export function adminTls(dataDir: string): https.AgentOptions {
  const kc = YAML.parse(readFileSync(path.join(dataDir, 'kubeconfig.yaml'), 'utf8'));
  return {
    ca: Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64'),
    cert: Buffer.from(kc.users[0].user['client-certificate-data'], 'base64'),
    key: Buffer.from(kc.users[0].user['client-key-data'], 'base64'),
  };
}

/**
 * `skiff server --disable-agent [args]` on a free port (SKIFF_BENCH_SERVER_NODE_FLAGS go to node,
 * e.g. --cpu-prof; SKIFF_BENCH_SERVER_STDERR passes its stderr through; SKIFF_BENCH_SERVER_STDOUT=FILE
 * writes its stdout there, e.g. for --trace-gc). Resolves when it
 * prints its ready line; an exit after that is reported to `onExit` with the stderr tail.
 */
export async function startBenchServer(dataDir: string, opts: { children?: ChildProcess[]; onExit?: (what: string) => void; args?: string[] } = {}): Promise<{ child: ChildProcess; url: string; tls: https.AgentOptions }> {
  const nodeFlags = (process.env.SKIFF_BENCH_SERVER_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, BIN, 'server', '--data-dir', dataDir, '--https-listen-port', '0', '--disable-agent', ...(opts.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  opts.children?.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); if (process.env.SKIFF_BENCH_SERVER_STDERR) process.stderr.write(d); });
  const stdoutFile = process.env.SKIFF_BENCH_SERVER_STDOUT;
  if (stdoutFile) child.stdout!.pipe(createWriteStream(stdoutFile));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      const m = out.match(/ready at (https:\/\/\S+)/);
      if (m) { child.stdout!.off('data', onData); if (!stdoutFile) child.stdout!.resume(); resolve(m[1]!); }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
  child.once('exit', (code, signal) => opts.onExit?.(`server exited (${code ?? signal}): ${stderr}`));
  return { child, url, tls: adminTls(dataDir) };
}

/** SIGTERM, then SIGKILL if the child has not exited within 20 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await once(child, 'exit');
  clearTimeout(killer);
}

/** Stops the children, the last started first (the simulator before the server). */
export async function stopChildren(children: ChildProcess[]): Promise<void> {
  for (const child of [...children].reverse()) await stopChild(child);
}

export interface WatchEvent<T = any> { type: string; object: T }

/**
 * A watch of `listPath` from `fromRv` that resumes from the last resourceVersion it saw
 * when the stream ends or fails; bookmarks move it on and are not passed on, ERROR events
 * are logged.
 */
export function resumableWatch<T extends { metadata?: { resourceVersion?: string } }>(
  conn: { url: string; tls: https.AgentOptions }, listPath: string, fromRv: string,
  log: (line: string) => void, onEvent: (ev: WatchEvent<T>) => void,
): { close(): void } {
  const agent = new https.Agent({ ...conn.tls, keepAlive: false });
  let closed = false;
  let req: ReturnType<typeof https.get> | undefined;
  let rv = fromRv;
  const sep = listPath.includes('?') ? '&' : '?';
  const open = () => {
    if (closed) return;
    req = https.get(`${conn.url}${listPath}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`, { agent }, (res) => {
      const lines = new LineSplitter((line) => {
        const ev = JSON.parse(line) as WatchEvent<T>;
        if (ev.type === 'ERROR') { log(`watch ${listPath}: ${line.slice(0, 300)}`); return; }
        if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
        if (ev.type !== 'BOOKMARK') onEvent(ev);
      });
      res.setEncoding('utf8');
      res.on('data', (d: string) => lines.push(d));
      res.on('end', () => { if (!closed) { log(`watch ${listPath} ended; resuming`); open(); } });
    });
    req.on('error', (err) => { if (!closed) { log(`watch ${listPath}: ${err.message}; resuming`); setTimeout(open, 200); } });
  };
  open();
  return { close() { closed = true; req?.destroy(); agent.destroy(); } };
}
