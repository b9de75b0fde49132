// `npm run bench -- store [--quick] [--full]`: the datastore drivers side by side in one
// run: the embedded SQLite store and a 3-member etcd on loopback (needs the `etcd` binary;
// its column is skipped otherwise). In this process, no API server: creates/s one at a
// time and with 64 in flight, list latency with 10,000 objects (and 100,000 with --full),
// and watch fan-out: 100 watchers on one prefix, time from a write's start until all 100
// have its event. Then through a real `skiff server` on each datastore: ConfigMap
// creates/s from 64 concurrent HTTPS clients (issue 7's goal on etcd: ≥ 1,000/s).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { cpuSeconds, prepareBundle, report, startBenchServer, summarize } from './lib.ts';
import type { Row } from './lib.ts';
import type { Store } from '../src/store/types.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { EtcdStore } from '../src/store/etcd/etcd-store.ts';
import { etcdBinary } from '../src/store/etcd/local-etcd.ts';
import { startEtcdCluster } from '../test/helpers/etcd-cluster.ts';

const VALUE = JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x', namespace: 'default' }, data: { k: 'v'.repeat(400) } });

interface Sizes { sequential: number; concurrent: number; lists: number[]; watchWrites: number; apiCreates: number; members: number; api: boolean; tmpfs: boolean }

const say = (what: string): void => { process.stderr.write(`store: ${what}\n`); };

/** What to kill if the bench itself is stopped (the harness's timeout sends SIGTERM): etcd members, servers. */
const onStop = new Set<() => void>();
function stopChildrenOnSignal(): void {
  const stop = (): void => { for (const fn of onStop) fn(); process.exit(143); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
const startCluster: typeof startEtcdCluster = async (opts) => {
  const cluster = await startEtcdCluster(opts);
  const kill = (): void => {
    for (const m of cluster.members) void m.kill(); // sends SIGKILL at once
    rmSync(cluster.dir, { recursive: true, force: true });
  };
  onStop.add(kill);
  const stop = cluster.stop;
  return { ...cluster, stop: async () => { onStop.delete(kill); await stop(); } };
};

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** Creates keys `<prefix><i>` for i in [from, to) with 64 in flight. */
async function fill(store: Store, prefix: string, from: number, to: number): Promise<void> {
  let next = from;
  const worker = async () => { while (next < to) { const i = next++; await store.create(`${prefix}${String(i).padStart(7, '0')}`, VALUE); } };
  await Promise.all(Array.from({ length: 64 }, worker));
}

async function measure(store: Store, o: Sizes): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  say(`${o.sequential} creates one at a time, ${o.concurrent} with 64 in flight`);
  let s = await timed(async () => { for (let i = 0; i < o.sequential; i++) await store.create(`/registry/seq/${i}`, VALUE); });
  out['creates/s sequential'] = o.sequential / s;
  s = await timed(() => fill(store, '/registry/conc/', 0, o.concurrent));
  out['creates/s 64 concurrent'] = o.concurrent / s;

  // List latency at each size: the objects are added up to it, then 7 lists of all of them.
  let have = 0;
  for (const n of o.lists) {
    say(`lists of ${n} objects`);
    await fill(store, '/registry/list/', have, n);
    have = n;
    const full: number[] = [];
    const page: number[] = [];
    for (let i = 0; i < 7; i++) {
      full.push(await timed(async () => { await store.list('/registry/list/'); }) * 1000);
      page.push(await timed(async () => { await store.list('/registry/list/', { limit: 500 }); }) * 1000);
    }
    out[`list ${n} p50`] = summarize(full).p50;
    out[`list ${n} limit=500 p50`] = summarize(page).p50;
  }

  say(`watch fan-out: ${o.watchWrites} writes to 100 watchers`);
  const watchers = 100;
  const rev = await store.currentRevision();
  const started = new Map<string, number>();
  const seen = new Map<string, number>();
  const latency: number[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => { done = r; });
  const ws = Array.from({ length: watchers }, () => store.watch('/registry/watch/', rev, {
    onEvent: (ev) => {
      const n = (seen.get(ev.kv.key) ?? 0) + 1;
      seen.set(ev.kv.key, n);
      if (n === watchers) {
        latency.push(performance.now() - started.get(ev.kv.key)!);
        if (latency.length === o.watchWrites) done();
      }
    },
  }));
  s = await timed(async () => {
    for (let i = 0; i < o.watchWrites; i++) {
      const key = `/registry/watch/${i}`;
      started.set(key, performance.now());
      await store.create(key, VALUE);
    }
    await all;
  });
  for (const w of ws) w.close();
  out['watch 100x events delivered/s'] = (o.watchWrites * watchers) / s;
  out['watch write→all 100 p50'] = summarize(latency).p50;
  out['watch write→all 100 p99'] = summarize(latency).p99;
  return out;
}

interface ApiResult { perSecond: number; serverCpu: number; etcdCpu: number }

/**
 * ConfigMap creates/s through a `skiff server` (extra `args` pick its datastore), 64
 * keep-alive HTTPS clients, and the CPU seconds the server and `etcdPids` used meanwhile:
 * creates per CPU-second does not depend on what else the machine runs.
 */
async function apiCreates(args: string[], total: number, etcdPids: () => number[] = () => []): Promise<ApiResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-bench-store-api-'));
  const children: ChildProcess[] = [];
  const kill = (): void => { for (const c of children) c.kill('SIGKILL'); };
  onStop.add(kill);
  try {
    const server = await startBenchServer(dataDir, { children, args });
    say(`${total} creates through ${server.url} ${args.join(' ')}`);
    const agent = new https.Agent({ ...server.tls, keepAlive: true, maxSockets: 64 });
    const post = (name: string): Promise<number> => new Promise((resolve, reject) => {
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { payload: 'x'.repeat(200) } });
      const req = https.request(`${server.url}/api/v1/namespaces/default/configmaps`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end(body);
    });
    // Warm up (TLS sessions, the configmaps cache), then measure.
    await Promise.all(Array.from({ length: 64 }, (_, i) => post(`warm-${i}`)));
    let next = 0;
    const pids = etcdPids();
    const cpu = (): [number, number] => [cpuSeconds(server.child.pid!), pids.reduce((sum, p) => sum + cpuSeconds(p), 0)];
    const before = cpu();
    const s = await timed(async () => {
      await Promise.all(Array.from({ length: 64 }, async () => {
        while (next < total) {
          const code = await post(`c-${next++}`);
          if (code !== 201) throw new Error(`create answered ${code}`);
        }
      }));
    });
    const after = cpu();
    agent.destroy();
    return { perSecond: total / s, serverCpu: after[0] - before[0], etcdCpu: after[1] - before[1] };
  } finally {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) { c.kill('SIGTERM'); await once(c, 'exit'); }
    }
    onStop.delete(kill);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const flag = (args: string[], name: string): number | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : undefined;
};

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const full = args.includes('--full');
  const objects = flag(args, 'objects');
  const o: Sizes = {
    sequential: quick ? 100 : 2000, concurrent: quick ? 500 : 10_000,
    lists: objects ? [objects] : quick ? [1000] : full ? [10_000, 100_000] : [10_000],
    watchWrites: quick ? 50 : 1000, apiCreates: flag(args, 'api-creates') ?? (quick ? 200 : 5000),
    members: flag(args, 'etcd-members') ?? 3, api: !args.includes('--no-api'),
    // etcd's members fsync their log on every commit (SQLite's WAL, synchronous=NORMAL,
    // does not): --etcd-tmpfs puts their data in /dev/shm to show what the disk costs.
    tmpfs: args.includes('--etcd-tmpfs'),
  };
  const clusterDir = (): string | undefined => (o.tmpfs ? mkdtempSync(join('/dev/shm', 'skiff-bench-etcd-')) : undefined);
  const results: Record<string, Record<string, number>> = { sqlite: {}, etcd: {} };
  const etcdName = `etcd ×${o.members}${o.tmpfs ? ' tmpfs' : ''}`;

  stopChildrenOnSignal();
  const storesToo = !args.includes('--api-only');
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-bench-store-'));
  try {
    say('sqlite');
    const store = await SqliteStore.open({ dataDir });
    if (storesToo) results.sqlite = await measure(store, o);
    await store.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }

  const api = `API creates/s, 64 clients (${o.apiCreates})`;
  const perCpu = 'API creates per CPU-second';
  const record = (r: Record<string, number>, a: ApiResult): void => {
    r[api] = a.perSecond;
    // server and etcd CPU together: the rate the machine could reach with nothing else running, per core
    r[perCpu] = o.apiCreates / (a.serverCpu + a.etcdCpu);
    r['API server CPU-s per 1000 creates'] = (a.serverCpu / o.apiCreates) * 1000;
    if (a.etcdCpu) r['API etcd CPU-s per 1000 creates'] = (a.etcdCpu / o.apiCreates) * 1000;
  };
  const apiOnEtcd = async (cluster: Awaited<ReturnType<typeof startEtcdCluster>>): Promise<void> => {
    record(results.etcd!, await apiCreates(['--datastore-endpoint', cluster.endpoints], o.apiCreates,
      () => cluster.members.map((m) => m.pid()).filter((p): p is number => p !== undefined)));
  };
  if (o.api) await prepareBundle();

  let skipped: string | undefined;
  if (!etcdBinary()) skipped = 'etcd is not installed (apt-get install etcd-server)';
  else if (storesToo) {
    const dir = clusterDir();
    const cluster = await startCluster({ members: o.members, dir });
    try {
      say(`etcd, ${o.members} members`);
      const store = await EtcdStore.open({ endpoint: cluster.endpoints });
      results.etcd = await measure(store, o);
      await store.close();
      // --quick: the API on the same cluster (one cluster start less), and not on SQLite
      // (`npm run bench -- api` measures that).
      if (quick && o.api) await apiOnEtcd(cluster);
    } finally {
      await cluster.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }

  if (o.api && !(quick && storesToo)) {
    record(results.sqlite, await apiCreates([], o.apiCreates));
    if (!skipped) {
      // A fresh cluster: the API server's numbers should not depend on what the store bench left.
      const dir = clusterDir();
      const cluster = await startCluster({ members: o.members, dir });
      try {
        await apiOnEtcd(cluster);
      } finally {
        await cluster.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  const seq = 'creates/s sequential';
  const conc = 'creates/s 64 concurrent';
  if (!skipped && storesToo) {
    results.ratio = { [seq]: results.sqlite[seq]! / results.etcd[seq]!, [conc]: results.sqlite[conc]! / results.etcd[conc]! };
  }
  const metrics = [...new Set([...Object.keys(results.sqlite), ...Object.keys(results.etcd)])];
  const w = 14;
  console.log(`\n${'metric'.padEnd(36)} ${'sqlite'.padStart(w)} ${etcdName.padStart(w)} ${'sqlite/etcd'.padStart(w)}`);
  for (const m of metrics) {
    const f = (v: number | undefined) => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(2)).padStart(w);
    console.log(`${m.padEnd(36)} ${f(results.sqlite[m])} ${f(results.etcd?.[m])} ${f(results.ratio?.[m])}`);
  }
  if (skipped) console.log(`etcd skipped: ${skipped}`);
  console.log('goals: SQLite ≥ 3× etcd for writes on one machine; through the API on etcd ≥ 1,000 creates/s');

  const unit = (m: string): string => (m.includes('per CPU') ? '/CPU-s' : m.includes('/s') ? '/s' : m.includes('CPU-s') ? 's' : 'ms');
  const rows: Row[] = [];
  for (const [driver, r] of Object.entries(results)) {
    if (driver === 'ratio') continue;
    const label = driver === 'etcd' ? `etcd-${o.members}` : driver;
    for (const [m, v] of Object.entries(r)) {
      const goal = driver === 'etcd' && m.startsWith('API creates/s') ? '≥ 1000/s' : undefined;
      rows.push({ metric: `${label} ${m}`, value: v, unit: unit(m), ...(goal ? { goal } : {}) });
    }
  }
  for (const [m, v] of Object.entries(results.ratio ?? {})) rows.push({ metric: `sqlite/etcd ${m}`, value: v, unit: '×', goal: '≥ 3×' });
  report('store', rows, { options: o, quick, results, loadAverage: loadavg(), ...(skipped ? { skipped } : {}) });
}
