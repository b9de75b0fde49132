// NetworkPolicy sync cost: the real controller (informers over FakeResource, model,
// render, diff, `nft -f -`) programming a network namespace of its own. Measures the
// first full sync with N pods (default 5,000 in 50 namespaces, 1 in 25 on this node) and
// P policies (default 200: deny-all, allow by pod label, by namespace, by named port),
// then C syncs that each relabel one pod (default 100): from the pod update to nft having
// applied it (debounce 0), and nft's own share. --quick: 500 pods, 20 policies, 20 changes.
// Root only; re-runs itself inside the namespace (`ip netns exec`), like bench/proxy-sync.ts.
import { parseArgs } from 'node:util';
import type { KObject } from '../src/api/object.ts';
import { FakeResource } from '../src/client/fake-resource.ts';
import { Informer } from '../src/client/informer.ts';
import { NetpolController, type SyncResult } from '../src/netpol/controller.ts';
import { nftRunner } from '../src/proxy/nft.ts';
import { silentLogger } from '../src/util/log.ts';
import { inOwnNetns, report, summarize, type Row } from './lib.ts';

const CHILD = 'SKIFF_BENCH_NETPOL_NETNS';

export async function run(argv: string[]): Promise<void> {
  return inOwnNetns('skiffbench-np', CHILD, () => measure(argv));
}

const ipOf = (n: number) => `10.${40 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
const NSS = 50;

function pod(i: number, role: string): KObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { namespace: `ns-${i % NSS}`, name: `pod-${i}`, labels: { app: `app-${i % 10}`, role } },
    spec: { nodeName: Math.floor(i / NSS) % 25 === 0 ? 'bench-node' : 'elsewhere', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ipOf(i) },
  };
}

function policies(ns: string, k: number): KObject[] {
  const np = (name: string, spec: unknown): KObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: ns, name }, spec });
  const all = [
    np('deny', { podSelector: {}, policyTypes: ['Ingress'] }),
    np('from-clients', { podSelector: { matchExpressions: [{ key: 'role', operator: 'Exists' }] }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 8080 }] }] }),
    np('from-team', { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['app-2', 'app-3'] }] }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] }] }),
    np('named', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] } }], ports: [{ port: 'http' }] }] }),
  ];
  return all.slice(0, k);
}

async function measure(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean' }, pods: { type: 'string' }, policies: { type: 'string' }, changes: { type: 'string' } } });
  const N = Number(values.pods ?? (values.quick ? 500 : 5000));
  const P = Number(values.policies ?? (values.quick ? 20 : 200));
  const C = Number(values.changes ?? (values.quick ? 20 : 100));
  const [podsRes, npRes, nsRes] = [new FakeResource(), new FakeResource(), new FakeResource()];
  for (let n = 0; n < NSS; n++) await nsRes.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}`, labels: { team: n % 5 === 0 ? 'ops' : 'dev' } } });
  for (let i = 0; i < N; i++) await podsRes.create(pod(i, i % 3 === 0 ? 'client' : 'server'));
  let made = 0;
  for (let n = 0; made < P; n = (n + 1) % NSS) {
    const want = Math.min(4, P - made);
    for (const p of policies(`ns-${n}`, want)) { p.metadata.name = `${p.metadata.name}-${made}`; await npRes.create(p); made++; }
  }
  const informers = [new Informer(npRes, { name: 'networkpolicies' }), new Informer(podsRes, { name: 'pods' }), new Informer(nsRes, { name: 'namespaces' })] as const;
  for (const i of informers) i.start();
  await Promise.all(informers.map((i) => i.waitForSync()));

  let waiter: ((s: SyncResult) => void) | undefined;
  const controller = new NetpolController({
    policies: informers[0], pods: informers[1], namespaces: informers[2], nodeName: 'bench-node', nodeIPs: ['10.40.0.1'],
    table: 'skiff-np-bench', apply: nftRunner(), log: silentLogger, debounceMs: 0,
    onSync: (s) => { const w = waiter; waiter = undefined; w?.(s); },
  });
  const nextSync = () => new Promise<SyncResult>((r) => { waiter = r; });

  let t0 = performance.now();
  let synced = nextSync();
  controller.start();
  const first = await synced;
  if (first.error) throw first.error;
  const fullMs = performance.now() - t0;

  const total: number[] = [];
  const nft: number[] = [];
  const compute: number[] = [];
  const bytes: number[] = [];
  const withPolicies = Math.min(NSS, Math.ceil(P / 4));
  for (let k = 0; k < C; k++) {
    // a pod of a namespace with policies: its label decides something
    const i = (((k * 7919) % Math.floor(N / NSS)) * NSS) + (k % withPolicies);
    const p = structuredClone(await podsRes.get(`ns-${i % NSS}`, `pod-${i}`));
    p.metadata.labels = { ...p.metadata.labels, role: p.metadata.labels!.role === 'client' ? 'server' : 'client' };
    synced = nextSync();
    t0 = performance.now();
    await podsRes.update(p);
    const r = await synced;
    if (r.error) throw r.error;
    if (r.full) throw new Error('a relabel caused a full sync');
    total.push(performance.now() - t0);
    nft.push(r.nftMs);
    compute.push(r.computeMs);
    bytes.push(r.bytes);
  }
  await controller.stop();
  for (const i of informers) i.stop();

  const t = summarize(total);
  const rows: Row[] = [
    { metric: `full sync, ${N} pods (${Math.ceil(N / 25)} local), ${P} policies`, value: fullMs, unit: 'ms', goal: '≤ 1000' },
    { metric: '  of which nft', value: first.nftMs, unit: 'ms' },
    { metric: '  script size', value: Math.round(first.bytes / 1024), unit: 'KiB' },
    { metric: 'one pod relabelled: update → applied p50', value: t.p50, unit: 'ms', goal: '≤ 50' },
    { metric: 'one pod relabelled: update → applied p99', value: t.p99, unit: 'ms' },
    { metric: '  model + render p50', value: summarize(compute).p50, unit: 'ms' },
    { metric: '  nft p50', value: summarize(nft).p50, unit: 'ms' },
    { metric: '  script size p50', value: summarize(bytes).p50, unit: 'bytes' },
  ];
  report('netpol-sync', rows, { pods: N, policies: P, changes: C, updateMs: t });
}
