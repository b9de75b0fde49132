// `npm run bench -- store [--quick]`: the datastore drivers side by side, in this process
// (no API server): the embedded SQLite store and a local single-member etcd (needs the
// `etcd` binary; its column is skipped otherwise). Creates/s one at a time and with 64 in
// flight, list latency with 10,000 objects (`--objects N`), and watch fan-out: 100 watchers
// on one prefix, time from a write's start until all 100 have its event.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report, summarize } from './lib.ts';
import type { Row } from './lib.ts';
import type { Store } from '../src/store/types.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { EtcdStore } from '../src/store/etcd/etcd-store.ts';
import { etcdBinary, startEtcd } from '../src/store/etcd/local-etcd.ts';

const VALUE = JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x', namespace: 'default' }, data: { k: 'v'.repeat(400) } });

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function measure(store: Store, o: { sequential: number; concurrent: number; objects: number; watchWrites: number }) {
  const out: Record<string, number> = {};
  let s = await timed(async () => { for (let i = 0; i < o.sequential; i++) await store.create(`/registry/seq/${i}`, VALUE); });
  out['creates/s sequential'] = o.sequential / s;

  let next = 0;
  const worker = async (n: number, prefix: string) => { while (next < n) { const i = next++; await store.create(`${prefix}${String(i).padStart(7, '0')}`, VALUE); } };
  s = await timed(async () => { await Promise.all(Array.from({ length: 64 }, () => worker(o.concurrent, '/registry/conc/'))); });
  out['creates/s 64 concurrent'] = o.concurrent / s;

  next = 0;
  await Promise.all(Array.from({ length: 64 }, () => worker(o.objects, '/registry/list/')));
  const full: number[] = [];
  const page: number[] = [];
  for (let i = 0; i < 7; i++) {
    full.push(await timed(async () => { await store.list('/registry/list/'); }) * 1000);
    page.push(await timed(async () => { await store.list('/registry/list/', { limit: 500 }); }) * 1000);
  }
  out[`list ${o.objects} p50`] = summarize(full).p50;
  out['list limit=500 p50'] = summarize(page).p50;

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

const UNITS: Record<string, string> = { 'creates/s sequential': '/s', 'creates/s 64 concurrent': '/s', 'watch 100x events delivered/s': '/s' };

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const at = args.indexOf('--objects');
  const o = {
    sequential: quick ? 500 : 2000, concurrent: quick ? 2000 : 10_000,
    objects: at >= 0 ? Number(args[at + 1]) : 10_000, watchWrites: quick ? 200 : 1000,
  };
  const results: Record<string, Record<string, number>> = {};

  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-bench-store-'));
  try {
    const store = await SqliteStore.open({ dataDir });
    results.sqlite = await measure(store, o);
    await store.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }

  let skipped: string | undefined;
  if (etcdBinary()) {
    const etcd = await startEtcd({ extraArgs: ['--quota-backend-bytes', String(4 * 1024 ** 3)] });
    try {
      const store = await EtcdStore.open({ endpoint: etcd.endpoint });
      results.etcd = await measure(store, o);
      await store.close();
    } finally {
      await etcd.stop();
    }
  } else {
    skipped = 'etcd is not installed (apt-get install etcd-server)';
  }

  const metrics = Object.keys(results.sqlite!);
  console.log(`\n${'metric'.padEnd(32)} ${'sqlite'.padStart(12)} ${'etcd'.padStart(12)}`);
  for (const m of metrics) {
    const f = (v: number | undefined) => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(2)).padStart(12);
    console.log(`${m.padEnd(32)} ${f(results.sqlite![m])} ${f(results.etcd?.[m])}`);
  }
  if (skipped) console.log(`etcd skipped: ${skipped}`);
  const rows: Row[] = [];
  for (const [driver, r] of Object.entries(results)) {
    for (const [m, v] of Object.entries(r)) rows.push({ metric: `${driver} ${m}`, value: v, unit: UNITS[m] ?? 'ms' });
  }
  report('store', rows, { options: o, quick, results, ...(skipped ? { skipped } : {}) });
}
