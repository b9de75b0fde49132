// Scale: the control plane with N simulated nodes while pods are created to M, measured the
// way Kubernetes' scalability SLOs are (community/sig-scalability/slos): API call latency
// per verb and resource (mutating p99; single-object GET p99; namespace-scoped LIST p99;
// cluster-scoped LIST p99), pod startup latency (create → Running observed on a watch;
// here through the scheduler and a simulated node, no image pulls), the server's RSS over
// time, and whether every node stayed Ready (Ready→not-Ready transitions on a node watch).
//
// Phases: a `skiff server --disable-agent` (bundle) and `skiff sim --nodes N`; namespaces;
// optionally a fill of F pods at a faster rate (to reach the target size in less time);
// then M - F - B pods at a steady R/s, then a burst of B pods from 64 clients at once; then a
// settle period until every pod is Running (or a timeout). A probe client makes one call
// at a time all along (create/patch/get/delete a ConfigMap, get a pod and a node, list the
// pods of one namespace; every 10th round a list of all nodes, and the first page of all
// pods).
// Samples (server and sim RSS and CPU, pods created/Running, nodes Ready) every second go
// into the JSON as time series. A progress line every 5 s.
//
// Flags: --nodes N (5000) --pods M (150000) --rate R (20) --burst B (M/10) --namespaces K
// (10) --settle S (seconds after the last pod Running, 10) --stall S (give up when no pod
// has started for S seconds, 60) --fill F --fill-rate R2 (0 pods; at R2/s, 100). With a
// fill, the SLO rows are the steady phase's (the cluster already at size, Kubernetes'
// churn), and the whole run's figures follow them; --quick: 50 nodes, 500 pods,
// 100/s, burst 100. The target sizes take hours; see bench/README.md.
// SKIFF_BENCH_SERVER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" profiles the server,
// SKIFF_BENCH_SIM_NODE_FLAGS the same for `skiff sim` (written when each exits).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { prepareBundle, resumableWatch, startBenchServer, stopChildren, cpuSeconds, percentiles, report, rssMb, summarize, type Percentiles, type Row, type Series } from './lib.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/skiff.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => console.error(`[scale bench] ${msg}`);

interface Conn { url: string; tls: https.AgentOptions; agent: https.Agent }
interface Obj { metadata: { name: string; namespace?: string; resourceVersion?: string }; spec?: { nodeName?: string }; status?: { phase?: string; conditions?: { type: string; status: string }[] } }

function request(c: Conn, method: string, p: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(c.url + p, { method, agent: c.agent, headers: data ? { 'Content-Type': contentType } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${p}: no answer in 120 s`)));
    req.on('error', reject);
    req.end(data);
  });
}

const podFor = (ns: string, name: string) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: ns, labels: { bench: 'scale' } },
  spec: {
    restartPolicy: 'Never', terminationGracePeriodSeconds: 0,
    containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
  },
});

const isReady = (n: Obj) => (n.status?.conditions ?? []).some((k) => k.type === 'Ready' && k.status === 'True');

/** API latency samples keyed by the SLO class and the call, e.g. `mutating: POST pods`. */
class Latencies {
  readonly byCall = new Map<string, number[]>();
  errors = 0;
  add(key: string, ms: number) { let a = this.byCall.get(key); if (!a) this.byCall.set(key, (a = [])); a.push(ms); }
  /** All samples of one SLO class (the prefix before ':'). */
  of(cls: string): number[] { return [...this.byCall].filter(([k]) => k.startsWith(`${cls}:`)).flatMap(([, v]) => v); }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: { quick: { type: 'boolean' }, nodes: { type: 'string' }, pods: { type: 'string' }, rate: { type: 'string' }, burst: { type: 'string' }, namespaces: { type: 'string' }, settle: { type: 'string' }, stall: { type: 'string' }, fill: { type: 'string' }, 'fill-rate': { type: 'string' } },
  });
  const quick = values.quick ?? false;
  const numNodes = Number(values.nodes ?? (quick ? 50 : 5000));
  const numPods = Number(values.pods ?? (quick ? 500 : 150_000));
  const rate = Number(values.rate ?? (quick ? 100 : 20));
  const burst = Math.min(numPods, Number(values.burst ?? (quick ? 100 : Math.floor(numPods / 10))));
  const numNs = Number(values.namespaces ?? 10);
  const fill = Math.min(numPods - burst, Number(values.fill ?? 0));
  const fillRate = Number(values['fill-rate'] ?? 100);
  const settleMs = Number(values.settle ?? (quick ? 2 : 10)) * 1000;
  const stallMs = Number(values.stall ?? 60) * 1000;
  for (const [k, v] of Object.entries({ nodes: numNodes, pods: numPods, rate, burst, namespaces: numNs, fill, 'fill-rate': fillRate })) {
    if (!(Number.isFinite(v) && v >= 0) || (k !== 'burst' && k !== 'fill' && v <= 0)) throw new Error(`--${k}: must be a positive number`);
  }

  await prepareBundle();
  const loadAtStart = os.loadavg()[0]!.toFixed(2);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-scale-'));
  const children: ChildProcess[] = [];
  const closers: (() => void)[] = [];
  let stopping = false;
  const onSignal = () => { for (const ch of children) ch.kill('SIGKILL'); process.exit(130); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // Server.
    const { child: server, url, tls } = await startBenchServer(dataDir, { children, onExit: (what) => { if (!stopping) log(what); } });
    // Idle sockets closed after 30 s, before the server's 65 s, as Skiff's own client does
    // (src/client/http.ts, IDLE_SOCKET_MS): else a server stall resets creates sent meanwhile.
    const load: Conn = { url, tls, agent: new https.Agent({ ...tls, keepAlive: true, timeout: 30_000, maxSockets: 64 }) };
    const probeConn: Conn = { url, tls, agent: new https.Agent({ ...tls, keepAlive: true, timeout: 30_000, maxSockets: 2 }) };
    closers.push(() => load.agent.destroy(), () => probeConn.agent.destroy());
    const spid = server.pid!;

    // Samples every second from here on.
    const t0 = performance.now();
    const secs = () => Math.round((performance.now() - t0) / 100) / 10;
    const series: Record<string, Series> = {
      serverRss: { metric: 'server RSS', unit: 'MB', points: [] },
      simRss: { metric: 'sim RSS', unit: 'MB', points: [] },
      serverCpu: { metric: 'server CPU', unit: '% core', points: [] },
      simCpu: { metric: 'sim CPU', unit: '% core', points: [] },
      benchCpu: { metric: 'bench client CPU (load, probe, watches)', unit: '% core', points: [] },
      created: { metric: 'pods created', unit: 'pods', points: [] },
      running: { metric: 'pods Running', unit: 'pods', points: [] },
      ready: { metric: 'nodes Ready', unit: 'nodes', points: [] },
    };

    // Simulated nodes; a node watch counts Ready transitions from then on.
    const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
    const simNodeFlags = (process.env.SKIFF_BENCH_SIM_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
    const sim = spawn(process.execPath, [...simNodeFlags, BIN, 'sim', '--server', url, '--token', token, '--ca-file', path.join(dataDir, 'tls/ca.crt'),
      '--nodes', String(numNodes), '--name-prefix', 'scale'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(sim);
    let simOut = '';
    sim.stderr!.on('data', (d) => { simOut = (simOut + d).slice(-4000); });
    await new Promise<void>((resolve, reject) => {
      sim.stdout!.on('data', (d) => { simOut += d; if (/nodes? ready/.test(simOut)) resolve(); });
      sim.once('exit', (code) => reject(new Error(`skiff sim exited with ${code}: ${simOut}`)));
    });
    sim.once('exit', (code, signal) => { if (!stopping) log(`sim exited (${code ?? signal}): ${simOut}`); });
    const nodeReady = new Map<string, boolean>();
    let notReadyTransitions = 0;
    const nodeList = JSON.parse((await request(load, 'GET', '/api/v1/nodes?labelSelector=type%3Dsimulated')).text) as { metadata: { resourceVersion: string }; items: Obj[] };
    for (const n of nodeList.items) nodeReady.set(n.metadata.name, isReady(n));
    closers.push(resumableWatch<Obj>(load, '/api/v1/nodes?labelSelector=type%3Dsimulated', nodeList.metadata.resourceVersion, log, ({ type, object: n }) => {
      const was = nodeReady.get(n.metadata.name);
      const now = type !== 'DELETED' && isReady(n);
      if (was && !now) { notReadyTransitions++; log(`node ${n.metadata.name} went NotReady`); }
      nodeReady.set(n.metadata.name, now);
    }).close);
    const readyCount = () => [...nodeReady.values()].filter(Boolean).length;
    for (const deadline = Date.now() + 300_000; readyCount() < numNodes && Date.now() < deadline;) await sleep(200);
    const nodesReadyMs = performance.now() - t0;
    log(`${readyCount()}/${numNodes} nodes Ready after ${Math.round(nodesReadyMs)} ms`);
    if (readyCount() < numNodes) throw new Error(`only ${readyCount()}/${numNodes} nodes became Ready`);

    // Namespaces.
    const namespaces = Array.from({ length: numNs }, (_, i) => `scale-${i}`);
    for (const ns of [...namespaces, 'scale-probe']) {
      const r = await request(load, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      if (r.status !== 201) throw new Error(`namespace ${ns}: ${r.status} ${r.text.slice(0, 200)}`);
    }

    // Pods: one watch sees them bound and Running.
    const createdAt = new Map<string, number>();
    const createdKeys: string[] = [];
    const runningAt = new Map<string, number>();
    const boundAt = new Map<string, number>();
    const podList = JSON.parse((await request(load, 'GET', '/api/v1/pods?labelSelector=bench%3Dscale&limit=1')).text) as { metadata: { resourceVersion: string } };
    closers.push(resumableWatch<Obj>(load, '/api/v1/pods?labelSelector=bench%3Dscale', podList.metadata.resourceVersion, log, ({ object: p }) => {
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      const now = performance.now();
      if (p.spec?.nodeName && !boundAt.has(key)) boundAt.set(key, now);
      if (p.status?.phase === 'Running' && !runningAt.has(key)) runningAt.set(key, now);
    }).close);

    // The probe's samples: all of them, and those of the steady phase (a call counts in the
    // phase it started in).
    type Phase = 'fill' | 'steady' | 'burst' | 'settle';
    let phase: Phase = fill ? 'fill' : 'steady';
    const lat = new Latencies();
    const latSteady = new Latencies();
    const timed = async (key: string, method: string, p: string, body?: unknown, ok = [200, 201], contentType?: string) => {
      const t = performance.now();
      const inSteady = phase === 'steady';
      try {
        const r = await request(probeConn, method, p, body, contentType);
        if (!ok.includes(r.status)) { lat.errors++; log(`${key}: ${r.status} ${r.text.slice(0, 200)}`); return; }
        lat.add(key, performance.now() - t);
        if (inSteady) latSteady.add(key, performance.now() - t);
      } catch (err) { lat.errors++; log(`${key}: ${(err as Error).message}`); }
    };

    // Sampler and progress.
    let lastCpu = cpuSeconds(spid);
    let lastSim = cpuSeconds(sim.pid!);
    let lastOwn = process.cpuUsage();
    let lastT = performance.now();
    let created = 0;
    const sample = () => {
      const t = secs();
      const now = performance.now();
      const cpu = cpuSeconds(spid);
      const wall = (now - lastT) / 1000;
      const pct = (cpuS: number) => Math.round((cpuS / wall) * 1000) / 10;
      const simCpu = cpuSeconds(sim.pid!);
      const own = process.cpuUsage(lastOwn);
      series.serverCpu.points.push([t, pct(cpu - lastCpu)]);
      series.simCpu.points.push([t, pct(simCpu - lastSim)]);
      series.benchCpu.points.push([t, pct((own.user + own.system) / 1e6)]);
      lastCpu = cpu; lastSim = simCpu; lastOwn = process.cpuUsage(); lastT = now;
      series.serverRss.points.push([t, Math.round(rssMb(spid))]);
      series.simRss.points.push([t, Math.round(rssMb(sim.pid!))]);
      series.created.points.push([t, created]);
      series.running.points.push([t, runningAt.size]);
      series.ready.points.push([t, readyCount()]);
    };
    const sampler = setInterval(sample, 1000);
    const progress = setInterval(() => {
      const rss = series.serverRss.points.at(-1)?.[1];
      log(`t=${Math.round(secs())} s: created ${created}/${numPods}, bound ${boundAt.size}, Running ${runningAt.size}; nodes Ready ${readyCount()}/${numNodes}; server ${rss} MB, ${series.serverCpu.points.at(-1)?.[1]}% core`);
    }, 5000);
    closers.push(() => clearInterval(sampler), () => clearInterval(progress));

    // The probe: one call at a time, all along.
    let probing = true;
    const probe = (async () => {
      for (let round = 0; probing; round++) {
        const cm = `/api/v1/namespaces/scale-probe/configmaps`;
        const name = `probe-${round}`;
        await timed('mutating: POST configmaps', 'POST', cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } });
        await timed('mutating: PATCH configmaps', 'PATCH', `${cm}/${name}`, { data: { k: 'w' } }, [200], 'application/merge-patch+json');
        await timed('get: GET configmaps', 'GET', `${cm}/${name}`);
        const keys = createdKeys;
        if (keys.length) {
          const [ns, pod] = keys[Math.floor(Math.random() * keys.length)]!.split('/');
          await timed('get: GET pods', 'GET', `/api/v1/namespaces/${ns}/pods/${pod}`);
        }
        await timed('get: GET nodes', 'GET', `/api/v1/nodes/scale-${Math.floor(Math.random() * numNodes)}`);
        await timed('namespace list: LIST pods', 'GET', `/api/v1/namespaces/${namespaces[round % numNs]}/pods`);
        await timed('mutating: DELETE configmaps', 'DELETE', `${cm}/${name}`);
        // The cluster-scoped LISTs every 10th round: at 5,000 nodes a LIST of nodes is ~15 MB,
        // and one per round (~2/s) made the probe itself a fifth of the server's work.
        if (round % 10 === 0) await timed('cluster list: LIST nodes', 'GET', '/api/v1/nodes');
        if (round % 10 === 5) await timed('cluster list: LIST pods (all namespaces, limit 500)', 'GET', '/api/v1/pods?limit=500');
        await sleep(100);
      }
    })();

    // Creates: fill, steady, then burst. Each create's latency counts as a mutating call too.
    const createLatency: [index: number, ms: number][] = [];
    let failed = 0;
    const createOne = async (i: number) => {
      const ns = namespaces[i % numNs]!;
      const name = `pod-${i}`;
      const key = `${ns}/${name}`;
      const t = performance.now();
      createdAt.set(key, t);
      try {
        const r = await request(load, 'POST', `/api/v1/namespaces/${ns}/pods`, podFor(ns, name));
        if (r.status !== 201) { failed++; createdAt.delete(key); if (failed < 10) log(`create ${key}: ${r.status} ${r.text.slice(0, 200)}`); return; }
        createLatency.push([i, performance.now() - t]);
        createdKeys.push(key);
        created++;
      } catch (err) { failed++; createdAt.delete(key); if (failed < 10) log(`create ${key}: ${(err as Error).message}`); }
    };
    /** Pods [from, to) at r/s (at most 256 in flight); returns the rate achieved. */
    const paced = async (from: number, to: number, r: number) => {
      const start = performance.now();
      const inFlight = new Set<Promise<void>>();
      for (let i = from; i < to; i++) {
        const due = start + ((i - from) * 1000) / r;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        while (inFlight.size >= 256) await Promise.race(inFlight);
        const p = createOne(i).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Promise.all(inFlight);
      return (to - from) / ((performance.now() - start) / 1000);
    };
    const steady = numPods - fill - burst;
    const firstCreate = performance.now();
    if (fill) {
      const achieved = await paced(0, fill, fillRate);
      log(`fill: ${fill} pods at ${achieved.toFixed(1)}/s (asked ${fillRate}/s); ${runningAt.size} Running`);
      // The steady phase starts with the fill's backlog cleared, so it measures churn at size
      // (given up only when no pod has started for --stall seconds).
      for (let seen = -1, progressAt = Date.now(); runningAt.size < created && Date.now() - progressAt < stallMs;) {
        if (runningAt.size !== seen) { seen = runningAt.size; progressAt = Date.now(); }
        await sleep(250);
      }
      log(`fill backlog cleared: ${runningAt.size}/${created} Running`);
      phase = 'steady';
    }
    const steadyRate = await paced(fill, fill + steady, rate);
    log(`steady phase: ${steady} pods at ${steadyRate.toFixed(1)}/s (asked ${rate}/s)`);
    phase = 'burst';
    const burstStart = performance.now();
    let next = fill + steady;
    await Promise.all(Array.from({ length: 64 }, async () => { while (next < numPods) await createOne(next++); }));
    const burstMs = performance.now() - burstStart;
    if (burst) log(`burst: ${burst} pods created in ${Math.round(burstMs)} ms`);
    phase = 'settle';

    // Settle: until every created pod is Running, or no pod has started for --stall
    // seconds (then the run is reported as it stands), then a little longer.
    let lastCount = -1;
    let lastProgress = Date.now();
    while (runningAt.size < created && Date.now() - lastProgress < stallMs) {
      if (runningAt.size !== lastCount) { lastCount = runningAt.size; lastProgress = Date.now(); }
      await sleep(250);
    }
    if (runningAt.size < created) log(`gave up: no pod started in ${stallMs / 1000} s; ${runningAt.size}/${created} Running`);
    const allRunningMs = performance.now() - firstCreate;
    await sleep(settleMs);
    probing = false;
    await probe;
    sample();

    // Results.
    const startup = (from: number, to: number, seen = runningAt) => {
      const out: number[] = [];
      for (const [key, t] of createdAt) {
        const i = Number(key.slice(key.lastIndexOf('-') + 1));
        const r = seen.get(key);
        if (i >= from && i < to && r !== undefined) out.push(r - t);
      }
      return out;
    };
    const burstFrom = fill + steady;
    const startAll = startup(0, numPods);
    const startSteady = startup(fill, burstFrom);
    const startBurst = startup(burstFrom, numPods);
    // The scheduler's share: create → spec.nodeName seen on the watch.
    const boundAll = startup(0, numPods, boundAt);
    const boundSteady = startup(fill, burstFrom, boundAt);
    const boundBurst = startup(burstFrom, numPods, boundAt);
    for (const [i, ms] of createLatency) {
      lat.add('mutating: POST pods (load)', ms);
      if (i >= fill && i < burstFrom) latSteady.add('mutating: POST pods (load)', ms);
    }
    // With a fill, the SLOs are judged on the steady phase: the cluster at size, under churn.
    const slo = fill ? latSteady : lat;
    const sloStartup = fill ? startSteady : startAll;
    const sloBound = fill ? boundSteady : boundAll;
    const during = fill ? ', steady phase' : '';
    const cls = (c: string) => summarize(slo.of(c));
    const mut = cls('mutating');
    const get = cls('get');
    const nsList = cls('namespace list');
    const clList = cls('cluster list');
    const st = summarize(sloStartup);
    const rssPeak = Math.max(...series.serverRss.points.map(([, v]) => v));
    const simPeak = Math.max(...series.simRss.points.map(([, v]) => v));
    const finalReady = readyCount();
    const mean = (x: Series) => x.points.reduce((a, [, v]) => a + v, 0) / Math.max(1, x.points.length);
    const perCall: Percentiles[] = [...slo.byCall].map(([k, v]) => percentiles(k, v));
    const rows: Row[] = [
      { metric: 'simulated nodes', value: numNodes, unit: 'nodes' },
      { metric: `time to ${numNodes} nodes Ready`, value: Math.round(nodesReadyMs), unit: 'ms' },
      { metric: 'pods created', value: created, unit: 'pods' },
      { metric: 'pod creates failed', value: failed, unit: 'pods', goal: '0' },
      { metric: `steady create rate (asked ${rate}/s)`, value: steadyRate, unit: '/s' },
      { metric: `burst of ${burst}: all created`, value: Math.round(burstMs), unit: 'ms' },
      { metric: 'first create → all Running', value: Math.round(allRunningMs), unit: 'ms' },
      { metric: 'pods Running', value: runningAt.size, unit: 'pods', goal: `${created}` },
      { metric: `mutating API calls p99${during}`, value: mut.p99, unit: 'ms', goal: '≤ 100 ms' },
      { metric: `single-object GET p99${during}`, value: get.p99, unit: 'ms', goal: '≤ 50 ms' },
      { metric: `namespace-scoped LIST p99${during}`, value: nsList.p99, unit: 'ms', goal: '≤ 1000 ms' },
      { metric: `cluster-scoped LIST p99${during}`, value: clList.p99, unit: 'ms', goal: '≤ 30000 ms (k8s SLO)' },
      { metric: `pod startup p50 (create → Running)${during}`, value: st.p50, unit: 'ms' },
      { metric: `pod startup p99 (create → Running)${during}`, value: st.p99, unit: 'ms', goal: '≤ 1000 ms' },
      { metric: `create → bound p50${during}`, value: summarize(sloBound).p50, unit: 'ms' },
      { metric: `create → bound p99${during}`, value: summarize(sloBound).p99, unit: 'ms' },
      ...(fill ? [
        { metric: 'mutating API calls p99, whole run', value: summarize(lat.of('mutating')).p99, unit: 'ms' },
        { metric: 'single-object GET p99, whole run', value: summarize(lat.of('get')).p99, unit: 'ms' },
        { metric: 'namespace-scoped LIST p99, whole run', value: summarize(lat.of('namespace list')).p99, unit: 'ms' },
        { metric: 'pod startup p99, whole run', value: summarize(startAll).p99, unit: 'ms' },
        { metric: 'create → bound p99, whole run', value: summarize(boundAll).p99, unit: 'ms' },
      ] : []),
      ...(startBurst.length ? [{ metric: 'pod startup p99, burst phase', value: summarize(startBurst).p99, unit: 'ms' }] : []),
      ...(boundBurst.length ? [{ metric: 'create → bound p99, burst phase', value: summarize(boundBurst).p99, unit: 'ms' }] : []),
      { metric: 'server peak RSS (sampled 1/s)', value: rssPeak, unit: 'MB', goal: '≤ 4096 MB' },
      { metric: 'sim peak RSS', value: simPeak, unit: 'MB' },
      { metric: 'server CPU, mean over the run', value: mean(series.serverCpu), unit: '% core' },
      { metric: 'sim CPU, mean over the run', value: mean(series.simCpu), unit: '% core' },
      { metric: 'bench client CPU, mean over the run', value: mean(series.benchCpu), unit: '% core' },
      { metric: 'node Ready → NotReady transitions', value: notReadyTransitions, unit: 'count', goal: '0' },
      { metric: 'nodes Ready at the end', value: finalReady, unit: 'nodes', goal: `${numNodes}` },
      { metric: 'probe call errors', value: lat.errors, unit: 'calls', goal: '0' },
    ];
    report('scale', rows, {
      quick, fromSource: process.env.SKIFF_FROM_SOURCE === '1', loadAtStart, nodes: numNodes, pods: numPods, rate, burst, namespaces: numNs, fill, fillRate,
      percentiles: [
        percentiles(`mutating calls${during}`, slo.of('mutating'), 100),
        percentiles(`single-object GET${during}`, slo.of('get'), 50),
        percentiles(`namespace LIST${during}`, slo.of('namespace list'), 1000),
        percentiles(`cluster LIST${during}`, slo.of('cluster list')),
        percentiles('pod startup (create → Running)', startAll, 1000),
        ...(fill ? [percentiles('pod startup, fill', startup(0, fill), 1000)] : []),
        percentiles('pod startup, steady', startSteady, 1000),
        percentiles('pod startup, burst', startBurst, 1000),
        percentiles('create → bound', boundAll),
      ],
      perCall,
      series: Object.values(series),
    });
  } finally {
    stopping = true;
    for (const c of closers) c();
    await stopChildren(children);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
