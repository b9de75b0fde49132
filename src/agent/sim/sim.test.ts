// `skiff sim` end to end: the real CLI against a real server (startServer), checked
// with kubectl and plain HTTPS.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, startServer, type TestServer } from '../../../test/helpers/cluster.ts';
import { caFromToken } from './ca.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
let server: TestServer;
let sim: ChildProcess;
let simOut = '';

const podJson = (name: string, spec: Record<string, unknown>) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], ...spec },
});

async function getPod(name: string): Promise<any> {
  const r = await server.request('GET', `/api/v1/namespaces/default/pods/${name}`);
  return r.status === 200 ? r.json : undefined;
}

before(async () => {
  server = await startServer();
  const token = readFileSync(path.join(server.dataDir, 'token'), 'utf8').trim();
  sim = spawn(process.execPath, [
    path.join(ROOT, 'bin/skiff.js'), 'sim', '--server', server.url, '--token', token,
    '--ca-file', path.join(server.dataDir, 'tls/ca.crt'), '--nodes', '3', '--name-prefix', 'sim-it', '--lease-interval', '1', '--status-interval', '1',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  sim.stdout!.on('data', (d) => { simOut += d; });
  sim.stderr!.on('data', (d) => { simOut += d; });
  await eventually(async () => simOut.includes('ready'), 20_000, `skiff sim to say ready (output: ${simOut})`);
});

after(async () => {
  if (sim && sim.exitCode === null) { sim.kill('SIGKILL'); await once(sim, 'exit'); }
  await server?.stop();
});

test('prints one ready line and registers 3 Ready nodes', async () => {
  assert.match(simOut, /skiff sim: 3 nodes ready \(sim-it-0\.\.2\)/);
  const out = await server.kubectlOk(['get', 'nodes', '-o', 'wide', '--no-headers']);
  const rows = out.trim().split('\n').filter((l) => l.startsWith('sim-it-'));
  assert.equal(rows.length, 3, out);
  for (const row of rows) assert.match(row, /^sim-it-\d\s+Ready\s+<none>\s+\S+\s+v1\.32\.0-skiff-sim\s+172\.30\.\d+\.\d+\s.*simulated:\/\/0\.1/);
  const node = JSON.parse(await server.kubectlOk(['get', 'node', 'sim-it-1', '-o', 'json']));
  assert.equal(node.metadata.labels.type, 'simulated');
  assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'sim-it-1');
  assert.equal(node.status.capacity.pods, '110');
  assert.deepEqual(node.status.conditions.map((c: any) => `${c.type}=${c.status}`).sort(),
    ['DiskPressure=False', 'MemoryPressure=False', 'PIDPressure=False', 'Ready=True']);
});

test('without --ca-file, the CA the server presents is trusted only if it matches the K10 token', async () => {
  const token = readFileSync(path.join(server.dataDir, 'token'), 'utf8').trim();
  assert.equal(await caFromToken(server.url, token), readFileSync(path.join(server.dataDir, 'tls/ca.crt'), 'utf8'));
  const wrong = `K10${'0'.repeat(64)}::server:${token.split(':').pop()}`;
  await assert.rejects(caFromToken(server.url, wrong), /no CA matching/);
  await assert.rejects(caFromToken(server.url, 'bare-secret'), /no CA hash/);
});

test('a pod bound to a simulated node runs with an IP; one bound through pods/binding too', async () => {
  await server.kubectlOk(['apply', '-f', '-'], { input: podJson('web', { nodeName: 'sim-it-0' }) });
  // No scheduler takes a pod for an unknown schedulerName, so the binding below is ours.
  await server.kubectlOk(['apply', '-f', '-'], { input: podJson('bound', { schedulerName: 'nobody' }) });
  const b = await server.request('POST', '/api/v1/namespaces/default/pods/bound/binding', {
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { apiVersion: 'v1', kind: 'Node', name: 'sim-it-2' } },
  });
  assert.equal(b.status, 201, b.text);
  for (const name of ['web', 'bound']) {
    const pod = await eventually(async () => { const p = await getPod(name); return p?.status?.phase === 'Running' && p; }, 10_000, `${name} Running`);
    assert.match(pod.status.podIP, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok(!pod.status.podIP.endsWith('.0') && !pod.status.podIP.endsWith('.1'));
    assert.match(pod.status.hostIP, /^172\.30\./);
    assert.equal(pod.status.containerStatuses[0].ready, true);
    assert.ok(pod.status.containerStatuses[0].state.running);
  }
  const table = await server.kubectlOk(['get', 'pod', 'web', '--no-headers']);
  assert.match(table, /^web\s+1\/1\s+Running\s+0/);
});

test('sleep 1 with restartPolicy Never succeeds after about a second; false fails', async () => {
  const created = Date.now();
  await server.kubectlOk(['apply', '-f', '-'], { input: podJson('sleeper', { nodeName: 'sim-it-1', restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '1'] }] }) });
  await server.kubectlOk(['apply', '-f', '-'], { input: podJson('failer', { nodeName: 'sim-it-1', restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36', command: ['false'] }] }) });
  const running = await eventually(async () => { const p = await getPod('sleeper'); return p?.status?.phase && p.status.phase !== 'Pending' && p; }, 10_000, 'sleeper started');
  assert.equal(running.status.phase, 'Running', 'Running before it finishes');
  const done = await eventually(async () => { const p = await getPod('sleeper'); return p?.status?.phase === 'Succeeded' && p; }, 10_000, 'sleeper Succeeded');
  assert.ok(Date.now() - created >= 900, 'not before the second is up');
  const term = done.status.containerStatuses[0].state.terminated;
  assert.equal(term.exitCode, 0);
  assert.equal(term.reason, 'Completed');
  const failed = await eventually(async () => { const p = await getPod('failer'); return p?.status?.phase === 'Failed' && p; }, 10_000, 'failer Failed');
  assert.equal(failed.status.containerStatuses[0].state.terminated.exitCode, 1);
  assert.equal(failed.status.containerStatuses[0].state.terminated.reason, 'Error');
});

test('deleting a running pod removes it (the agent finishes the graceful delete)', async () => {
  await server.kubectlOk(['apply', '-f', '-'], { input: podJson('doomed', { nodeName: 'sim-it-2' }) });
  await eventually(async () => (await getPod('doomed'))?.status?.phase === 'Running', 10_000, 'doomed Running');
  await server.kubectlOk(['delete', 'pod', 'doomed', '--timeout=15s']);
  assert.equal(await getPod('doomed'), undefined);
});

test('node status is posted again: the Ready condition\'s heartbeat moves on', async () => {
  const heartbeat = async () => ((await server.request('GET', '/api/v1/nodes/sim-it-1')).json?.status?.conditions as { type: string; lastHeartbeatTime: string }[] | undefined)
    ?.find((c) => c.type === 'Ready')?.lastHeartbeatTime ?? '';
  const first = await heartbeat();
  assert.ok(first, 'a Ready condition with a heartbeat');
  await eventually(async () => (await heartbeat()) > first, 5_000, 'a newer lastHeartbeatTime');
  assert.equal(sim.exitCode, null, `skiff sim still runs (output: ${simOut})`);
});

test('Leases are renewed, and stop being renewed when the process stops', async () => {
  const renewTime = async () => (await server.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/sim-it-0')).json?.spec?.renewTime as string;
  const first = await renewTime();
  assert.ok(first);
  const lease = (await server.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/sim-it-0')).json;
  assert.equal(lease.spec.holderIdentity, 'sim-it-0');
  assert.equal(lease.spec.leaseDurationSeconds, 40);
  await eventually(async () => (await renewTime()) > first, 5_000, 'a renewal');
  sim.kill('SIGTERM');
  const [code] = await once(sim, 'exit');
  assert.equal(code, 0);
  const last = await renewTime();
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(await renewTime(), last, 'no renewals after the process stopped');
});
