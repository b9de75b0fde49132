// A server killed mid-rollout (kill -9) and started again on the same data dir resumes
// the rollout: no pod lost, none duplicated, nothing acknowledged forgotten.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { startServer, eventually, type TestServer } from '../helpers/cluster.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-restart-'));
let server: TestServer | undefined;
let sim: ChildProcess | undefined;

after(async () => {
  sim?.kill('SIGTERM');
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

function startSim(url: string): Promise<ChildProcess> {
  const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/skiff.js'), 'sim', '--server', url, '--token', token, '--data-dir', dataDir,
    '--nodes', '2', '--name-prefix', 'restart', '--lease-interval', '2', '--status-interval', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; if (out.includes('ready')) resolve(child); });
    child.once('exit', (code) => reject(new Error(`sim exited ${code}: ${out}`)));
  });
}

const deployment = (image: string) => JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'roll' },
  spec: {
    replicas: 4, selector: { matchLabels: { app: 'roll' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: { metadata: { labels: { app: 'roll' } }, spec: { containers: [{ name: 'c', image, command: ['sleep', 'infinity'] }] } },
  },
});

test('a rollout interrupted by kill -9 finishes after a restart with exactly the desired pods', async () => {
  const port = await freePort();
  const args = ['--https-listen-port', String(port)];
  server = await startServer({ dataDir, args });
  sim = await startSim(server.url);
  await server.kubectlOk(['apply', '-f', '-'], { input: deployment('v1') });
  await server.kubectlOk(['rollout', 'status', 'deployment/roll', '--timeout=60s'], { timeoutMs: 70_000 });

  await server.kubectlOk(['apply', '-f', '-'], { input: deployment('v2') });
  // Let the rollout start, then pull the plug.
  await eventually(async () => {
    const rs = JSON.parse(await server!.kubectlOk(['get', 'rs', '-l', 'app=roll', '-o', 'json'])).items;
    return rs.length === 2;
  }, 20_000, 'the new ReplicaSet');
  server.process.kill('SIGKILL');
  await once(server.process, 'exit');

  server = await startServer({ dataDir, args });
  await server.kubectlOk(['rollout', 'status', 'deployment/roll', '--timeout=90s'], { timeoutMs: 100_000 });
  const pods = await eventually(async () => {
    const items = JSON.parse(await server!.kubectlOk(['get', 'pods', '-l', 'app=roll', '-o', 'json'])).items
      .filter((p: any) => !p.metadata.deletionTimestamp);
    return items.length === 4 ? items : undefined;
  }, 30_000, 'exactly four live pods');
  assert.ok(pods.every((p: any) => p.spec.containers[0].image === 'v2'), 'all pods run the new template');
  assert.equal(new Set(pods.map((p: any) => p.metadata.name)).size, 4);
  const deploy = JSON.parse(await server.kubectlOk(['get', 'deploy', 'roll', '-o', 'json']));
  assert.equal(deploy.status.updatedReplicas, 4);
  assert.equal(deploy.status.replicas, 4);
});
