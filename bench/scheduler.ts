// The scheduler at scale, end to end: a real `skiff server` (from the bundle), `skiff sim`
// with 5,000 simulated nodes (--quick: 500), the server's CPU and RSS while they only
// heartbeat, then 10,000 pods (--quick: 1,000) created through HTTPS by 64 clients and
// watched until each has a node and is Running: pods bound/s and Running/s from the first
// create to the last, create→bound latency, and how long a plain `GET pods` takes
// meanwhile (the API must keep answering while the scheduler works).
//
// SKIFF_BENCH_SERVER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" passes node flags to
// the server (profiles are written when it exits at the end of the run);
// SKIFF_BENCH_SERVER_STDERR=1 shows the server's stderr as it comes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { prepareBundle, resumableWatch, startBenchServer, stopChildren, report, summarize, type Row, cpuSeconds, rssMb } from './lib.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/skiff.js');
const NS = 'default';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let stopping = false;
const log = (msg: string) => console.error(`[scheduler bench] ${msg}`);



interface Conn { url: string; agent: https.Agent; tls: https.AgentOptions }

function request(c: Conn, method: string, p: string, body?: unknown, timeoutMs = 120_000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(c.url + p, { method, agent: c.agent, headers: data ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${p}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

async function getJson<T>(c: Conn, p: string): Promise<T> {
  const r = await request(c, 'GET', p);
  if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${r.text.slice(0, 300)}`);
  return JSON.parse(r.text) as T;
}

interface PodObj { metadata: { name: string; resourceVersion?: string }; spec?: { nodeName?: string }; status?: { phase?: string } }
interface NodeObj { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }

const podFor = (i: number) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: `sched-${i}`, namespace: NS, labels: { bench: 'scheduler' } },
  spec: {
    restartPolicy: 'Never',
    containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
  },
});


export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args, strict: true,
    options: { quick: { type: 'boolean' }, nodes: { type: 'string' }, pods: { type: 'string' }, clients: { type: 'string' }, 'idle-seconds': { type: 'string' } },
  });
  const quick = values.quick ?? false;
  const numNodes = Number(values.nodes ?? (quick ? 500 : 5000));
  const numPods = Number(values.pods ?? (quick ? 1000 : 10_000));
  const clients = Number(values.clients ?? 64);
  const idleSeconds = Number(values['idle-seconds'] ?? 30);

  // The server as shipped: from the bundle, rebuilt from the tree as it is now.
  await prepareBundle();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-sched-'));
  const children: ChildProcess[] = [];
  const onSignal = () => { for (const ch of children) ch.kill('SIGKILL'); process.exit(130); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let conn: Conn | undefined;
  try {
    const { child: server, url, tls } = await startBenchServer(dataDir, { children, onExit: (what) => { if (!stopping) log(what); } });
    conn = { url, tls, agent: new https.Agent({ ...tls, keepAlive: true, maxSockets: clients + 4 }) };
    const c = conn;
    const spid = server.pid!;

    // Simulated nodes.
    const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
    const t0 = performance.now();
    const sim = spawn(process.execPath, [BIN, 'sim', '--server', url, '--token', token, '--ca-file', path.join(dataDir, 'tls/ca.crt'),
      '--nodes', String(numNodes), '--name-prefix', 'bench'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(sim);
    let simOut = '';
    await new Promise<void>((resolve, reject) => {
      sim.stdout!.on('data', (d) => { simOut += d; if (simOut.includes('ready')) resolve(); });
      sim.once('exit', (code) => reject(new Error(`skiff sim exited with ${code}: ${simOut}`)));
    });
    const isReady = (n: NodeObj) => (n.status?.conditions ?? []).some((k) => k.type === 'Ready' && k.status === 'True');
    let readyNodes = 0;
    for (const deadline = Date.now() + 300_000; Date.now() < deadline; await sleep(1000)) {
      const list = await getJson<{ items: NodeObj[] }>(c, '/api/v1/nodes?labelSelector=type%3Dsimulated');
      readyNodes = list.items.filter(isReady).length;
      if (readyNodes >= numNodes) break;
    }
    const nodesReadyMs = performance.now() - t0;
    log(`${readyNodes}/${numNodes} nodes Ready in ${Math.round(nodesReadyMs)} ms`);
    if (readyNodes < numNodes) throw new Error(`only ${readyNodes}/${numNodes} nodes became Ready`);

    // Idle: the nodes only heartbeat.
    await sleep(quick ? 3000 : 10_000); // let the registration burst settle
    const [s0, m0, w0] = [cpuSeconds(spid), cpuSeconds(sim.pid!), performance.now()];
    let peakRss = 0;
    for (let i = 0; i < idleSeconds; i++) { await sleep(1000); peakRss = Math.max(peakRss, rssMb(spid)); }
    const idleWall = (performance.now() - w0) / 1000;
    const idleCpu = ((cpuSeconds(spid) - s0) / idleWall) * 100;
    const simCpu = ((cpuSeconds(sim.pid!) - m0) / idleWall) * 100;
    const idleRss = rssMb(spid);
    log(`idle: server ${idleCpu.toFixed(1)}% core, ${Math.round(idleRss)} MB; sim ${simCpu.toFixed(1)}% core`);

    // Pods: 64 clients create; one watch sees them bound and Running.
    const listed = await getJson<{ metadata: { resourceVersion: string } }>(c, `/api/v1/namespaces/${NS}/pods?labelSelector=bench%3Dscheduler`);
    const createdAt = new Map<string, number>();
    const boundAt = new Map<string, number>();
    const runningAt = new Map<string, number>();
    let allDone!: () => void;
    const done = new Promise<void>((r) => { allDone = r; });
    // The bench's pods: when each first had a node and first was Running.
    const watch = resumableWatch<PodObj>(c, `/api/v1/namespaces/${NS}/pods?labelSelector=bench%3Dscheduler`, listed.metadata.resourceVersion, log, (ev) => {
      const p = ev.object;
      const now = performance.now();
      const name = p.metadata.name;
      if (p.spec?.nodeName && !boundAt.has(name)) boundAt.set(name, now);
      if (p.status?.phase === 'Running' && !runningAt.has(name)) runningAt.set(name, now);
      if (boundAt.size >= numPods && runningAt.size >= numPods) allDone();
    });
    await sleep(300);

    // Meanwhile: how long a plain `GET pods` takes (one page, as kubectl get pods asks).
    const getLatency: number[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const t = performance.now();
        try {
          const r = await request(c, 'GET', `/api/v1/namespaces/${NS}/pods?limit=500`, undefined, 60_000);
          if (r.status !== 200) log(`GET pods answered ${r.status}`);
        } catch (err) { log(`GET pods: ${(err as Error).message}`); }
        getLatency.push(performance.now() - t);
        await sleep(1000);
      }
    })();

    const [ps0, pm0] = [cpuSeconds(spid), cpuSeconds(sim.pid!)];
    const p0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: clients }, async () => {
      while (next < numPods) {
        const i = next++;
        const pod = podFor(i);
        createdAt.set(pod.metadata.name, performance.now());
        const r = await request(c, 'POST', `/api/v1/namespaces/${NS}/pods`, pod);
        if (r.status !== 201) throw new Error(`create answered ${r.status}: ${r.text.slice(0, 300)}`);
      }
    }));
    const createMs = performance.now() - p0;
    log(`${numPods} pods created in ${Math.round(createMs)} ms; waiting for them to be bound and Running`);
    const timeout = setTimeout(() => allDone(), quick ? 120_000 : 600_000);
    const progress = setInterval(() => log(`bound ${boundAt.size}, Running ${runningAt.size}`), 5000);
    await done;
    clearTimeout(timeout);
    clearInterval(progress);
    const podWall = (performance.now() - p0) / 1000;
    const podServerCpu = ((cpuSeconds(spid) - ps0) / podWall) * 100;
    const podSimCpu = ((cpuSeconds(sim.pid!) - pm0) / podWall) * 100;
    const busyRss = rssMb(spid);
    probing = false;
    await probe;
    watch.close();

    const lastBound = Math.max(...boundAt.values());
    const lastRunning = Math.max(...runningAt.values());
    const bindLatency: number[] = [];
    for (const [name, t] of boundAt) { const c0 = createdAt.get(name); if (c0 !== undefined) bindLatency.push(t - c0); }
    const lat = summarize(bindLatency);
    const gets = summarize(getLatency);
    const boundPerSec = boundAt.size / ((lastBound - p0) / 1000);
    const runningPerSec = runningAt.size / ((lastRunning - p0) / 1000);

    const rows: Row[] = [
      { metric: `time to ${numNodes} nodes Ready`, value: Math.round(nodesReadyMs), unit: 'ms' },
      { metric: `server CPU, ${numNodes} nodes heartbeating`, value: idleCpu, unit: '% core', goal: '≤ 25%' },
      { metric: 'server RSS meanwhile', value: Math.round(idleRss), unit: 'MB', goal: '≤ 1024 MB' },
      { metric: 'server peak RSS (sampled)', value: Math.round(peakRss), unit: 'MB' },
      { metric: 'sim CPU meanwhile', value: simCpu, unit: '% core' },
      { metric: `pods created/s (${numPods}, ${clients} clients)`, value: numPods / (createMs / 1000), unit: '/s' },
      { metric: 'pods bound/s, first create → last bound', value: boundPerSec, unit: '/s', goal: '≥ 500/s' },
      { metric: 'pods Running/s, first create → last Running', value: runningPerSec, unit: '/s' },
      { metric: 'pods bound', value: boundAt.size, unit: 'pods' },
      { metric: 'pods Running', value: runningAt.size, unit: 'pods' },
      { metric: 'create → bound p50', value: lat.p50, unit: 'ms' },
      { metric: 'create → bound p99', value: lat.p99, unit: 'ms' },
      { metric: 'GET pods (limit 500) meanwhile, p50', value: gets.p50, unit: 'ms' },
      { metric: 'GET pods (limit 500) meanwhile, max', value: gets.max, unit: 'ms' },
      { metric: 'server CPU while placing pods', value: podServerCpu, unit: '% core' },
      { metric: 'sim CPU while placing pods', value: podSimCpu, unit: '% core' },
      { metric: 'server RSS after the pods', value: Math.round(busyRss), unit: 'MB' },
    ];
    report('scheduler', rows, { quick, nodes: numNodes, pods: numPods, clients, idleSeconds, samples: { createToBound: lat, getPods: gets } });
  } finally {
    stopping = true;
    conn?.agent.destroy();
    await stopChildren(children);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
