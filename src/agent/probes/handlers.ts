// Probe and lifecycle-hook handlers, as the kubelet runs them (pkg/probe/{exec,http,tcp,grpc},
// pkg/kubelet/lifecycle/handlers.go). One function, `runHandler`, runs whichever action the
// handler names and answers { ok, message } with the kubelet's wording, so the messages users
// see in events and `kubectl describe` match what they know.
//
// The container runtime is behind `ctx.execSync`; everything else is plain sockets from the
// node's network namespace to the pod IP.
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { realTimers, type Timers } from '../../client/timers.ts';

/** The kubelet's version as probes announce it (`User-Agent: kube-probe/1.32`). */
export const KUBE_MINOR_VERSION = '1.32';
/** The kubelet reads at most this much probe output (exec) or response body (httpGet). */
export const MAX_OUTPUT_BYTES = 10 * 1024;

export interface ExecAction { command?: string[] }
export interface HTTPHeader { name: string; value: string }
export interface HTTPGetAction {
  path?: string;
  port: number | string;
  host?: string;
  scheme?: string;
  httpHeaders?: HTTPHeader[];
}
export interface TCPSocketAction { port: number | string; host?: string }
export interface GRPCAction { port: number; service?: string }
export interface SleepAction { seconds: number }

/** A Probe's or a LifecycleHandler's action: exactly one of these is set. */
export interface Handler {
  exec?: ExecAction;
  httpGet?: HTTPGetAction;
  tcpSocket?: TCPSocketAction;
  grpc?: GRPCAction;
  sleep?: SleepAction;
}

export interface Probe extends Handler {
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  terminationGracePeriodSeconds?: number;
}

export interface ContainerPort { name?: string; containerPort: number; protocol?: string }

/** The part of a v1 Container the probes read. */
export interface ProbedContainer {
  name: string;
  ports?: ContainerPort[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { postStart?: Handler; preStop?: Handler };
}

export interface ExecSyncResult { stdout: Uint8Array; stderr: Uint8Array; exitCode: number }

/**
 * Runs a command in the container (CRI ExecSync). `timeoutSeconds` 0 means no timeout.
 * On timeout reject with an error whose `code` is 4 (gRPC DEADLINE_EXCEEDED, as a grpc-js
 * ServiceError has) or whose `name` is 'TimeoutError'.
 */
export type ExecSync = (cmd: string[], timeoutSeconds: number) => Promise<ExecSyncResult>;

export interface HandlerContext {
  /** Default host for httpGet, tcpSocket and grpc. */
  podIP: string;
  /** For named ports. */
  container: { name?: string; ports?: ContainerPort[] };
  execSync: ExecSync;
  /** 'probe' (default) or 'lifecycle': changes the User-Agent and what counts as success. */
  purpose?: 'probe' | 'lifecycle';
  /**
   * Overrides the handler's own timeoutSeconds. Probes default to 1 s; lifecycle hooks have
   * no timeout of their own (pass `signal` to cut them off at the grace period).
   */
  timeoutSeconds?: number;
  /** Aborts the handler (e.g. preStop when the grace period runs out). */
  signal?: AbortSignal;
  /** For the sleep action; real timers by default. */
  timers?: Timers;
}

export interface HandlerResult {
  ok: boolean;
  message: string;
  /**
   * The kubelet's probe.Warning: counted as success (an HTTP probe that stopped at a redirect
   * to another host). The kubelet records a ProbeWarning event for it.
   */
  warning?: boolean;
  /**
   * The kubelet's prober error (probe.Unknown: bad port name, exec that could not run): the
   * kubelet throws such a result away rather than counting it as a failure.
   */
  unknown?: boolean;
}

/** Runs a probe or lifecycle handler once. Never throws. */
export async function runHandler(handler: Handler, ctx: HandlerContext): Promise<HandlerResult> {
  const purpose = ctx.purpose ?? 'probe';
  const timeoutSeconds = ctx.timeoutSeconds ?? (handler as Probe).timeoutSeconds ?? (purpose === 'probe' ? 1 : 0);
  try {
    if (ctx.signal?.aborted) return { ok: false, message: 'handler aborted' };
    if (handler.exec) return await runExec(handler.exec, ctx, timeoutSeconds);
    if (handler.httpGet) return await runHttpGet(handler.httpGet, ctx, purpose, timeoutSeconds);
    if (handler.tcpSocket) {
      if (purpose === 'lifecycle') {
        return { ok: false, message: 'Cannot run handler: invalid handler: tcpSocket is not supported as a lifecycle handler' };
      }
      return await runTcp(handler.tcpSocket, ctx, timeoutSeconds);
    }
    if (handler.grpc) {
      if (purpose === 'lifecycle') return { ok: false, message: 'Cannot run handler: invalid handler: grpc is not a lifecycle handler' };
      return await runGrpc(handler.grpc, ctx, timeoutSeconds);
    }
    if (handler.sleep) {
      if (purpose === 'probe') return { ok: false, unknown: true, message: 'unknown probe type: sleep' };
      return await runSleep(handler.sleep, ctx);
    }
    return purpose === 'probe'
      ? { ok: false, unknown: true, message: 'missing probe handler' }
      : { ok: false, message: 'Cannot run handler: invalid handler: no action' };
  } catch (err) {
    return { ok: false, unknown: true, message: errorMessage(err) };
  }
}

// ---- exec -------------------------------------------------------------------------------

async function runExec(action: ExecAction, ctx: HandlerContext, timeoutSeconds: number): Promise<HandlerResult> {
  const cmd = action.command ?? [];
  if (cmd.length === 0) return { ok: false, unknown: true, message: 'exec: no command given' };
  const timedOut = `command ${JSON.stringify(cmd.join(' '))} timed out`;
  // The runtime enforces the timeout; this guard only stops a hung runtime call from
  // holding the worker forever.
  let guard: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stops: Promise<HandlerResult>[] = [];
  if (timeoutSeconds > 0) {
    stops.push(new Promise((resolve) => {
      guard = setTimeout(() => resolve({ ok: false, message: timedOut }), timeoutSeconds * 1000 + 5_000);
      guard.unref?.();
    }));
  }
  if (ctx.signal) {
    const signal = ctx.signal;
    stops.push(new Promise((resolve) => {
      onAbort = () => resolve({ ok: false, message: 'handler aborted' });
      signal.addEventListener('abort', onAbort, { once: true });
    }));
  }
  const run = ctx.execSync(cmd, timeoutSeconds).then(
    (res): HandlerResult => {
      const output = limitOutput(Buffer.concat([Buffer.from(res.stdout), Buffer.from(res.stderr)]));
      return { ok: res.exitCode === 0, message: output };
    },
    (err: unknown): HandlerResult => {
      if (isTimeout(err)) return { ok: false, message: timedOut };
      return { ok: false, unknown: true, message: errorMessage(err) };
    },
  );
  try {
    return await Promise.race([run, ...stops]);
  } finally {
    if (guard) clearTimeout(guard);
    if (onAbort) ctx.signal?.removeEventListener('abort', onAbort);
  }
}

function isTimeout(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown } | null;
  return !!e && (e.code === 4 || e.name === 'TimeoutError');
}

function limitOutput(buf: Buffer): string {
  return (buf.length > MAX_OUTPUT_BYTES ? buf.subarray(0, MAX_OUTPUT_BYTES) : buf).toString('utf8');
}

// ---- ports and addresses ----------------------------------------------------------------

class PortError extends Error {}

/** The kubelet's probe.ResolveContainerPort: a number, a numeric string, or a port name. */
export function resolvePort(port: number | string, container: { ports?: ContainerPort[] }): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else {
    const named = container.ports?.find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else throw new PortError(`port ${port} not found`);
  }
  if (Number.isInteger(n) && n > 0 && n < 65536) return n;
  throw new PortError(`invalid port number: ${n}`);
}

/** Go's net.JoinHostPort: IPv6 literals in brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A socket error worded as Go's net package words it. */
function dialMessage(err: NodeJS.ErrnoException, hostPort: string, host: string): string {
  switch (err.code) {
    case 'ECONNREFUSED': return `dial tcp ${hostPort}: connect: connection refused`;
    case 'EHOSTUNREACH': return `dial tcp ${hostPort}: connect: no route to host`;
    case 'ENETUNREACH': return `dial tcp ${hostPort}: connect: network is unreachable`;
    case 'EADDRNOTAVAIL': return `dial tcp ${hostPort}: connect: cannot assign requested address`;
    case 'ETIMEDOUT': return `dial tcp ${hostPort}: i/o timeout`;
    case 'ENOTFOUND': return `dial tcp: lookup ${host}: no such host`;
    case 'EAI_AGAIN': return `dial tcp: lookup ${host}: temporary failure in name resolution`;
    case 'ECONNRESET': return err.message === 'socket hang up' ? 'EOF' : 'read: connection reset by peer';
    case 'EPIPE': return 'write: broken pipe';
    default: return err.message;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- tcpSocket --------------------------------------------------------------------------

function runTcp(action: TCPSocketAction, ctx: HandlerContext, timeoutSeconds: number): Promise<HandlerResult> {
  let port: number;
  try {
    port = resolvePort(action.port, ctx.container);
  } catch (err) {
    return Promise.resolve({ ok: false, unknown: true, message: errorMessage(err) });
  }
  const host = action.host || ctx.podIP;
  const hostPort = joinHostPort(host, port);
  return new Promise((resolve) => {
    let done = false;
    const socket = net.connect({ host, port });
    const finish = (r: HandlerResult): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = (): void => finish({ ok: false, message: 'handler aborted' });
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = timeoutSeconds > 0
      ? setTimeout(() => finish({ ok: false, message: `dial tcp ${hostPort}: i/o timeout` }), timeoutSeconds * 1000)
      : undefined;
    socket.once('connect', () => finish({ ok: true, message: '' }));
    socket.once('error', (err) => finish({ ok: false, message: dialMessage(err, hostPort, host) }));
  });
}

// ---- httpGet ----------------------------------------------------------------------------

interface HttpResponse { status: number; location?: string; body: string }

class HttpFailure extends Error {
  constructor(message: string, readonly tlsGotHttp = false) {
    super(message);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

async function runHttpGet(
  action: HTTPGetAction, ctx: HandlerContext, purpose: 'probe' | 'lifecycle', timeoutSeconds: number,
): Promise<HandlerResult> {
  let port: number;
  try {
    port = resolvePort(action.port, ctx.container);
  } catch (err) {
    return { ok: false, unknown: true, message: errorMessage(err) };
  }
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return { ok: false, unknown: true, message: `unsupported scheme: ${action.scheme}` };
  const host = action.host || ctx.podIP;
  let path = action.path ?? '/';
  if (!path.startsWith('/')) path = `/${path}`;
  const first = new URL(`${scheme}://${joinHostPort(host, port)}${path}`);
  const headers = requestHeaders(action.httpHeaders ?? [], purpose);
  const deadline = timeoutSeconds > 0 ? Date.now() + timeoutSeconds * 1000 : undefined;

  // The kubelet follows redirects to the same host only; otherwise it keeps the 3xx.
  const sameHost = (location: string, base: URL): boolean => {
    try {
      return new URL(location, base).hostname === first.hostname;
    } catch {
      return false;
    }
  };
  const follow = async (start: URL): Promise<HttpResponse> => {
    let url = start;
    for (let requests = 1; ; requests++) {
      const res = await getOnce(url, headers, deadline, ctx.signal, (location) => sameHost(location, url));
      if (res.location === undefined) return res;
      const next = new URL(res.location, url);
      if (requests >= 10) throw new HttpFailure(`Get ${JSON.stringify(next.href)}: stopped after 10 redirects`);
      url = next;
    }
  };

  let res: HttpResponse;
  try {
    res = await follow(first);
  } catch (err) {
    if (err instanceof HttpFailure && err.tlsGotHttp && purpose === 'lifecycle') {
      // As the kubelet does for hooks: an HTTPS hook answered in plain HTTP is retried over HTTP.
      const plain = new URL(first.href);
      plain.protocol = 'http:';
      try {
        await follow(plain);
        return { ok: true, message: '' };
      } catch (retryErr) {
        return { ok: false, message: errorMessage(retryErr) };
      }
    }
    return { ok: false, message: errorMessage(err) };
  }
  // A hook succeeds on any response; a probe on 2xx and 3xx.
  if (purpose === 'lifecycle') return { ok: true, message: '' };
  if (res.status >= 200 && res.status < 400) {
    if (res.status >= 300) return { ok: true, warning: true, message: `Probe terminated redirects, Response body: ${res.body}` };
    return { ok: true, message: res.body };
  }
  return { ok: false, message: `HTTP probe failed with statuscode: ${res.status}` };
}

function requestHeaders(list: HTTPHeader[], purpose: 'probe' | 'lifecycle'): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const { name, value } of list) {
    const key = name.toLowerCase();
    const prev = headers[key];
    headers[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  headers['user-agent'] ??= `kube-${purpose}/${KUBE_MINOR_VERSION}`;
  headers.accept ??= '*/*';
  // The Go client does not keep probe connections alive.
  headers.connection = 'close';
  return headers;
}

/**
 * One GET. A redirect the caller will follow (`follow(location)`) comes back with its
 * `location` and no body; any other response with at most MAX_OUTPUT_BYTES of its body.
 */
function getOnce(
  url: URL, headers: Record<string, string | string[]>, deadline: number | undefined,
  signal: AbortSignal | undefined, follow: (location: string) => boolean,
): Promise<HttpResponse> {
  const where = `Get ${JSON.stringify(url.href)}`;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const hostPort = joinHostPort(hostname, port);
  return new Promise((resolve, reject) => {
    let done = false;
    let phase: 'headers' | 'body' = 'headers';
    const chunks: Buffer[] = [];
    let size = 0;
    const options: https.RequestOptions = {
      hostname, port, path: `${url.pathname}${url.search}`, method: 'GET', headers, agent: false,
      // The kubelet does not verify a probe's certificate.
      rejectUnauthorized: false,
    };
    const req = url.protocol === 'https:' ? https.request(options) : http.request(options);
    const finish = (err: Error | undefined, res?: HttpResponse): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const onAbort = (): void => finish(new HttpFailure(`${where}: context canceled`));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = deadline !== undefined
      ? setTimeout(() => finish(new HttpFailure(phase === 'headers'
        ? `${where}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
        : `${where}: context deadline exceeded (Client.Timeout or context cancellation while reading body)`)),
      Math.max(0, deadline - Date.now()))
      : undefined;
    req.on('error', (err: NodeJS.ErrnoException) => {
      const tlsGotHttp = url.protocol === 'https:' && (err.code === 'EPROTO' || String(err.code).startsWith('ERR_SSL'))
        && /wrong version number|http request|packet length too long/i.test(err.message);
      finish(new HttpFailure(tlsGotHttp
        ? `${where}: http: server gave HTTP response to HTTPS client`
        : `${where}: ${dialMessage(err, hostPort, hostname)}`, tlsGotHttp));
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location !== undefined && follow(location)) {
        finish(undefined, { status, location, body: '' });
        return;
      }
      phase = 'body';
      const complete = (): void => finish(undefined, { status, body: Buffer.concat(chunks).toString('utf8') });
      res.on('data', (chunk: Buffer) => {
        const room = MAX_OUTPUT_BYTES - size;
        if (chunk.length >= room) {
          chunks.push(chunk.subarray(0, room));
          size = MAX_OUTPUT_BYTES;
          complete(); // truncation is not an error
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', complete);
      res.on('error', (err: NodeJS.ErrnoException) => finish(new HttpFailure(`${where}: ${dialMessage(err, hostPort, hostname)}`)));
      res.on('aborted', () => finish(new HttpFailure(`${where}: unexpected EOF`)));
    });
    req.end();
  });
}

// ---- grpc -------------------------------------------------------------------------------

const HEALTH_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** grpc.health.v1.HealthCheckRequest { string service = 1; } */
function encodeHealthRequest(service: string): Buffer {
  if (!service) return Buffer.alloc(0);
  const bytes = Buffer.from(service, 'utf8');
  const len: number[] = [];
  let n = bytes.length;
  while (n > 0x7f) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([0x0a, ...len]), bytes]);
}

/** grpc.health.v1.HealthCheckResponse { ServingStatus status = 1; } — the status only. */
export function decodeHealthStatus(buf: Buffer): number {
  let i = 0;
  let status = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated message');
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const v = varint();
      if (field === 1) status = v;
    } else if (wire === 2) {
      const len = varint(); // read before adding: `i += varint()` would use the old i
      i += len;
    }
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`bad wire type ${wire}`);
  }
  return status;
}

async function runGrpc(action: GRPCAction, ctx: HandlerContext, timeoutSeconds: number): Promise<HandlerResult> {
  const port = action.port;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    return { ok: false, unknown: true, message: `invalid port number: ${port}` };
  }
  // loaded on first use: grpc-js costs the agent several MB of RSS, and only pods with a
  // grpc probe need it (the CRI client speaks gRPC itself, see ../cri/README.md)
  const grpc = await import('@grpc/grpc-js');
  const addr = joinHostPort(ctx.podIP, port);
  const seconds = timeoutSeconds > 0 ? timeoutSeconds : 1;
  const deadline = Date.now() + seconds * 1000;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
    'grpc.primary_user_agent': `kube-probe/${KUBE_MINOR_VERSION}`,
  });
  return new Promise<HandlerResult>((resolve) => {
    client.waitForReady(deadline, (err) => {
      if (err) {
        resolve({ ok: false, message: `timeout: failed to connect service ${JSON.stringify(addr)} within ${seconds}s: context deadline exceeded` });
        return;
      }
      client.makeUnaryRequest<Buffer, Buffer>(
        '/grpc.health.v1.Health/Check',
        (b) => b,
        (b) => b,
        encodeHealthRequest(action.service ?? ''),
        { deadline },
        (callErr, reply) => {
          if (callErr) {
            if (callErr.code === grpc.status.UNIMPLEMENTED) {
              resolve({ ok: false, message: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${callErr.details}` });
            } else if (callErr.code === grpc.status.DEADLINE_EXCEEDED) {
              resolve({ ok: false, message: `timeout: health rpc did not complete within ${seconds}s` });
            } else {
              resolve({ ok: false, message: `error: health rpc probe failed: rpc error: code = ${grpc.status[callErr.code]} desc = ${callErr.details}` });
            }
            return;
          }
          let status: number;
          try {
            status = decodeHealthStatus(reply ?? Buffer.alloc(0));
          } catch (decodeErr) {
            resolve({ ok: false, message: `error: health rpc probe failed: ${errorMessage(decodeErr)}` });
            return;
          }
          if (status !== 1) {
            resolve({ ok: false, message: `service unhealthy (responded with ${JSON.stringify(HEALTH_STATUS[status] ?? String(status))})` });
          } else resolve({ ok: true, message: 'service healthy' });
        },
      );
    });
  }).finally(() => client.close());
}

// ---- sleep ------------------------------------------------------------------------------

function runSleep(action: SleepAction, ctx: HandlerContext): Promise<HandlerResult> {
  const timers = ctx.timers ?? realTimers;
  const seconds = Math.max(0, action.seconds ?? 0);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      resolve({ ok: false, message: 'container terminated before sleep hook finished' });
    };
    const handle = timers.setTimeout(() => {
      ctx.signal?.removeEventListener('abort', onAbort);
      resolve({ ok: true, message: '' });
    }, seconds * 1000);
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
