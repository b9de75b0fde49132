// What a node's heartbeat costs the API server: a real `skiff server` (bundle), N Nodes and
// their Leases written as `skiff sim` writes them (with the join token), then, each for a
// fixed time with K calls in flight, Lease renewals (merge patches of spec.renewTime) and
// node status updates (merge patches of status.conditions on nodes/status). Per kind:
// calls/s, latency p50/p99, and the server's CPU per call (utime+stime from /proc). From
// those, the share of a core 5,000 nodes' heartbeats would take: 500 renewals/s (every
// 10 s) and a status update per node every 5 minutes (the kubelet's
// nodeStatusReportFrequency when nothing changes).
//
// SKIFF_BENCH_SERVER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" profiles the server.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { prepareBundle, startBenchServer, stopChild, report, summarize, cpuSeconds, type Row } from './lib.ts';
import { DEFAULT_RESOURCES, LEASE_NAMESPACE, leaseObject, microTime, nodeConditions, nodeObject, LEASE_DURATION_SECONDS } from '../src/agent/sim/node.ts';

const log = (msg: string) => console.error(`[heartbeat bench] ${msg}`);

interface Conn { url: string; agent: https.Agent; token: string }

function call(c: Conn, method: string, p: string, body: unknown, contentType = 'application/json'): Promise<string> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = https.request(c.url + p, {
      method, agent: c.agent,
      headers: { 'Content-Type': contentType, Authorization: `Bearer ${c.token}`, 'Content-Length': Buffer.byteLength(data) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => (res.statusCode! < 300 ? resolve(text) : reject(new Error(`${method} ${p}: ${res.statusCode} ${text.slice(0, 300)}`))));
    });
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${p}: no answer in 60 s`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** Runs `work(i)` for `seconds` with `inFlight` calls at a time, round robin over `count` items. */
async function drive(seconds: number, inFlight: number, count: number, work: (i: number) => Promise<unknown>): Promise<{ calls: number; wallS: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (performance.now() < end) {
      const i = next++ % count;
      const s = performance.now();
      await work(i);
      latencies.push(performance.now() - s);
    }
  }));
  return { calls: latencies.length, wallS: (performance.now() - t0) / 1000, latencies };
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args, strict: true,
    options: { quick: { type: 'boolean' }, nodes: { type: 'string' }, seconds: { type: 'string' }, 'in-flight': { type: 'string' } },
  });
  const quick = values.quick ?? false;
  const nodes = Number(values.nodes ?? (quick ? 50 : 2000));
  const seconds = Number(values.seconds ?? (quick ? 2 : 20));
  const inFlight = Number(values['in-flight'] ?? (quick ? 4 : 32)); // skiff sim keeps 32 heartbeats in flight

  await prepareBundle();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-hb-'));
  const { child: server, url, tls } = await startBenchServer(dataDir, { onExit: (what) => log(what) });
  const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
  const c: Conn = { url, token, agent: new https.Agent({ ca: tls.ca, keepAlive: true, maxSockets: inFlight }) };
  const name = (i: number) => `hb-${i}`;
  try {
    const t0 = performance.now();
    let registered = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      for (let i = registered++; i < nodes; i = registered++) {
        const now = Date.now();
        const node = JSON.parse(await call(c, 'POST', '/api/v1/nodes', nodeObject(name(i), `10.200.${(i >> 8) & 255}.${i & 255}`, DEFAULT_RESOURCES, now)));
        await call(c, 'POST', `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`, leaseObject(name(i), node.metadata.uid, now));
      }
    }));
    log(`${nodes} nodes and leases written in ${Math.round(performance.now() - t0)} ms`);
    const pid = server.pid!;
    const measure = async (what: string, work: (i: number) => Promise<unknown>) => {
      const cpu0 = cpuSeconds(pid);
      const r = await drive(seconds, inFlight, nodes, work);
      const cpuMs = ((cpuSeconds(pid) - cpu0) * 1000) / r.calls;
      const s = summarize(r.latencies);
      log(`${what}: ${r.calls} in ${r.wallS.toFixed(1)} s, ${(r.calls / r.wallS).toFixed(0)}/s, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, server ${cpuMs.toFixed(2)} CPU-ms each`);
      return { perSecond: r.calls / r.wallS, cpuMs, ...s };
    };
    const leases = await measure('Lease renewals', (i) => call(c, 'PATCH', `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases/${name(i)}`,
      { spec: { holderIdentity: name(i), leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(Date.now()) } }, 'application/merge-patch+json'));
    const statuses = await measure('node status updates', (i) => call(c, 'PATCH', `/api/v1/nodes/${name(i)}/status`,
      { status: { conditions: nodeConditions(t0, Date.now()) } }, 'application/merge-patch+json'));
    // 5,000 nodes: a renewal each every 10 s, a status update each every 300 s.
    const share = (5000 / 10 * leases.cpuMs + 5000 / 300 * statuses.cpuMs) / 10; // ms per s → % of a core
    const rows: Row[] = [
      { metric: `Lease renewals/s (${inFlight} in flight)`, value: leases.perSecond, unit: '/s' },
      { metric: 'Lease renewal p50', value: leases.p50, unit: 'ms' },
      { metric: 'Lease renewal p99', value: leases.p99, unit: 'ms' },
      { metric: 'server CPU per Lease renewal', value: leases.cpuMs, unit: 'ms' },
      { metric: `node status updates/s (${inFlight} in flight)`, value: statuses.perSecond, unit: '/s' },
      { metric: 'node status update p50', value: statuses.p50, unit: 'ms' },
      { metric: 'node status update p99', value: statuses.p99, unit: 'ms' },
      { metric: 'server CPU per node status update', value: statuses.cpuMs, unit: 'ms' },
      { metric: '5,000 nodes\' heartbeats, projected', value: share, unit: '% core', goal: '≤ 25%' },
    ];
    report('heartbeat', rows, { quick, nodes, seconds, inFlight });
  } finally {
    c.agent.destroy();
    await stopChild(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
