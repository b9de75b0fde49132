// Starts a throwaway single-member etcd on loopback ports, for tests and the benchmark.
// Needs the `etcd` binary (Debian: etcd-server); `etcdBinary()` says whether it is there.
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalEtcd {
  endpoint: string;
  dataDir: string;
  process: ChildProcess;
  /** Kills etcd (SIGKILL with `hard`) and waits for it to exit; keeps the data dir. */
  kill(hard?: boolean): Promise<void>;
  /** Kills etcd and removes its data dir. */
  stop(): Promise<void>;
}

export function etcdBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts etcd (on `dataDir` if given, else a new temp dir) and waits until it serves. */
/** Serve clients over TLS with these PEM files, requiring client certificates signed by `ca`. */
export interface LocalEtcdTls { ca: string; cert: string; key: string; clientCert: string; clientKey: string }

export async function startEtcd(opts: { dataDir?: string; clientPort?: number; extraArgs?: string[]; tls?: LocalEtcdTls } = {}): Promise<LocalEtcd> {
  const bin = etcdBinary();
  if (!bin) throw new Error('etcd is not installed (apt-get install etcd-server)');
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'skiff-etcd-'));
  const clientPort = opts.clientPort ?? await freePort();
  const peerPort = await freePort();
  const endpoint = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const tlsArgs = opts.tls
    ? ['--cert-file', opts.tls.cert, '--key-file', opts.tls.key, '--client-cert-auth', '--trusted-ca-file', opts.tls.ca]
    : [];
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(bin, [
    '--name', 'default', '--data-dir', join(dataDir, 'member-data'),
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `default=${peer}`, '--log-level', 'error', '--logger', 'zap',
    ...tlsArgs, ...(opts.extraArgs ?? []),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (hard = false): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd exited: ${stderr}`);
    if (await healthy(endpoint, opts.tls)) break;
    if (Date.now() > deadline) { await kill(true); throw new Error(`etcd did not start: ${stderr}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint, dataDir, process: child, kill,
    stop: async () => { await kill(); if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true }); },
  };
}

async function healthy(endpoint: string, tls?: LocalEtcdTls): Promise<boolean> {
  try {
    if (!tls) {
      const res = await fetch(`${endpoint}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    }
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`${endpoint}/health`, {
        ca: readFileSync(tls.ca), cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey),
      }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => { text += d.toString(); });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    return (JSON.parse(body) as { health?: string }).health === 'true';
  } catch {
    return false; // not up yet
  }
}
