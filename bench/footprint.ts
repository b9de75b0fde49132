// Footprint: how fast `skiff server --disable-agent` starts and how much memory it holds
// while idle, beside Node's own floor measured the same way in the same run.
//  - cold start: process spawn → the "ready at" line, and spawn → the first successful
//    request a fresh client makes (new TLS connection with the kubeconfig's credentials,
//    `GET /api/v1/namespaces/default/configmaps`, as `kubectl get cm` does); median of N
//    runs (default 5, --quick 2), fresh data dir each;
//  - idle RSS (VmRSS from /proc) after --idle-seconds (default 10, --quick 2) on a fresh
//    data dir, and after a restart on a data dir holding 1,000 ConfigMaps (--quick 100);
//  - agent (root, containerd): `skiff agent` joined to the server, start → node ready, and
//    its idle RSS (the agent process alone; containerd is its own process) with its
//    anonymous/file-backed split, on its first start (key, node certificate, serving
//    certificate and built-in images made then) and after a restart on the same directory;
//    skipped with the reason otherwise, or with --no-agent. The agent runs with
//    bin/skiff.js's V8 flags (SKIFF_AGENT_V8_FLAGS replaces them, '' for none);
//  - reference: `node -e ''` spawn → exit, and the RSS of an idle `node -e` timer.
// Server and agent run from the bundle (rebuilt first; SKIFF_FROM_BUNDLE=1 keeps them on it
// while others edit the tree), as `skiff` does after a build.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { agentUnavailable } from '../test/helpers/cluster.ts';
import { prepareBundle, adminTls, stopChild, stopChildren, freePort, percentiles, report, rssMb, summarize, type Row } from './lib.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/skiff.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The bundle prepareBundle() just built, even if someone edits the tree meanwhile (else
// bin/skiff.js would switch to the sources mid-run); nothing when measuring the sources.
const ENV = process.env.SKIFF_FROM_SOURCE === '1' ? process.env : { ...process.env, SKIFF_FROM_BUNDLE: '1' };
const log = (msg: string) => console.error(`[footprint bench] ${msg}`);

interface Started { child: ChildProcess; readyMs: number; firstRequestMs: number; url: string; tls: https.AgentOptions }

function waitForLine(child: ChildProcess, re: RegExp, what: string, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} not ready in ${timeoutMs} ms:\n${out.slice(-2000)}`)), timeoutMs);
    const on = (d: Buffer) => { out += d; const m = out.match(re); if (m) { clearTimeout(t); resolve(m); } };
    child.stdout!.on('data', on);
    child.stderr!.on('data', (d) => { out += d; if (process.env.SKIFF_BENCH_STDERR) process.stderr.write(d); });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`${what} exited with ${code}:\n${out.slice(-2000)}`)); });
  });
}

function request(url: string, tls: https.AgentOptions, method: string, p: string, body?: unknown, agent?: https.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(url + p, { method, ...(agent ? { agent } : { ...tls, agent: false }), headers: data ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${p}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(data);
  });
}

async function startServer(dataDir: string): Promise<Started> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, 'server', '--data-dir', dataDir, '--https-listen-port', String(port), '--disable-agent'], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
  const m = await waitForLine(child, /ready at (https:\/\/\S+)/, 'server');
  const readyMs = performance.now() - t0;
  const url = m[1]!;
  const tls = adminTls(dataDir);
  // A client started once the server says it is ready: a new TLS connection and one GET.
  let firstRequestMs = NaN;
  for (let tries = 0; tries < 100; tries++) {
    const code = await request(url, tls, 'GET', '/api/v1/namespaces/default/configmaps').catch(() => 0);
    if (code === 200) { firstRequestMs = performance.now() - t0; break; }
    await sleep(10);
  }
  return { child, readyMs, firstRequestMs, url, tls };
}

/** VmRSS and its anonymous (heaps, buffers) and file-backed (mostly the node binary's pages) parts, MB. */
function rssSplit(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** Node's own floor: `node -e ''` spawn → exit (median), and the RSS of an idle node process. */
async function nodeFloor(runs: number, idleMs: number): Promise<{ startMs: number[]; idleRss: number }> {
  const startMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const c = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(c, 'exit');
    startMs.push(performance.now() - t);
  }
  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(idleMs);
  const idleRss = rssMb(idle.pid!);
  await stopChild(idle);
  return { startMs, idleRss };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: { quick: { type: 'boolean' }, runs: { type: 'string' }, 'idle-seconds': { type: 'string' }, configmaps: { type: 'string' }, 'no-agent': { type: 'boolean' } } });
  const quick = values.quick ?? false;
  const runs = Number(values.runs ?? (quick ? 2 : 5));
  const idleMs = Number(values['idle-seconds'] ?? (quick ? 2 : 10)) * 1000;
  const numCm = Number(values.configmaps ?? (quick ? 100 : 1000));
  await prepareBundle();
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const tmp = () => { const d = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-fp-')); dirs.push(d); return d; };
  try {
    const floor = await nodeFloor(runs, idleMs);
    log(`node floor: start ${Math.round(summarize(floor.startMs).p50)} ms, idle RSS ${Math.round(floor.idleRss)} MB`);

    // Cold starts, fresh data dir each (the first run of a data dir makes its CA and certs).
    const ready: number[] = [];
    const first: number[] = [];
    for (let i = 0; i < runs; i++) {
      const s = await startServer(tmp());
      children.push(s.child);
      ready.push(s.readyMs);
      first.push(s.firstRequestMs);
      log(`start ${i + 1}/${runs}: ready ${Math.round(s.readyMs)} ms, first request ${Math.round(s.firstRequestMs)} ms`);
      if (i < runs - 1) await stopChild(s.child);
    }
    // Idle RSS on a fresh data dir: the last server started, left alone.
    const last = children.at(-1)!;
    await sleep(idleMs);
    const idleRss = rssMb(last.pid!);
    log(`idle RSS (fresh) ${Math.round(idleRss)} MB`);
    await stopChild(last);

    // With data: create ConfigMaps, restart on the same dir, idle, RSS.
    const dataDir = tmp();
    const s1 = await startServer(dataDir);
    children.push(s1.child);
    const agent = new https.Agent({ ...s1.tls, keepAlive: true, maxSockets: 16 });
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < numCm) {
        const i = next++;
        const code = await request(s1.url, s1.tls, 'POST', '/api/v1/namespaces/default/configmaps',
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `fp-${i}` }, data: { payload: 'x'.repeat(200) } }, agent);
        if (code !== 201) throw new Error(`ConfigMap create answered ${code}`);
      }
    }));
    agent.destroy();
    await stopChild(s1.child);
    const s2 = await startServer(dataDir);
    children.push(s2.child);
    await sleep(idleMs);
    const dataRss = rssMb(s2.child.pid!);
    log(`restart with ${numCm} ConfigMaps: ready ${Math.round(s2.readyMs)} ms, idle RSS ${Math.round(dataRss)} MB`);

    // The agent, when this machine can run one.
    const why = values['no-agent'] ? '--no-agent' : agentUnavailable();
    let agentRow: Row[] = [];
    let agentExtra: Record<string, unknown> = { agentSkipped: why };
    if (why) {
      log(`agent skipped: ${why}`);
    } else {
      const agentDir = tmp();
      const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
      const runAgent = async (what: string) => {
        const t0 = performance.now();
        const a = spawn(process.execPath, [BIN, 'agent', '--server', s2.url, '--token', token, '--data-dir', agentDir, '--kubelet-port', '0', '--node-name', 'bench-fp-node'], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
        children.push(a);
        try {
          await waitForLine(a, /node \S+ ready/, 'agent', 120_000);
          const readyMs = performance.now() - t0;
          await sleep(idleMs);
          const mem = rssSplit(a.pid!);
          log(`agent (${what}): ready ${Math.round(readyMs)} ms, idle RSS ${Math.round(mem.rss)} MB (anonymous ${Math.round(mem.anon)}, file ${Math.round(mem.file)})`);
          return { readyMs, ...mem };
        } finally {
          await stopChild(a);
        }
      };
      try {
        // First start: makes its key, certificates and the built-in images. Then a restart
        // on the same directory, as after a reboot or an upgrade: all of that is on disk.
        const fresh = await runAgent('first start');
        const again = await runAgent('restart');
        agentRow = [
          { metric: 'agent start → node ready', value: Math.round(fresh.readyMs), unit: 'ms' },
          { metric: `agent idle RSS (${idleMs / 1000} s, no pods)`, value: fresh.rss, unit: 'MB', goal: '≤ 60 MB' },
          { metric: 'agent restart → node ready', value: Math.round(again.readyMs), unit: 'ms' },
          { metric: `agent idle RSS after a restart (${idleMs / 1000} s, no pods)`, value: again.rss, unit: 'MB', goal: '≤ 60 MB' },
        ];
        agentExtra = {
          agentReadyMs: fresh.readyMs, agentRss: fresh.rss, agentRssAnon: fresh.anon, agentRssFile: fresh.file,
          agentRestartReadyMs: again.readyMs, agentRestartRss: again.rss, agentRestartRssAnon: again.anon, agentRestartRssFile: again.file,
          agentV8Flags: process.env.SKIFF_AGENT_V8_FLAGS ?? 'default (bin/skiff.js)',
        };
      } finally {
        const k = spawn(process.execPath, [BIN, 'killall', '--data-dir', agentDir], { stdio: 'ignore' });
        await once(k, 'exit');
      }
    }

    const r = summarize(ready);
    const f = summarize(first);
    const n = summarize(floor.startMs);
    const rows: Row[] = [
      { metric: `server cold start → ready line (median of ${runs})`, value: r.p50, unit: 'ms', goal: '≤ 1000 ms' },
      { metric: 'server cold start → first request answered', value: f.p50, unit: 'ms', goal: '≤ 1000 ms' },
      { metric: 'reference: node -e \'\' spawn → exit', value: n.p50, unit: 'ms' },
      { metric: `server idle RSS (${idleMs / 1000} s, fresh data dir)`, value: idleRss, unit: 'MB', goal: '≤ 100 MB' },
      { metric: `server restart → ready, ${numCm} ConfigMaps`, value: s2.readyMs, unit: 'ms' },
      { metric: `server idle RSS, ${numCm} ConfigMaps`, value: dataRss, unit: 'MB', goal: '≤ 100 MB' },
      { metric: 'reference: idle node process RSS', value: floor.idleRss, unit: 'MB' },
      ...agentRow,
    ];
    report('footprint', rows, {
      quick, fromSource: process.env.SKIFF_FROM_SOURCE === '1', runs, idleSeconds: idleMs / 1000, configmaps: numCm, ...agentExtra,
      percentiles: [percentiles('server spawn → ready line', ready, 1000), percentiles('server spawn → first request', first, 1000), percentiles("reference: node -e ''", floor.startMs)],
      samples: { ready, firstRequest: first, nodeStart: floor.startMs },
    });
  } finally {
    await stopChildren(children);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
