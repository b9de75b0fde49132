// Starts a real `skiff server` (the CLI, as a user runs it) on a free port with a
// temporary data dir, and gives tests kubectl and plain HTTPS access to it.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import net from 'node:net';
import { once } from 'node:events';
import YAML from 'yaml';
import { LineSplitter } from '../../src/client/ndjson.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';

export interface TestServer {
  url: string;
  dataDir: string;
  kubeconfig: string;
  process: ChildProcess;
  /** Runs kubectl against the server; resolves with its output, never throws on exit code. */
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Like kubectl() but throws with stderr on a non-zero exit. */
  kubectlOk(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  request(method: string, path: string, opts?: RequestOptions): Promise<HttpResult>;
  /** Opens a watch (`path` with `watch=1`) and collects its events until `until` says stop. */
  watchEvents(path: string, until: (events: any[]) => boolean, timeoutMs?: number): Promise<any[]>;
  /** With an agent: the node's name. */
  nodeName?: string;
  /** With an agent: the port its Ingress controller listens on (a free one, picked at start). */
  ingressPort?: number;
  /** Everything the server printed on stdout so far. */
  output(): string;
  /** Stops the server; with an agent and a temporary data dir, `skiff killall` cleans up its pods too. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** `skiff killall --data-dir` for this server's agent. */
  killall(): Promise<void>;
}

export interface StartServerOptions {
  dataDir?: string;
  args?: string[];
  /** Run the node agent (containerd) too; off by default, as most tests need only the API. */
  agent?: boolean;
  /** With agent: the pod network (default a /16 of 10.100-249.x.x picked per process, so parallel test servers do not collide). */
  clusterCidr?: string;
}

let cidrSeq = 0;
/** A /16 for one test server's pods, unlikely to be used by another test process at the same time. */
export function testClusterCidr(): string {
  return `10.${100 + ((process.pid * 7 + cidrSeq++ * 13) % 150)}.0.0/16`;
}

/**
 * Networks for one test server with an agent: pods in the low half of a /16, Services in
 * the high half. Agents of parallel test servers share this machine's network namespace,
 * so their service proxies and DNS addresses must not overlap.
 */
export function testNetworks(): { clusterCidr: string; serviceCidr: string; clusterDns: string; args: string[] } {
  const x = 100 + ((process.pid * 7 + cidrSeq++ * 13) % 150);
  const n = { clusterCidr: `10.${x}.0.0/17`, serviceCidr: `10.${x}.128.0/17`, clusterDns: `10.${x}.128.10` };
  return { ...n, args: ['--cluster-cidr', n.clusterCidr, '--service-cidr', n.serviceCidr, '--cluster-dns', n.clusterDns] };
}

/** Runs the CLI (`skiff ...`) to completion. */
export function skiff(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/skiff.js'), ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr });
    });
  });
}

/** Why agent tests cannot run here, or undefined when they can. */
export function agentUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containerd, runc and CNI run pods)';
  for (const bin of ['/usr/bin/containerd', '/usr/sbin/runc', '/usr/lib/cni/bridge']) {
    if (!existsSync(bin)) return `${bin} is missing: apt-get install containerd runc containernetworking-plugins`;
  }
  return undefined;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string | Buffer;
  contentType?: string;
  accept?: string;
  /** Send no client certificate (anonymous). */
  anonymous?: boolean;
  headers?: Record<string, string>;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export async function startServer(opts: StartServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'skiff-test-'));
  const networkArgs = opts.clusterCidr ? ['--cluster-cidr', opts.clusterCidr] : testNetworks().args;
  const ingressPort = opts.agent ? await freePort() : undefined;
  const extra = opts.agent
    ? ['--kubelet-port', '0', '--ingress-http-port', String(ingressPort), ...networkArgs, '--node-name', `node-${path.basename(dataDir).toLowerCase().replace(/[^a-z0-9-]/g, '')}`]
    : ['--disable-agent'];
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/skiff.js'), 'server', '--data-dir', dataDir, '--https-listen-port', '0', ...extra, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stderr!.on('data', (d) => { errors += d; });
  // A server (and its agent) that does not come up is stopped and cleaned up, not left running.
  const giveUp = async (err: unknown): Promise<never> => {
    child.kill('SIGKILL');
    if (opts.agent) await skiff(['killall', '--data-dir', dataDir]);
    throw err;
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not become ready in 60 s:\n${output}\n${errors}`)), 60_000);
    child.stdout!.on('data', (d) => {
      output += d;
      const m = output.match(/ready at (https:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}\n${errors}`)); });
  }).catch(giveUp);
  let nodeName: string | undefined;
  if (opts.agent) {
    nodeName = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent did not become ready in 60 s:\n${output}\n${errors}`)), 60_000);
      const check = () => {
        const m = output.match(/skiff agent: node (\S+) ready/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
        const failed = errors.match(/skiff agent: not started: .*/);
        if (failed) { clearTimeout(timer); reject(new Error(failed[0])); }
      };
      check();
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
    }).catch(giveUp);
  }
  const kubeconfig = path.join(dataDir, 'kubeconfig.yaml');
  const kc = YAML.parse(readFileSync(kubeconfig, 'utf8'));
  const ca = Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64');
  const cert = Buffer.from(kc.users[0].user['client-certificate-data'], 'base64');
  const key = Buffer.from(kc.users[0].user['client-key-data'], 'base64');
  const agent = new https.Agent({ ca, cert, key, keepAlive: true });
  const anonAgent = new https.Agent({ ca, keepAlive: true });

  const kubectl: TestServer['kubectl'] = (args, o = {}) => new Promise((resolve) => {
    const p = execFile(KUBECTL, args, {
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dataDir, ...(o.env ?? {}) },
      timeout: o.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr });
    });
    if (o.input !== undefined) p.stdin!.end(o.input); else p.stdin!.end();
  });

  const killall = async () => {
    const r = await skiff(['killall', '--data-dir', dataDir]);
    if (r.code !== 0) throw new Error(`skiff killall failed (${r.code}): ${r.stderr}${r.stdout}`);
  };
  const server: TestServer = {
    url, dataDir, kubeconfig, process: child, kubectl, nodeName, ingressPort, killall,
    output: () => output,
    async kubectlOk(args, o) {
      const r = await kubectl(args, o);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    request: (method, p, o = {}) => new Promise((resolve, reject) => {
      const body = o.rawBody ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined);
      const req = https.request(url + p, {
        method, agent: o.anonymous ? anonAgent : agent,
        headers: {
          ...(body !== undefined ? { 'Content-Type': o.contentType ?? 'application/json' } : {}),
          ...(o.accept ? { Accept: o.accept } : {}),
          ...(o.headers ?? {}),
        },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { text += d; });
        res.on('end', () => {
          let json: any;
          try { json = JSON.parse(text); } catch { json = undefined; }
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
      });
      req.on('error', reject);
      // A request that hangs is a failure to report, not a test run that never ends.
      req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${p} got no answer in 15 s`)));
      req.end(body);
    }),
    watchEvents: (p, until, timeoutMs = 10_000) => new Promise((resolve, reject) => {
      const events: any[] = [];
      const req = https.get(url + p, { agent }, (res) => {
        let done = false;
        const lines = new LineSplitter((line) => {
          if (done) return; // the rest of a chunk after `until` held
          events.push(JSON.parse(line));
          if (until(events)) { done = true; clearTimeout(timer); req.destroy(); resolve(events); }
        });
        res.setEncoding('utf8');
        res.on('data', (d: string) => lines.push(d));
        res.on('end', () => { clearTimeout(timer); resolve(events); });
      });
      const timer = setTimeout(() => { req.destroy(); reject(new Error(`watch timed out with ${JSON.stringify(events)}`)); }, timeoutMs);
      req.on('error', (err) => { if (!req.destroyed) reject(err); });
    }),
    async stop(signal = 'SIGTERM') {
      agent.destroy();
      anonAgent.destroy();
      if (child.exitCode === null) {
        child.kill(signal);
        await once(child, 'exit');
      }
      if (opts.agent && !opts.dataDir) await killall();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** A TCP port nothing listens on right now (bound to 0, then released). */
export async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '0.0.0.0');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
