// The API server's speed and footprint: cold start to ready, idle RSS, creates/s through
// HTTPS with 64 concurrent clients, create latency on an idle server, watch delivery latency.
// The server runs without its agent (`footprint` measures the agent): an agent would also
// leave its node's nftables tables and DNS interface behind, as agents do on purpose.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { once } from 'node:events';
import YAML from 'yaml';
import { prepareBundle, report, summarize, type Row, rssMb } from './lib.ts';
import { LineSplitter } from '../src/client/ndjson.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

interface Running { url: string; pid: number; agent: https.Agent; stop(): Promise<void>; readyMs: number }

async function start(): Promise<Running> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/skiff.js'), 'server', '--data-dir', dataDir, '--https-listen-port', '0', '--disable-agent'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => { out += d; const m = out.match(/ready at (https:\/\/\S+)/); if (m) resolve(m[1]); });
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  const readyMs = performance.now() - t0;
  const kc = YAML.parse(readFileSync(path.join(dataDir, 'kubeconfig.yaml'), 'utf8'));
  const agent = new https.Agent({
    keepAlive: true, maxSockets: 128,
    ca: Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64'),
    cert: Buffer.from(kc.users[0].user['client-certificate-data'], 'base64'),
    key: Buffer.from(kc.users[0].user['client-key-data'], 'base64'),
  });
  return {
    url, pid: child.pid!, agent, readyMs,
    async stop() { agent.destroy(); child.kill('SIGTERM'); await once(child, 'exit'); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

function request(s: Running, method: string, p: string, body?: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(s.url + p, { method, agent: s.agent, headers: data ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(data);
  });
}


const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { bench: 'yes' } }, data: { payload: 'x'.repeat(200) } });
const CM = '/api/v1/namespaces/default/configmaps';

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  // Sizes: --starts N --creates N (one at a time) --load N (64 clients) --watches N.
  const flag = (name: string, dflt: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : dflt; };
  // The server as shipped: from the bundle, rebuilt from the tree as it is now.
  await prepareBundle();
  const starts: number[] = [];
  for (let i = 0; i < flag('starts', quick ? 2 : 5); i++) {
    const s = await start();
    starts.push(s.readyMs);
    await s.stop();
  }
  const s = await start();
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const idleRss = rssMb(s.pid);

    // Create latency, one at a time on an idle server.
    const lat: number[] = [];
    for (let i = 0; i < flag('creates', quick ? 200 : 1000); i++) {
      const t = performance.now();
      const code = await request(s, 'POST', CM, cm(`lat-${i}`));
      if (code !== 201) throw new Error(`create answered ${code}`);
      lat.push(performance.now() - t);
    }

    // Throughput: 64 clients creating as fast as they can.
    const total = flag('load', quick ? 3000 : 15000);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < total) {
        const i = next++;
        const code = await request(s, 'POST', CM, cm(`tp-${i}`));
        if (code !== 201) throw new Error(`create answered ${code}`);
      }
    }));
    const createsPerSec = total / ((performance.now() - t0) / 1000);
    const busyRss = rssMb(s.pid);

    // Watch delivery: time from a write's response to its event arriving on a watch.
    const deliveries = await watchLatency(s, flag('watches', quick ? 100 : 300));

    const createSummary = summarize(lat);
    const watchSummary = summarize(deliveries);
    const startSummary = summarize(starts);
    const rows: Row[] = [
      { metric: 'cold start to ready (median)', value: startSummary.p50, unit: 'ms', goal: '≤ 1000 ms' },
      { metric: 'idle RSS', value: idleRss, unit: 'MB', goal: '≤ 100 MB' },
      { metric: `creates/s, 64 clients (${total})`, value: createsPerSec, unit: '/s', goal: '≥ 3000/s' },
      { metric: 'RSS after the load', value: busyRss, unit: 'MB' },
      { metric: 'create p50, idle server', value: createSummary.p50, unit: 'ms' },
      { metric: 'create p99, idle server', value: createSummary.p99, unit: 'ms', goal: '≤ 10 ms' },
      { metric: 'watch delivery p50', value: watchSummary.p50, unit: 'ms' },
      { metric: 'watch delivery p99', value: watchSummary.p99, unit: 'ms', goal: '≤ 10 ms' },
    ];
    report('api', rows, { quick, samples: { starts, createLatency: createSummary, watch: watchSummary } });
  } finally {
    await s.stop();
  }
}

async function watchLatency(s: Running, n: number): Promise<number[]> {
  const sent = new Map<string, number>();
  const out: number[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => { resolveDone = r; });
  const req = https.get(`${s.url}/api/v1/namespaces/default/configmaps?watch=1&labelSelector=watch%3Dyes&resourceVersion=0`, { agent: new https.Agent({ ...s.agent.options }) }, (res) => {
    const lines = new LineSplitter((line) => {
      const ev = JSON.parse(line);
      const t = sent.get(ev.object.metadata.name);
      if (t !== undefined) { out.push(performance.now() - t); if (out.length === n) resolveDone(); }
    });
    res.setEncoding('utf8');
    res.on('data', (d: string) => lines.push(d));
  });
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < n; i++) {
    const name = `watch-${i}`;
    sent.set(name, performance.now());
    const obj = cm(name);
    obj.metadata.labels = { watch: 'yes' } as never;
    await request(s, 'POST', CM, obj);
    await new Promise((r) => setTimeout(r, 2));
  }
  await done;
  req.destroy();
  return out;
}
