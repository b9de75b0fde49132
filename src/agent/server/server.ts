// The agent's kubelet-like HTTPS server: container logs read from CRI log files, and exec,
// attach and port-forward passed through to containerd's CRI streaming server (or, for
// WebSocket v5 and the port-forward tunnel, translated to SPDY: stream-translator.ts). Same paths
// and query names as the kubelet's, so the API server builds URLs the way kube-apiserver does.
// Every client must present a certificate signed by the cluster CA (TLS does the check),
// and be the API server's kubelet client or a cluster admin (caller.ts).
import https from 'node:https';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { streamCriLog, type LogReadOptions } from './cri-log.ts';
import { serveMetrics } from '../metrics/http.ts';
import { isWebSocketUpgrade, proxyUpgrade, websocketRefusal, writeRawResponse } from '../../util/upgrade-proxy.ts';
import { translateV5, tunnelPortForward, UpstreamError, wantsPortForwardTunnel, wantsV5 } from './stream-translator.ts';
import type { KubeletServer, KubeletServerOptions, PodStreamBackend, StreamFlags } from './types.ts';
import { checkCaller } from './caller.ts';
import { closerFor } from '../../util/close-server.ts';

type Reason = 'BadRequest' | 'Forbidden' | 'NotFound' | 'MethodNotAllowed' | 'InternalError' | 'BadGateway';

/** A failure answered as a Kubernetes Status (the API server relays its code and message). */
export class AgentError extends Error {
  constructor(readonly code: number, readonly reason: Reason, message: string) { super(message); }
  body(): string {
    return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code });
  }
}
const badRequest = (m: string) => new AgentError(400, 'BadRequest', m);
const notFound = (m: string) => new AgentError(404, 'NotFound', m);

type Route =
  | { kind: 'healthz' }
  | { kind: 'logs'; ns: string; pod: string; container: string }
  | { kind: 'exec' | 'attach'; ns: string; pod: string; container: string }
  | { kind: 'portForward'; ns: string; pod: string };

export function route(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 1 && parts[0] === 'healthz') return { kind: 'healthz' };
  if (parts[0] === 'containerLogs' && parts.length === 4) return { kind: 'logs', ns: parts[1]!, pod: parts[2]!, container: parts[3]! };
  // The kubelet also accepts /exec/{ns}/{pod}/{uid}/{container}; the container is last either way.
  if ((parts[0] === 'exec' || parts[0] === 'attach') && (parts.length === 4 || parts.length === 5)) {
    return { kind: parts[0], ns: parts[1]!, pod: parts[2]!, container: parts[parts.length - 1]! };
  }
  if (parts[0] === 'portForward' && (parts.length === 3 || parts.length === 4)) return { kind: 'portForward', ns: parts[1]!, pod: parts[2]! };
  return undefined;
}

const truthy = (v: string | null): boolean => v === '1' || v === 'true';

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}`);
}

function intParam(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}: must be an integer >= ${min}`);
  return Number(v);
}

/** The kubelet's log query: follow, previous, timestamps, tailLines, limitBytes, sinceSeconds, sinceTime. */
export function logOptions(q: URLSearchParams, now: number): LogReadOptions & { previous: boolean } {
  const sinceSeconds = intParam(q, 'sinceSeconds', 1);
  const sinceTime = q.get('sinceTime');
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = now - sinceSeconds * 1000;
  if (sinceTime) {
    const t = Date.parse(sinceTime);
    if (Number.isNaN(t)) throw badRequest(`invalid value for sinceTime: ${JSON.stringify(sinceTime)}: must be RFC 3339`);
    if (sinceMs !== undefined) throw badRequest('at most one of sinceTime or sinceSeconds may be specified');
    sinceMs = t;
  }
  return {
    follow: boolParam(q, 'follow'), previous: boolParam(q, 'previous'), timestamps: boolParam(q, 'timestamps'),
    tailLines: intParam(q, 'tailLines', 0), limitBytes: intParam(q, 'limitBytes', 1), sinceMs,
  };
}

function streamFlags(q: URLSearchParams): StreamFlags {
  const flags = { stdin: truthy(q.get('input')), stdout: truthy(q.get('output')), stderr: truthy(q.get('error')), tty: truthy(q.get('tty')) };
  if (!flags.stdin && !flags.stdout && !flags.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  // With a TTY, stderr is merged into stdout (as the kubelet does).
  if (flags.tty) flags.stderr = false;
  return flags;
}

function portsOf(q: URLSearchParams): number[] {
  const ports: number[] = [];
  for (const v of q.getAll('port')) {
    for (const p of v.split(',').map((s) => s.trim()).filter(Boolean)) {
      const n = Number(p);
      if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw badRequest(`invalid port ${JSON.stringify(p)}`);
      ports.push(n);
    }
  }
  return ports;
}

function containerOf(backend: PodStreamBackend, ns: string, pod: string, container: string) {
  const ref = backend.container(ns, pod, container);
  if (ref) return ref;
  if (!backend.sandbox(ns, pod)) throw notFound(`pod "${pod}" in namespace "${ns}" does not exist on this node`);
  throw notFound(`container "${container}" not found in pod "${pod}"`);
}

async function serveLogs(opts: KubeletServerOptions, r: Extract<Route, { kind: 'logs' }>, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const o = logOptions(q, Date.now());
  const ref = containerOf(opts.backend, r.ns, r.pod, r.container);
  const path = o.previous ? ref.previousLogPath : ref.logPath;
  if (!path) throw badRequest(`previous terminated container "${r.container}" in pod "${r.pod}" not found`);
  if (!(await stat(path).catch(() => undefined))) {
    throw badRequest(o.previous
      ? `previous terminated container "${r.container}" in pod "${r.pod}" not found`
      : `container "${r.container}" in pod "${r.pod}" has no log yet`);
  }
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  const ac = new AbortController();
  const abort = () => ac.abort();
  res.on('close', abort);
  req.on('close', () => { if (!res.writableFinished) abort(); });
  const write = async (chunk: Buffer) => {
    if (res.destroyed) { ac.abort(); return; }
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  // A previous instance has ended: nothing to follow.
  const follow = o.follow && !o.previous;
  const locate = () => {
    const now = opts.backend.container(r.ns, r.pod, r.container);
    return now && { path: now.logPath, containerId: now.containerId, running: now.running };
  };
  try {
    await streamCriLog(path, { ...o, follow }, write, ac.signal, follow ? { locate, pollMs: opts.followPollMs } : undefined);
    res.end();
  } catch (err) {
    opts.log.warn('log stream failed', { pod: `${r.ns}/${r.pod}`, container: r.container, error: String(err) });
    res.destroy();
  } finally {
    res.off('close', abort);
  }
}

async function handleRequest(opts: KubeletServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://agent');
  const caller = checkCaller(req, url.pathname); // the API server's kubelet client only (caller.ts)
  if (!caller.ok) throw new AgentError(403, 'Forbidden', caller.message);
  if (await serveMetrics(opts.metrics, url.pathname, req, res)) return; // /metrics, /metrics/resource
  const r = route(url.pathname);
  if (!r) throw notFound(`no handler for ${url.pathname}`);
  if (r.kind === 'healthz') { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('ok'); return; }
  if (r.kind === 'logs') {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new AgentError(405, 'MethodNotAllowed', `method ${req.method} not allowed`);
    return serveLogs(opts, r, url.searchParams, req, res);
  }
  throw badRequest('Upgrade request required');
}

/** Resolves the runtime's streaming URL for an exec, attach or port-forward request. */
async function streamingUrl(backend: PodStreamBackend, r: Exclude<Route, { kind: 'healthz' | 'logs' }>, q: URLSearchParams): Promise<URL> {
  if (r.kind === 'portForward') {
    const sandbox = backend.sandbox(r.ns, r.pod);
    if (!sandbox) throw notFound(`pod "${r.pod}" in namespace "${r.ns}" does not exist on this node`);
    return new URL(await backend.portForward(sandbox.podSandboxId, portsOf(q)));
  }
  const flags = streamFlags(q);
  const ref = containerOf(backend, r.ns, r.pod, r.container);
  const cmd = q.getAll('command');
  if (r.kind === 'exec' && !cmd.length) throw badRequest('you must specify at least one command for the container');
  try {
    return new URL(r.kind === 'exec' ? await backend.exec(ref.containerId, cmd, flags) : await backend.attach(ref.containerId, flags));
  } catch (err) {
    // containerd: "container is in CONTAINER_EXITED state" (1.6: pkg/cri/server/container_exec.go, container_attach.go).
    const state = /container is in (CONTAINER_\w+) state/.exec(String((err as Error)?.message ?? err))?.[1];
    if (state || !ref.running) throw badRequest(`container "${r.container}" in pod "${r.pod}" is not running${state ? ` (${state})` : ''}`);
    throw err;
  }
}

async function handleUpgrade(opts: KubeletServerOptions, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://agent');
  const caller = checkCaller(req, url.pathname);
  if (!caller.ok) throw new AgentError(403, 'Forbidden', caller.message);
  const r = route(url.pathname);
  if (!r || r.kind === 'healthz' || r.kind === 'logs') throw notFound(`no upgrade handler for ${url.pathname}`);
  if (req.method !== 'GET' && req.method !== 'POST') throw new AgentError(405, 'MethodNotAllowed', `method ${req.method} not allowed`);
  // WebSocket: v5 (exec, attach) translated to SPDY towards the runtime; otherwise passed
  // through when the runtime speaks one of the offered subprotocols, refused (400, so kubectl
  // falls back to SPDY) when it does not.
  let translate: 'v5' | 'tunnel' | undefined;
  if (isWebSocketUpgrade(req)) {
    const refused = websocketRefusal(req, r.kind === 'portForward' ? 'portforward' : r.kind);
    if (refused) throw badRequest(refused);
    if (req.method !== 'GET') throw new AgentError(405, 'MethodNotAllowed', `a WebSocket upgrade must be a GET, not ${req.method}`);
    if (r.kind === 'portForward') {
      if (wantsPortForwardTunnel(req)) translate = 'tunnel';
      // Over WebSocket the runtime forwards the ports of the CRI request (one channel pair each).
      else if (!portsOf(url.searchParams).length) throw badRequest('query parameter "port" is required for a WebSocket port-forward');
    } else if (wantsV5(req)) translate = 'v5';
  }
  let target: URL;
  try {
    target = await streamingUrl(opts.backend, r, url.searchParams);
  } catch (err) {
    if (err instanceof AgentError) throw err;
    throw new AgentError(500, 'InternalError', `${r.kind} failed: ${(err as Error)?.message ?? String(err)}`);
  }
  try {
    if (translate === 'v5') await translateV5(req, socket, head, target, streamFlags(url.searchParams), opts.log);
    else if (translate === 'tunnel') await tunnelPortForward(req, socket, head, target, opts.log);
    else await proxyUpgrade(req, socket, head, target);
  } catch (err) {
    if (err instanceof UpstreamError) throw new AgentError(err.code === 504 ? 502 : err.code, err.code < 500 ? 'BadRequest' : 'BadGateway', err.message);
    throw new AgentError(502, 'BadGateway', `cannot reach the container runtime's streaming server: ${(err as Error)?.message ?? String(err)}`);
  }
}

function answer(opts: KubeletServerOptions, what: string, err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  opts.log.error(`${what} failed`, { error: (err as Error)?.stack ?? String(err) });
  return new AgentError(500, 'InternalError', (err as Error)?.message ?? String(err));
}

export async function startKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  const server = https.createServer({
    cert: opts.tls.certPem, key: opts.tls.keyPem, ca: opts.clientCaPem,
    requestCert: true, rejectUnauthorized: true,
  }, (req, res) => {
    handleRequest(opts, req, res).catch((err) => {
      const e = answer(opts, 'request', err);
      if (res.headersSent) { res.destroy(); return; }
      res.writeHead(e.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(e.body()) });
      res.end(e.body());
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    handleUpgrade(opts, req, socket, head).catch((err) => {
      const e = answer(opts, 'upgrade', err);
      writeRawResponse(socket, e.code, 'application/json', e.body());
    });
  });
  server.on('tlsClientError', (err) => opts.log.debug('TLS handshake failed', { error: String(err) }));
  server.requestTimeout = 0; // log follows are long-lived
  const closeServer = closerFor(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve(); });
  });
  return { port: (server.address() as AddressInfo).port, close: closeServer };
}
