// Pod startup on a real node: `skiff server --disable-agent` plus a separate `skiff agent`
// (containerd + runc + CNI) on this machine, image present. Time from POST to the pod's
// Ready condition seen by a watch, for N pods one after another and N at once
// (default 30; --quick 5), plus the agent's idle RSS. Reference in the same run: the
// floor containerd itself takes (RunPodSandbox + CreateContainer + StartContainer
// through CRI, measured by the agent's own CRI client on the same containerd).
// SKIFF_BENCH_STDERR=1 shows the server's and agent's stderr as it comes;
// SKIFF_BENCH_AGENT_NODE_FLAGS="--cpu-prof ..." passes node flags to the agent.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HttpClient } from '../src/client/http.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import type { KObject } from '../src/api/object.ts';
import { CriClient } from '../src/agent/cri/client.ts';
import { agentNames } from '../src/agent/containerd/names.ts';
import { BUSYBOX_IMAGE } from '../src/agent/images/builtin.ts';
import { prepareBundle, report, rssMb, summarize, type Row } from './lib.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/skiff.js');
const log = (msg: string) => console.error(`[pod-startup bench] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startProcess(args: string[], readyLine: RegExp, what: string, nodeFlags: string[] = []): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [...nodeFlags, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} not ready in 60 s:\n${out}`)), 60_000);
    const on = (d: Buffer) => { out += d; const m = out.match(readyLine); if (m) { clearTimeout(t); resolve({ child, match: m }); } };
    child.stdout!.on('data', on);
    child.stderr!.on('data', (d) => { out += d; if (process.env.SKIFF_BENCH_STDERR) process.stderr.write(d); });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`${what} exited with ${code}:\n${out}`)); });
  });
}

const podFor = (name: string): KObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { bench: 'pod-startup' } },
  spec: {
    terminationGracePeriodSeconds: 0,
    containers: [{ name: 'c', image: BUSYBOX_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
  },
});

const isReady = (p: KObject) => ((p.status as any)?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean' }, pods: { type: 'string' } } });
  const n = Number(values.pods ?? (values.quick ? 5 : 30));
  if (process.getuid?.() !== 0) throw new Error('pod-startup runs containers: run it as root');
  await prepareBundle();
  const dir = mkdtempSync('/tmp/skiff-bench-');
  const serverDir = path.join(dir, 's');
  const agentDir = path.join(dir, 'a');
  const procs: ChildProcess[] = [];
  try {
    const { child: server, match } = await startProcess(['server', '--data-dir', serverDir, '--https-listen-port', '0', '--disable-agent', '--cluster-cidr', '10.250.0.0/16'], /ready at (https:\/\/\S+)/, 'server');
    procs.push(server);
    const url = match[1]!;
    const token = readFileSync(path.join(serverDir, 'token'), 'utf8').trim();
    const agentStart = performance.now();
    const { child: agent } = await startProcess(['agent', '--server', url, '--token', token, '--data-dir', agentDir, '--kubelet-port', '0', '--node-name', 'bench-node'], /node \S+ ready/, 'agent', (process.env.SKIFF_BENCH_AGENT_NODE_FLAGS ?? '').split(' ').filter(Boolean));
    procs.push(agent);
    const agentReadyMs = performance.now() - agentStart;
    log(`agent ready in ${Math.round(agentReadyMs)} ms`);

    const kc = loadKubeconfig(path.join(serverDir, 'kubeconfig.yaml'));
    const client = new HttpClient({ server: kc.server, ca: kc.ca, cert: kc.cert, key: kc.key, fieldManager: 'bench' });
    const pods = client.resource('', 'v1', 'pods');
    const createdAt = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const boundAt = new Map<string, number>();
    let wake: (() => void) | undefined;
    const watch = await pods.watch('default', { labelSelector: 'bench=pod-startup' }, (ev) => {
      if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') return;
      const name = ev.object.metadata.name!;
      if (!boundAt.has(name) && (ev.object.spec as { nodeName?: string } | undefined)?.nodeName) boundAt.set(name, performance.now());
      if (!readyAt.has(name) && createdAt.has(name) && isReady(ev.object)) { readyAt.set(name, performance.now()); wake?.(); }
    });
    const waitReady = async (names: string[], timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      while (names.some((x) => !readyAt.has(x))) {
        if (Date.now() > deadline) throw new Error(`pods not Ready in ${timeoutMs} ms: ${names.filter((x) => !readyAt.has(x)).join(' ')}`);
        await new Promise<void>((r) => { wake = r; setTimeout(r, 200); });
      }
    };
    const create = async (name: string) => { createdAt.set(name, performance.now()); await pods.create(podFor(name)); };
    const latency = (names: string[]) => names.map((x) => readyAt.get(x)! - createdAt.get(x)!);
    const scheduling = (names: string[]) => names.map((x) => (boundAt.get(x) ?? readyAt.get(x)!) - createdAt.get(x)!);

    // Warm-up: the first pod pays for the image unpack and the CNI plugin's first run.
    await create('warmup'); await waitReady(['warmup']);
    await sleep(2_000);
    const idleRss = rssMb(agent.pid!);

    // Reference first, on the same quiet node: containerd alone, the same pod through CRI.
    const cri = CriClient.connect(agentNames(path.join(agentDir, 'agent')).socket);
    const floor: number[] = [];
    for (let i = 0; i < Math.min(n, 10); i++) {
      const t = performance.now();
      const sandbox = { metadata: { name: `ref-${i}`, uid: `ref-uid-${i}`, namespace: 'bench-ref', attempt: 0 }, logDirectory: path.join(dir, 'ref-logs', String(i)), linux: { cgroupParent: `${agentNames(path.join(agentDir, 'agent')).cgroupParent}/podref${i}` } };
      const sb = await cri.runPodSandbox(sandbox);
      const id = await cri.createContainer(sb, { metadata: { name: 'c', attempt: 0 }, image: { image: BUSYBOX_IMAGE }, command: ['sleep', '3600'], logPath: 'c.log' }, sandbox);
      await cri.startContainer(id);
      floor.push(performance.now() - t);
      await cri.stopPodSandbox(sb);
      await cri.removePodSandbox(sb);
    }
    cri.close();
    const seq: string[] = [];
    for (let i = 0; i < n; i++) { const name = `seq-${i}`; seq.push(name); await create(name); await waitReady([name]); }
    log(`${n} sequential pods Ready`);
    const par = Array.from({ length: n }, (_, i) => `par-${i}`);
    const t0 = performance.now();
    await Promise.all(par.map(create));
    await waitReady(par);
    const parTotal = performance.now() - t0;
    log(`${n} parallel pods Ready in ${Math.round(parTotal)} ms`);
    const busyRss = rssMb(agent.pid!);
    watch.close();


    const s = summarize(latency(seq));
    const p = summarize(latency(par));
    const f = summarize(floor);
    const b = summarize(scheduling(seq));
    const rows: Row[] = [
      { metric: 'agent start → node ready', value: Math.round(agentReadyMs), unit: 'ms' },
      { metric: `sequential create→Ready p50 (${n})`, value: Math.round(s.p50), unit: 'ms', goal: '≤ 300' },
      { metric: `sequential create→Ready p99 (${n})`, value: Math.round(s.p99), unit: 'ms', goal: '≤ 500' },
      { metric: 'sequential create→bound p50 (scheduler)', value: Math.round(b.p50), unit: 'ms' },
      { metric: `parallel create→Ready p50 (${n} at once)`, value: Math.round(p.p50), unit: 'ms' },
      { metric: `parallel create→Ready p99 (${n} at once)`, value: Math.round(p.p99), unit: 'ms' },
      { metric: `parallel: all ${n} Ready`, value: Math.round(parTotal), unit: 'ms' },
      { metric: 'reference: containerd CRI sandbox+container p50', value: Math.round(f.p50), unit: 'ms' },
      { metric: 'agent RSS idle (1 pod)', value: Math.round(idleRss), unit: 'MB', goal: '≤ 60' },
      { metric: `agent RSS with ${2 * n + 1} pods`, value: Math.round(busyRss), unit: 'MB' },
    ];
    report('pod-startup', rows, { pods: n, sequential: s, parallel: p, reference: f, bound: b });
    client.close();
  } finally {
    for (const c of procs.reverse()) { if (c.exitCode === null) { c.kill('SIGTERM'); await once(c, 'exit'); } }
    const k = spawn(process.execPath, [BIN, 'killall', '--data-dir', agentDir], { stdio: 'ignore' });
    await once(k, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}
