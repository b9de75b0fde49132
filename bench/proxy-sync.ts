// The service proxy's sync cost: the real ServiceProxy (informers over FakeResource, model,
// render, diff, nft) programming a network namespace of its own. Measures the first
// full sync of S Services × E endpoints (default 1,000 × 10; --quick 20 × 3), then C
// syncs that each change one endpoint of one Service (default 200; --quick 20): from the
// EndpointSlice update to nft having applied it (debounce set to 0), and nft's own share.
// --one-shot runs `nft -f -` per sync instead of the proxy's long-lived `nft -i`, for
// comparison. Root only. The bench re-runs itself inside the namespace (`ip netns exec`), so nft runs
// there directly, as it does in the agent.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { FakeResource } from '../src/client/fake-resource.ts';
import { Informer } from '../src/client/informer.ts';
import { nftRunner } from '../src/proxy/nft.ts';
import { ServiceProxy, type SyncResult } from '../src/proxy/proxy.ts';
import { ep, service, slice } from '../src/proxy/testing.ts';
import { silentLogger } from '../src/util/log.ts';
import { inOwnNetns, report, summarize, type Row } from './lib.ts';

export function run(argv: string[]): Promise<void> {
  return inOwnNetns('skiffbench-proxy', 'SKIFF_BENCH_PROXY_NETNS', () => measure(argv));
}

const ipOf = (n: number) => `10.${40 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;

async function measure(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean' }, 'one-shot': { type: 'boolean' }, services: { type: 'string' }, endpoints: { type: 'string' }, changes: { type: 'string' } } });
  const S = Number(values.services ?? (values.quick ? 20 : 1000));
  const E = Number(values.endpoints ?? (values.quick ? 3 : 10));
  const C = Number(values.changes ?? (values.quick ? 20 : 200));
  const services = new FakeResource();
  const slices = new FakeResource();
  for (let i = 0; i < S; i++) {
    await services.create(service('bench', `svc-${i}`, { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80 }] }));
    await slices.create(slice('bench', `svc-${i}`, `svc-${i}-1`, Array.from({ length: E }, (_, j) => ep(ipOf(i * E + j))), [{ name: 'http', port: 8080 }]));
  }
  const svcInformer = new Informer(services, { name: 'services' });
  const sliceInformer = new Informer(slices, { name: 'endpointslices' });
  svcInformer.start();
  sliceInformer.start();
  await Promise.all([svcInformer.waitForSync(), sliceInformer.waitForSync()]);

  let waiter: ((s: SyncResult) => void) | undefined;
  const proxy = new ServiceProxy({
    services: svcInformer, endpointSlices: sliceInformer, nodeName: 'bench-node', clusterCidr: '10.40.0.0/14',
    table: 'skiff-svc-bench', debounceMs: 0, log: silentLogger,
    // --one-shot: `nft -f -` per sync, as before the proxy kept one `nft -i` (for comparison).
    ...(values['one-shot'] ? { nft: nftRunner() } : {}),
    onSync: (s) => { const w = waiter; waiter = undefined; w?.(s); },
  });
  const nextSync = () => new Promise<SyncResult>((r) => { waiter = r; });

  let t0 = performance.now();
  let synced = nextSync();
  proxy.start();
  const first = await synced;
  if (first.error) throw first.error;
  const fullMs = performance.now() - t0;

  const total: number[] = [];
  const nft: number[] = [];
  const bytes: number[] = [];
  let fresh = S * E;
  for (let k = 0; k < C; k++) {
    const i = (k * 7919) % S;
    const s = structuredClone(await slices.get('bench', `svc-${i}-1`));
    (s.endpoints as unknown[])[k % E] = ep(ipOf(fresh++));
    synced = nextSync();
    t0 = performance.now();
    await slices.update(s);
    const r = await synced;
    if (r.error) throw r.error;
    if (r.full) throw new Error('an endpoint change caused a full sync');
    total.push(performance.now() - t0);
    nft.push(r.ms);
    bytes.push(r.bytes);
  }
  proxy.stop();
  svcInformer.stop();
  sliceInformer.stop();

  const t = summarize(total);
  const n = summarize(nft);
  const rows: Row[] = [
    { metric: `full sync, ${S} Services × ${E} endpoints`, value: fullMs, unit: 'ms', goal: '≤ 1000' },
    { metric: '  of which nft', value: first.ms, unit: 'ms' },
    { metric: '  script size', value: Math.round(first.bytes / 1024), unit: 'KiB' },
    { metric: 'one endpoint changed: update → applied p50', value: t.p50, unit: 'ms', goal: '≤ 20' },
    { metric: 'one endpoint changed: update → applied p99', value: t.p99, unit: 'ms' },
    { metric: '  nft p50', value: n.p50, unit: 'ms' },
    { metric: '  nft p99', value: n.p99, unit: 'ms' },
    { metric: '  script size p50', value: summarize(bytes).p50, unit: 'bytes' },
  ];
  report('proxy-sync', rows, { services: S, endpoints: E, changes: C, nft: values['one-shot'] ? 'nft -f per sync' : 'nft -i session', loadavg: os.loadavg(), updateMs: t, nftMs: n });
}
