// A real OCI registry for tests: Debian's docker-registry (distribution 2.8) on
// 127.0.0.1:<free port> with its own storage dir, optionally with htpasswd (bcrypt) auth.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  /** "http://127.0.0.1:PORT" */
  url: string;
  /** its access log and errors so far */
  output(): string;
  stop(): Promise<void>;
}

/** Why a registry cannot run here, or undefined. */
export function registryUnavailable(): string | undefined {
  if (!existsSync(REGISTRY_BINARY)) return `${REGISTRY_BINARY} is missing: apt-get install -y docker-registry (scripts/install-deps.sh installs it)`;
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * An htpasswd line with a bcrypt hash, which is all distribution's htpasswd auth accepts.
 * Node has no bcrypt; glibc's crypt(3) (libxcrypt) does, and Perl (perl-base, always on
 * Debian) calls it.
 */
export function htpasswdLine(user: string, password: string): string {
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const salt = [...randomBytes(22)].map((b) => alphabet[b % 64]).join('');
  const hash = execFileSync('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, `$2b$05$${salt}`], { encoding: 'utf8' });
  if (!hash.startsWith('$2b$')) throw new Error(`this libc's crypt() cannot make bcrypt hashes (got ${JSON.stringify(hash)})`);
  return `${user}:${hash}`;
}

export async function startRegistry(opts: { users?: Record<string, string> } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const lines = [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: false}}',
    `storage: {filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}}, delete: {enabled: true}}`,
    `http: {addr: ${JSON.stringify(host)}}`,
  ];
  if (opts.users) {
    const file = path.join(dir, 'htpasswd');
    writeFileSync(file, Object.entries(opts.users).map(([u, p]) => htpasswdLine(u, p)).join('\n') + '\n');
    lines.push(`auth: {htpasswd: {realm: skiff-test, path: ${JSON.stringify(file)}}}`);
  }
  writeFileSync(path.join(dir, 'config.yml'), lines.join('\n') + '\n');
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry exited with ${child.exitCode}:\n${output}`);
    }
    const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
    if (res && (res.status === 200 || res.status === 401)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on ${host} in 10 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, url: `http://${host}`, output: () => output, stop };
}
