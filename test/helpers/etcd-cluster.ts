// Starts a throwaway multi-member etcd cluster on loopback ports (Debian's /usr/bin/etcd),
// for the HA tests: several skiff servers on one etcd, members killed and restarted.
// Each member keeps its data dir across kill/restart so it rejoins as the same member.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdBinary, freePort } from '../../src/store/etcd/local-etcd.ts';

export interface EtcdMember {
  name: string;
  /** http://127.0.0.1:PORT, the client URL. */
  endpoint: string;
  peerUrl: string;
  dataDir: string;
  /** Whether the member's process is running. */
  running(): boolean;
  /** The running process's pid (e.g. for its CPU time in /proc). */
  pid(): number | undefined;
  /** Kills the member (SIGKILL unless `hard` is false) and waits for it to exit. Keeps its data. */
  kill(hard?: boolean): Promise<void>;
  /** Starts the member again on the same ports and data dir (it rejoins the cluster). */
  restart(): Promise<void>;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** All client URLs, comma-joined: the value for `--datastore-endpoint`. */
  endpoints: string;
  dir: string;
  /** Waits until a quorum answers `/health` through any member. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Kills every member and removes the data dirs. */
  stop(): Promise<void>;
  /** The member that is the raft leader now, as the running members report it. */
  leader(): Promise<EtcdMember | undefined>;
  /**
   * Each running member's hash of the key-value history up to `revision` (etcdctl endpoint
   * hashkv): equal hashes mean the members hold the same data (nothing diverged or corrupted).
   */
  hashKV(revision: number): Promise<Array<{ member: string; hash: number; revision: number }>>;
}

export { etcdBinary };

/** Starts `members` (default 3) etcd members forming one cluster and waits until it is healthy. */
export async function startEtcdCluster(opts: { members?: number; dir?: string } = {}): Promise<EtcdCluster> {
  const bin = etcdBinary();
  if (!bin) throw new Error('etcd is not installed (apt-get install etcd-server)');
  const n = opts.members ?? 3;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'skiff-etcd-cluster-'));
  const ownDir = !opts.dir;
  const specs: Array<{ name: string; client: string; peer: string; dataDir: string }> = [];
  for (let i = 0; i < n; i++) {
    const name = `m${i + 1}`;
    specs.push({
      name,
      client: `http://127.0.0.1:${await freePort()}`,
      peer: `http://127.0.0.1:${await freePort()}`,
      dataDir: join(dir, name),
    });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peer}`).join(',');
  const token = `skiff-test-${process.pid}-${Date.now()}`;

  const members: EtcdMember[] = specs.map((s) => {
    let child: ChildProcess | undefined;
    let exited: Promise<void> = Promise.resolve();
    let stderr = '';
    const launch = (): void => {
      mkdirSync(s.dataDir, { recursive: true });
      stderr = '';
      const c = spawn(bin, [
        '--name', s.name, '--data-dir', s.dataDir,
        '--listen-client-urls', s.client, '--advertise-client-urls', s.client,
        '--listen-peer-urls', s.peer, '--initial-advertise-peer-urls', s.peer,
        '--initial-cluster', initialCluster, '--initial-cluster-state', 'new',
        '--initial-cluster-token', token,
        // loopback: short heartbeats make elections fast after a kill
        '--heartbeat-interval', '100', '--election-timeout', '1000',
        '--log-level', 'error', '--logger', 'zap',
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
      exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      child = c;
    };
    const running = (): boolean => !!child && child.exitCode === null && child.signalCode === null;
    const member: EtcdMember = {
      name: s.name, endpoint: s.client, peerUrl: s.peer, dataDir: s.dataDir,
      running,
      pid: () => (running() ? child!.pid : undefined),
      kill: async (hard = true) => {
        if (running()) child!.kill(hard ? 'SIGKILL' : 'SIGTERM');
        await exited;
      },
      restart: async () => {
        if (running()) return;
        launch();
        await waitUntil(async () => {
          if (!running()) throw new Error(`etcd member ${s.name} exited: ${stderr}`);
          return memberUp(s.client);
        }, 20_000, `etcd member ${s.name} did not come back: ${stderr}`);
      },
    };
    launch();
    return member;
  });

  const waitHealthy = async (timeoutMs = 30_000): Promise<void> => {
    await waitUntil(async () => {
      for (const m of members) {
        if (m.running() && await healthy(m.endpoint)) return true;
      }
      return false;
    }, timeoutMs, 'etcd cluster did not become healthy');
  };
  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.kill(true)));
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    else for (const s of specs) rmSync(s.dataDir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const running = (): EtcdMember[] => members.filter((m) => m.running());
  const leader = async (): Promise<EtcdMember | undefined> => {
    const out = JSON.parse(await etcdctl(running().map((m) => m.endpoint), ['endpoint', 'status', '-w', 'json'])) as
      Array<{ Endpoint: string; Status: { header: { member_id: number }; leader: number } }>;
    const lead = out.find((s) => s.Status.leader === s.Status.header.member_id);
    return lead && members.find((m) => m.endpoint === lead.Endpoint);
  };
  const hashKV = async (revision: number): Promise<Array<{ member: string; hash: number; revision: number }>> => {
    const out = JSON.parse(await etcdctl(running().map((m) => m.endpoint), ['endpoint', 'hashkv', '--rev', String(revision), '-w', 'json'])) as
      Array<{ Endpoint: string; HashKV: { hash: number; header: { revision: number } } }>;
    return out.map((h) => ({ member: members.find((m) => m.endpoint === h.Endpoint)?.name ?? h.Endpoint, hash: h.HashKV.hash, revision: h.HashKV.header.revision }));
  };
  return { members, endpoints: members.map((m) => m.endpoint).join(','), dir, waitHealthy, stop, leader, hashKV };
}

/** etcdctl (API 3) against `endpoints`; resolves with stdout, rejects with stderr. */
function etcdctl(endpoints: string[], args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('etcdctl', ['--endpoints', endpoints.join(','), '--command-timeout', '10s', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' }, timeout: 20_000,
    }, (err, stdout, stderr) => (err ? reject(new Error(`etcdctl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

/** A restarted member answers /version as soon as it listens, even before it caught up. */
async function memberUp(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/version`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((r) => setTimeout(r, 150));
  }
}
