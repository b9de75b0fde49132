// `node --import tsx bench/sim.ts [--nodes 5000] [--seconds 60] [--pods 0]`: the cost of
// `skiff sim` against a real server. Starts a server (test/helpers/cluster.ts), spawns
// `skiff sim --nodes N`, times registration, then samples both processes' CPU and RSS
// from /proc while the nodes only heartbeat; checks every Lease is fresh. With --pods P,
// then creates P pods (the scheduler binds them) and times until all are Running.
// Writes bench/results/sim.json.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HttpClient } from '../src/client/http.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { startServer } from '../test/helpers/cluster.ts';
import { report, type Row, cpuSeconds, rssMb } from './lib.ts';




const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { nodes: { type: 'string' }, seconds: { type: 'string' }, pods: { type: 'string' } } });
  const nodes = Number(values.nodes ?? 5000);
  const seconds = Number(values.seconds ?? 60);
  const podCount = Number(values.pods ?? 0);
  const server = await startServer();
  let serverErr = '';
  server.process.stderr!.on('data', (d) => { serverErr = (serverErr + d).slice(-4000); });
  server.process.once('exit', (code, signal) => console.error(`server exited (${code ?? signal}): ${serverErr}`));
  const token = readFileSync(path.join(server.dataDir, 'token'), 'utf8').trim();
  const root = path.resolve(import.meta.dirname, '..');
  const t0 = performance.now();
  const sim = spawn(process.execPath, [path.join(root, 'bin/skiff.js'), 'sim', '--server', server.url, '--token', token,
    '--ca-file', path.join(server.dataDir, 'tls/ca.crt'), '--nodes', String(nodes), '--name-prefix', 'bench'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    sim.stdout!.on('data', (d) => { out += d; if (out.includes('ready')) resolve(); });
    sim.once('exit', (code) => reject(new Error(`skiff sim exited with ${code}: ${out}`)));
  });
  const readyMs = performance.now() - t0;
  // The bench reads and creates as the admin (the join token may only do what nodes do).
  const kc = loadKubeconfig(server.kubeconfig);
  const client = new HttpClient({ server: kc.server, ca: kc.ca, cert: kc.cert, key: kc.key });
  try {
    console.error(`ready in ${Math.round(readyMs)} ms`);
    await sleep(5_000); // let the start-up burst settle
    const pid = sim.pid!;
    const spid = server.process.pid!;
    const [c0, s0, w0] = [cpuSeconds(pid), cpuSeconds(spid), performance.now()];
    let peak = 0;
    for (let i = 0; i < seconds; i++) { await sleep(1_000); peak = Math.max(peak, rssMb(pid)); }
    const wall = (performance.now() - w0) / 1000;
    const simCpu = (cpuSeconds(pid) - c0) / wall * 100;
    const serverCpu = (cpuSeconds(spid) - s0) / wall * 100;
    const simRss = rssMb(pid);
    const serverRss = rssMb(spid);

    const leases = await client.resource('coordination.k8s.io', 'v1', 'leases').list('kube-node-lease');
    const now = Date.now();
    const ours = leases.items.filter((l) => l.metadata.name!.startsWith('bench-'));
    const stale = ours.filter((l) => now - Date.parse(String((l.spec as { renewTime?: string }).renewTime)) > 15_000).length;
    const nodeList = await client.resource('', 'v1', 'nodes').list(undefined, { labelSelector: 'type=simulated' });
    const ready = nodeList.items.filter((n) => ((n.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).length;

    const rows: Row[] = [
      { metric: `time to ${nodes} nodes ready`, value: Math.round(readyMs), unit: 'ms' },
      { metric: 'sim CPU while heartbeating', value: simCpu, unit: '% core' },
      { metric: 'sim RSS while heartbeating', value: Math.round(simRss), unit: 'MB' },
      { metric: 'sim peak RSS (sampled)', value: Math.round(peak), unit: 'MB' },
      { metric: 'server CPU meanwhile', value: serverCpu, unit: '% core' },
      { metric: 'server RSS meanwhile', value: Math.round(serverRss), unit: 'MB' },
      { metric: 'nodes Ready', value: ready, unit: 'nodes' },
      { metric: 'Leases older than 15 s', value: stale, unit: 'leases', goal: '0' },
    ];

    console.error('idle sample done');
    if (podCount > 0) {
      const pods = client.resource('', 'v1', 'pods');
      const p0 = performance.now();
      const queue = Array.from({ length: podCount }, (_, i) => i);
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `bench-${i}`, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
        }
      }));
      const created = performance.now() - p0;
      let running = 0;
      let boundAt = 0;
      for (let waited = 0; waited < 600_000; waited += 1000) {
        try {
          const list = await pods.list('default');
          running = list.items.filter((p) => (p.status as { phase?: string }).phase === 'Running').length;
          const bound = list.items.filter((p) => (p.spec as { nodeName?: string }).nodeName).length;
          if (!boundAt && bound >= podCount) boundAt = performance.now() - p0;
          if (running >= podCount) break;
        } catch (err) {
          console.error(`listing pods: ${(err as Error).message}`);
        }
        await sleep(1000);
      }
      rows.push({ metric: `${podCount} pods created (16 clients)`, value: Math.round(created), unit: 'ms' });
      rows.push({ metric: '… all bound by the scheduler', value: Math.round(boundAt), unit: 'ms' });
      rows.push({ metric: '… all Running', value: Math.round(performance.now() - p0), unit: 'ms' });
      rows.push({ metric: 'pods Running', value: running, unit: 'pods' });
      rows.push({ metric: 'sim RSS with the pods', value: Math.round(rssMb(pid)), unit: 'MB' });
    }
    report('sim', rows, { nodes, seconds, pods: podCount });
  } finally {
    client.close();
    sim.kill('SIGTERM');
    await new Promise((r) => sim.once('exit', r));
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
