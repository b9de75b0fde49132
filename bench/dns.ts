// Cluster DNS throughput: the built-in server (src/dns/server.ts) on 127.0.0.1 with a zone
// of 1,000 Services (900 ClusterIP, 100 headless with 3 ready endpoints each) in 10
// namespaces, fed by real informers over in-memory resources, driven by a separate
// processes (bench/dns-load.ts, 3 by default) keeping 256 UDP queries in flight in all for a mix of names:
// 60% service A, 20% headless A, 20% in-zone NXDOMAIN. Reports answered queries per
// second, latency p50/p99 as the client sees it, and the server's CPU; then the same
// while 20 Services a second change (each change makes the zone stale; it is rebuilt at
// the next query, not per query). Goal: ≥ 20,000 queries/s. The load generator shares the
// machine's cores with the server, so answers per server CPU-second is printed too.
// Flags: --quick (2 s runs), --seconds N, --concurrency N, --services N, --clients N;
// --dnsperf: also the same mix from dnsperf (apt package), a generator far cheaper per query.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FakeResource } from '../src/client/fake-resource.ts';
import { Informer } from '../src/client/informer.ts';
import { startDnsServer } from '../src/dns/server.ts';
import { service, slice } from '../src/dns/testing.ts';
import { Class, Rcode, Type, encode, message } from '../src/dns/wire.ts';
import { createLogger } from '../src/util/log.ts';
import { cpuSeconds, report, type Row } from './lib.ts';

const log = (msg: string) => console.error(`[dns bench] ${msg}`);

interface LoadResult { answered: number; seconds: number; qps: number; cpu: number; wrong: number; lost: number; p50: number; p99: number; max: number; samples: number[] }

/** Several load processes at once: rates add up, latencies are pooled. */
async function runLoads(n: number, cfg: Record<string, unknown> & { concurrency: number }): Promise<Omit<LoadResult, 'samples' | 'cpu'> & { loadCpuSeconds: number }> {
  const each = await Promise.all(Array.from({ length: n }, () => runLoad({ ...cfg, concurrency: Math.ceil(cfg.concurrency / n) })));
  const pooled = each.flatMap((r) => r.samples).sort((a, b) => a - b);
  const pct = (p: number) => pooled[Math.min(pooled.length - 1, Math.max(0, Math.ceil((p / 100) * pooled.length) - 1))] ?? NaN;
  const sum = (k: 'answered' | 'qps' | 'cpu' | 'wrong' | 'lost') => each.reduce((a, r) => a + r[k], 0);
  return {
    answered: sum('answered'), qps: sum('qps'), wrong: sum('wrong'), lost: sum('lost'), loadCpuSeconds: sum('cpu'),
    seconds: Math.max(...each.map((r) => r.seconds)), p50: pct(50), p99: pct(99), max: Math.max(...each.map((r) => r.max)),
  };
}

function runLoad(cfg: Record<string, unknown>): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'dns-load.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin!.end(JSON.stringify(cfg));
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}: ${out}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadResult);
    });
  });
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean' }, seconds: { type: 'string' }, concurrency: { type: 'string' }, services: { type: 'string' }, clients: { type: 'string' }, dnsperf: { type: 'boolean' } } });
  const clients = Number(values.clients ?? 3);
  const seconds = Number(values.seconds ?? (values.quick ? 2 : 5));
  const concurrency = Number(values.concurrency ?? 256);
  const nServices = Number(values.services ?? 1000);
  const namespaces = Array.from({ length: 10 }, (_, i) => `ns${i}`);

  const services = new FakeResource();
  const slices = new FakeResource();
  const names: { name: string; kind: 'service' | 'headless' }[] = [];
  for (let i = 0; i < nServices; i++) {
    const ns = namespaces[i % namespaces.length]!;
    const headless = i % 10 === 9;
    const name = `svc-${i}`;
    const ip = `10.43.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    await services.create(service(ns, name, headless
      ? { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'http', port: 80 }] }
      : { clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
    await slices.create(slice(ns, name, `${name}-a`, [1, 2, 3].map((k) => ({
      addresses: [`10.42.${i % 250}.${k * 50 + Math.floor(i / 250)}`], conditions: { ready: true },
    })), [{ name: 'http', port: 8080, protocol: 'TCP' }]));
    names.push({ name: `${name}.${ns}.svc.cluster.local`, kind: headless ? 'headless' : 'service' });
  }
  const svcInformer = new Informer(services, { name: 'services' });
  const sliceInformer = new Informer(slices, { name: 'endpointslices' });
  svcInformer.start();
  sliceInformer.start();
  await Promise.all([svcInformer.waitForSync(), sliceInformer.waitForSync()]);
  const server = await startDnsServer({ host: '127.0.0.1', port: 0, services: svcInformer, endpointSlices: sliceInformer, upstreams: [], log: createLogger({ level: 'warn', component: 'dns-bench' }) });

  // The query mix: 60% service A, 20% headless A, 20% NXDOMAIN, spread over every name.
  const queries: { wire: string; rcode: number; answers: boolean }[] = [];
  const q = (name: string, rcode: number, answers: boolean) => queries.push({
    wire: encode(message({ header: { id: 0, rd: true }, questions: [{ name, type: Type.A, class: Class.IN }] })).toString('base64'), rcode, answers,
  });
  const plain = names.filter((n) => n.kind === 'service');
  const headless = names.filter((n) => n.kind === 'headless');
  for (let i = 0; i < 2000; i++) {
    const r = i % 10;
    if (r < 6) q(plain[(i * 7) % plain.length]!.name, Rcode.NOERROR, true);
    else if (r < 8) q(headless[(i * 3) % headless.length]!.name, Rcode.NOERROR, true);
    else q(`missing-${i}.${namespaces[i % namespaces.length]}.svc.cluster.local`, Rcode.NXDOMAIN, false);
  }
  const load = { host: '127.0.0.1', port: server.port, queries, concurrency, sockets: 4, warmupMs: 1000 };

  const measure = async (what: string, churnPerSecond: number) => {
    let churn: NodeJS.Timeout | undefined;
    let changes = 0;
    if (churnPerSecond) {
      churn = setInterval(() => {
        const i = (changes++ * 37) % nServices;
        const ns = namespaces[i % namespaces.length]!;
        const obj = structuredClone(svcInformer.getByName(ns, `svc-${i}`)!);
        obj.metadata.annotations = { bench: String(changes) };
        void services.update(obj);
      }, 1000 / churnPerSecond);
    }
    const cpu0 = cpuSeconds(process.pid);
    const t0 = performance.now();
    const r = await runLoads(clients, { ...load, durationMs: seconds * 1000 });
    const cpu = (cpuSeconds(process.pid) - cpu0) / ((performance.now() - t0) / 1000);
    clearInterval(churn);
    log(`${what}: ${Math.round(r.qps)} q/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, wrong ${r.wrong}, lost ${r.lost}, server CPU ${(cpu * 100).toFixed(0)}%, load generators ${Math.round((r.loadCpuSeconds / r.seconds) * 100)}% CPU (${Math.round(r.answered / Math.max(r.loadCpuSeconds, 0.01))} q per generator CPU-s)${churnPerSecond ? `, ${changes} service updates` : ''}`);
    return { ...r, cpu, changes };
  };

  try {
    const steady = await measure('steady zone', 0);
    const churned = await measure('20 service updates/s', 20);
    const perf = values.dnsperf ? await withDnsperf(server.port, queries, names, seconds, concurrency) : undefined;
    const rows: Row[] = [
      { metric: 'queries/s (1,000 services, 256 in flight)', value: Math.round(steady.qps), unit: 'q/s', goal: '≥ 20000' },
      { metric: 'latency p50', value: steady.p50, unit: 'ms' },
      { metric: 'latency p99', value: steady.p99, unit: 'ms' },
      { metric: 'server CPU', value: Math.round(steady.cpu * 100), unit: '%' },
      // What one core of server would answer: meaningful when the machine is busy with
      // other work and the measured rate is capped by the CPU the processes get.
      { metric: 'answers per server CPU-second', value: Math.round(steady.qps / Math.max(steady.cpu, 0.01)), unit: 'q/cpu-s' },
      { metric: 'wrong or lost answers', value: steady.wrong + steady.lost, unit: 'queries', goal: '0' },
      { metric: 'queries/s with 20 service updates/s', value: Math.round(churned.qps), unit: 'q/s' },
      { metric: 'latency p99 with updates', value: churned.p99, unit: 'ms' },
    ];
    if (perf) {
      rows.push(
        { metric: 'queries/s, dnsperf as load generator', value: Math.round(perf.qps), unit: 'q/s', goal: '≥ 20000' },
        { metric: '  server CPU', value: Math.round(perf.cpu * 100), unit: '%' },
        { metric: '  wrong rcodes or lost', value: perf.wrong + perf.lost, unit: 'queries', goal: '0' },
      );
    }
    report('dns', rows, { services: nServices, concurrency, clients, seconds, loadavg: os.loadavg(), cpus: os.availableParallelism(), steady, churned, dnsperf: perf });
  } finally {
    await server.close();
    svcInformer.stop();
    sliceInformer.stop();
  }
}

/**
 * The same query mix sent by dnsperf (C, apt package `dnsperf`; --dnsperf): a node load
 * generator costs about as much CPU per query as the server, so on 2 shared cores it caps the
 * rate; dnsperf shows what the server answers when the generator is cheap. dnsperf counts
 * rcodes, not per-query answers: wrong = how far the NOERROR/NXDOMAIN split is off the mix.
 */
async function withDnsperf(port: number, queries: { rcode: number }[], names: { name: string; kind: string }[], seconds: number, inFlight: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-dnsperf-'));
  try {
    // The mix of the node generator, as dnsperf's "name type" lines (same order, same names).
    const plain = names.filter((n) => n.kind === 'service');
    const headless = names.filter((n) => n.kind === 'headless');
    const lines = queries.map((_, i) => {
      const r = i % 10;
      if (r < 6) return `${plain[(i * 7) % plain.length]!.name} A`;
      if (r < 8) return `${headless[(i * 3) % headless.length]!.name} A`;
      return `missing-${i}.ns${i % 10}.svc.cluster.local A`;
    });
    const file = path.join(dir, 'queries.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const cpu0 = cpuSeconds(process.pid);
    const t0 = performance.now();
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-c', '8', '-T', '2', '-q', String(inFlight), '-S', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout!.on('data', (d) => { text += d; });
      child.once('error', (err) => reject(new Error(`dnsperf: ${err.message} (apt-get install dnsperf)`)));
      child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`dnsperf exited with ${code}: ${text}`))));
    });
    const cpu = (cpuSeconds(process.pid) - cpu0) / ((performance.now() - t0) / 1000);
    const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
    const qps = num(/Queries per second:\s+([\d.]+)/);
    const lost = num(/Queries lost:\s+(\d+)/);
    const completed = num(/Queries completed:\s+(\d+)/);
    const nx = num(/NXDOMAIN (\d+)/) || 0;
    const expectedNx = Math.round(completed * (queries.filter((q) => q.rcode === Rcode.NXDOMAIN).length / queries.length));
    const wrong = Math.abs(nx - expectedNx) > completed * 0.01 ? Math.abs(nx - expectedNx) : 0;
    log(`dnsperf: ${Math.round(qps)} q/s, lost ${lost}, NXDOMAIN ${nx} of ${completed}, server CPU ${(cpu * 100).toFixed(0)}%, avg latency ${(num(/Average Latency \(s\):\s+([\d.]+)/) * 1000).toFixed(2)} ms`);
    return { qps, lost, completed, nxdomain: nx, wrong, cpu };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
